#pragma once
// The OpenAI-compatible surface (/v1/chat/completions, /v1/models): OpenAI request bodies ->
// the hub's upstream ChatRequest, the hub's results -> OpenAI's response, chunk and error
// shapes, and the call itself (model checks, upstream, one api_calls row per call).
//
// The pure parts (parsing, rendering, error mapping) are free functions and a small chunk
// renderer, unit-tested without sockets; OpenAiCompat only orchestrates.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "async/asio.hpp"
#include "bailian/client.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "services/api_keys.hpp"
#include "services/models.hpp"
#include "services/usage.hpp"

namespace hub::services {

inline constexpr std::string_view kChatCompletionsEndpoint = "/v1/chat/completions";

// ---- requests ----

struct CompatChatRequest {
    bailian::ChatRequest chat;   // model, messages, parameters (DashScope-supported ones), stream
    bool include_usage = false;  // stream_options.include_usage
    int n = 1;
};

// Validates an OpenAI chat.completions body. Fields DashScope supports are passed through
// (temperature, top_p, max_tokens/max_completion_tokens, stop, seed, n, tools, tool_choice,
// parallel_tool_calls, response_format, presence_penalty, frequency_penalty, logprobs,
// top_logprobs, and DashScope's extensions enable_thinking, thinking_budget, enable_search,
// search_options, top_k, repetition_penalty, vl_high_resolution_images); fields it does not
// (user, store, metadata, logit_bias, ...) are dropped. Errors are kInvalidArgument with an
// OpenAI-style code; `*param` names the offending field.
[[nodiscard]] core::Result<CompatChatRequest> ParseChatCompletionRequest(const nlohmann::json& body,
                                                                         std::string* param);

// ---- responses ----

std::string NewCompletionId();  // "chatcmpl-" + a UUID

nlohmann::json UsageJson(const bailian::Usage& u);

// finish_reason as OpenAI clients expect it: a native-style "stop" with tool calls becomes
// "tool_calls"; empty becomes "stop".
std::string OpenAiFinishReason(std::string_view reason, bool has_tool_calls);

// The chat.completion object for one aggregated answer.
nlohmann::json CompletionJson(const bailian::ChatResult& result, const std::string& id,
                              const std::string& model, std::int64_t created_s);

// The OpenAI error body {"error":{"message","type","code","param"}} for a hub error answered
// with `status`. Types: invalid_request_error (4xx), permission_error (403),
// rate_limit_error (429), server_error (5xx). The hub's "unknown_model" is "model_not_found".
nlohmann::json OpenAiErrorJson(const core::Error& e, int status,
                               const std::optional<std::string>& param = std::nullopt);
std::string OpenAiErrorType(int status);

// Renders stream events as OpenAI chat.completion.chunk SSE frames ("data: {...}\n\n").
// Stateful: the first frame carries delta.role; tool calls are remembered so that a final
// "stop" is reported as "tool_calls"; usage is held for the final usage chunk.
// The role, content, reasoning and finish frames are written by concatenation from a prefix
// and suffix computed once per stream; `dom_reference` = build and dump a JSON DOM per frame
// instead (the reference the concatenation is tested against: same bytes).
class ChunkRenderer {
public:
    ChunkRenderer(std::string id, std::string model, std::int64_t created_s, bool include_usage,
                  bool dom_reference = false);

    // Frames for one upstream event (possibly none). Usage and Done produce nothing: the end
    // of the stream is rendered by Finish()/Fail() once the call's outcome is known.
    std::string OnEvent(const bailian::StreamEvent& event);
    // The same, appended to `out`.
    void Append(const bailian::StreamEvent& event, std::string& out);
    // A successful end: the finish chunk if none was sent yet, the usage chunk (choices [])
    // when include_usage, then "data: [DONE]".
    std::string Finish(const bailian::Usage& usage, std::string_view finish_reason);
    // A failed end after the stream started: one {"error":{...}} frame, no [DONE].
    std::string Fail(const core::Error& e, int status);

