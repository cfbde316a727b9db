#pragma once
// DashScope pass-through: native requests from the official DashScope SDKs (base_http_api_url
// pointed at <hub>/dashscope/api/v1) are forwarded with the hub's upstream key pool and their
// answers relayed as they are, streams included. Only the documented paths below are
// forwarded, always to the configured DashScope host; the body's model must be a catalog
// model the caller may use. Async task ids seen in submit answers are recorded with their
// owner: a task is only visible to (and billed to) the user who submitted it. Every call
// writes one api_calls row (tokens, latency, time to first token, cost, status, DashScope's
// request id; images are billed when a poll first sees the task finished).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "async/offload.hpp"
#include "bailian/client.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "services/api_keys.hpp"
#include "services/models.hpp"
#include "services/usage.hpp"
#include "store/store.hpp"

namespace hub::services {

inline constexpr std::string_view kPassthroughPrefix = "/dashscope";

enum class PassKind {
    kChat,         // text-generation (chat models)
    kMultimodal,   // multimodal-generation (vision and chat models)
    kImageSubmit,  // async image synthesis: needs X-DashScope-Async, answers a task id
    kTaskGet,      // GET /api/v1/tasks/{id}
    kTaskCancel,   // POST /api/v1/tasks/{id}/cancel
};

struct PassRoute {
    PassKind kind = PassKind::kChat;
    std::string upstream_path;  // e.g. "/api/v1/services/aigc/text-generation/generation"
    std::string endpoint;       // for api_calls, e.g. "/dashscope/api/v1/tasks/{id}"
    std::string task_id;        // task routes only
};

// The hub path (with the /dashscope prefix) -> the route, or nullopt for anything that is not
// one of the documented paths: exact matches only (no dot segments, no percent-encoding, no
// other hosts). Task ids must be 1..128 characters of [A-Za-z0-9_-].
std::optional<PassRoute> MatchPassthroughPath(std::string_view method, std::string_view hub_path);

// Request headers worth forwarding (everything else, Authorization included, is dropped;
// the upstream key is added by the client).
std::vector<std::pair<std::string, std::string>> ForwardedHeaders(
    const std::vector<std::pair<std::string, std::string>>& incoming);

// The native error body {"request_id","code","message"} for a hub error, with DashScope's
// code names (InvalidApiKey, InvalidParameter, ModelNotFound, AccessDenied, NotFound,
// Throttling.RateQuota, RequestTimeOut, InternalError...).
nlohmann::json NativeErrorJson(const core::Error& e, const std::string& request_id);
std::string NativeErrorCode(const core::Error& e);

// What a relayed answer says, for accounting (pure): fed the status and body bytes as they
// pass, SSE or not.
class AnswerTap {
public:
    // `style`: native answers (the pass-through) or compatible-mode ones (OpenAI n > 1).
    AnswerTap(PassKind kind, bool incremental_output,
              bailian::ApiStyle style = bailian::ApiStyle::kNative,
              std::int64_t buffer_limit = 4 << 20);
    void OnHead(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                std::int64_t at_ms);
    void OnBody(std::string_view bytes, std::int64_t at_ms);
    void OnEnd();

    int status() const { return status_; }
    bool sse() const { return sse_; }
    const bailian::Usage& usage() const { return usage_; }
    std::int64_t first_token_ms() const { return first_token_ms_; }  // -1: none
    const std::string& error_code() const { return error_code_; }
    int error_status() const { return error_status_; }  // from an SSE error event, else 0
    const std::string& request_id() const { return request_id_; }
    // Async submit / task answers (non-SSE, 2xx).
    const std::string& task_id() const { return task_id_; }
    const std::string& task_status() const { return task_status_; }
    std::int64_t image_count() const { return image_count_; }

private:
    void OnStreamEvents(const std::vector<bailian::StreamEvent>& events, std::int64_t at_ms);

    PassKind kind_;
    bool incremental_output_;
    bailian::ApiStyle style_;
    std::int64_t buffer_limit_;
    int status_ = 0;
    bool sse_ = false;
    std::string header_request_id_;
    std::optional<bailian::StreamReader> reader_;
    std::string body_;
    bool body_truncated_ = false;
    bailian::Usage usage_;
    std::int64_t first_token_ms_ = -1;
    std::string error_code_;
    int error_status_ = 0;
    std::string request_id_;
    std::string task_id_;
    std::string task_status_;
    std::int64_t image_count_ = 0;
};

// Relays to `out` while `tap` watches (times relative to `start_ms` on `clock`).
class TapSink final : public bailian::RawSink {
public:
    TapSink(bailian::RawSink& out, AnswerTap& tap, const core::Clock& clock, std::int64_t start_ms)
        : out_(out), tap_(tap), clock_(clock), start_ms_(start_ms) {}
    net::awaitable<bool> OnHead(int status,
                                std::vector<std::pair<std::string, std::string>> headers) override;
    net::awaitable<bool> OnBody(std::string bytes) override;

private:
    bailian::RawSink& out_;
    AnswerTap& tap_;
    const core::Clock& clock_;
    std::int64_t start_ms_;
};

struct PassRequest {
    std::string method;
    std::string path;  // the hub path, /dashscope/...
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string request_id;
};

class Passthrough {
public:
    Passthrough(bailian::Client& upstream, const Catalog& catalog, UsageRecorder& usage,
                store::Store& store, async::WorkerPool& db, const core::Clock& clock);

    struct Run {
        bailian::RawOutcome outcome;
        double upstream_ms = 0;
    };
    // Checks the path, the body's model (catalog, key allow-list) and task ownership, forwards
    // the request relaying the answer to `out`, records task ids and the api_calls row.
    // Refusals before the upstream call come back as the Result's error: 404 for a path that
    // is not forwarded or another user's task, 400 for a bad body, 404 ModelNotFound,
    // 403 for a model outside the key's allow-list.
    net::awaitable<core::Result<Run>> Forward(Caller caller, PassRequest req, bailian::RawSink& out,
                                              bailian::Cancel& cancel);

private:
    bailian::Client& upstream_;
    const Catalog& catalog_;
    UsageRecorder& usage_;
    store::Store& store_;
    async::WorkerPool& db_;
    const core::Clock& clock_;
};

}  // namespace hub::services