    bool started() const { return started_; }

private:
    nlohmann::json Chunk(nlohmann::json delta, const nlohmann::json& finish_reason) const;
    std::string Frame(const nlohmann::json& j) const;
    std::string RoleFrameOnce();
    void AppendRoleFrameOnce(std::string& out);
    // "data: {...}\n\n" for one choice whose delta is `delta_json` (a JSON object's text) and
    // whose finish_reason is null, or the JSON string of `finish_reason` when given.
    void AppendFrame(std::string& out, std::string_view delta_json,
                     const std::string_view* finish_reason) const;
    // The role frame once, then a delta frame {"<key>": text} (nothing for empty text).
    void AppendTextDelta(std::string& out, std::string_view key, const std::string& text);
    // The finish frame (the stream is finished after it), upstream's reason mapped to OpenAI's.
    void AppendFinishFrame(std::string& out, std::string_view upstream_reason);

    std::string id_;
    std::string model_;
    std::int64_t created_s_;
    bool include_usage_;
    bool dom_reference_;
    std::string tail_;  // after "finish_reason":...: index, logprobs and the chunk's own fields
    bool started_ = false;
    bool finished_ = false;
    bool saw_tool_calls_ = false;
};

// GET /v1/models: the enabled models of the catalog the caller may use, OpenAI-shaped.
nlohmann::json ModelObjectJson(const ModelInfo& m);
nlohmann::json ModelListJson(const Catalog& catalog, const Caller& caller);

// ---- the service ----

class OpenAiCompat {
public:
    OpenAiCompat(bailian::Client& upstream, const Catalog& catalog, UsageRecorder& usage,
                 const core::Clock& clock);

    // An enabled chat/vision model this caller may use: 400 "model_not_found" when unknown or
    // disabled, 403 "model_not_allowed" outside the key's allow-list.
    core::Result<const ModelInfo*> CheckModel(const Caller& caller, std::string_view model) const;
    core::Result<const ModelInfo*> FindModel(const Caller& caller, std::string_view model) const;

    struct Run {
        bailian::ChatOutcome outcome;  // for CompleteRelayed: ok, cancelled, error, latency only
        double upstream_ms = 0;        // wall time of the upstream call (Server-Timing)
    };
    // Runs one completion into `run` (default-constructed by the caller, who owns it, so that
    // a held stream's frames carry one outcome): model check, upstream call (deltas to `sink`
    // when streaming), and the api_calls row. A refusal before the upstream call (unknown or
    // disallowed model; recorded too) is an outcome with !ok, its error set and no attempt.
    // `caller` and `req` must outlive the call; req.chat is moved from.
    net::awaitable<void> Complete(const Caller& caller, CompatChatRequest& req,
                                  bailian::EventSink* sink, bailian::Cancel& cancel, Run& run);

    // n > 1: DashScope's compatible mode already answers in OpenAI's shape with n choices, so
    // the request goes to it through the raw relay and the answer reaches `out` as is (streams
    // included; usage is then always sent in a final chunk), tapped for the api_calls row.
    net::awaitable<core::Result<Run>> CompleteRelayed(Caller caller, CompatChatRequest req,
                                                      bailian::RawSink& out,
                                                      bailian::Cancel& cancel);

    const Catalog& catalog() const { return catalog_; }
    std::int64_t NowSeconds() const { return clock_.NowMs() / 1000; }

private:
    net::awaitable<void> RecordRefusal(CallSource source, core::Error error,
                                       std::int64_t started_ms);
    net::awaitable<void> RecordCompletionRefusal(const Caller& caller, const std::string& model,
                                                 const core::Error& error,
                                                 std::int64_t started_ms);
    // CheckModel's model, or nullptr with its error in `refusal` (not a coroutine: the
    // Result is not kept in Complete's frame).
    const ModelInfo* AdmitModel(const Caller& caller, const std::string& model,
                                core::Error& refusal) const;

    bailian::Client& upstream_;
    const Catalog& catalog_;
    UsageRecorder& usage_;
    const core::Clock& clock_;
};

}  // namespace hub::services
