#pragma once
// The hub's view of DashScope: one interface for chat (streaming or not), raw native
// pass-through and Wanx tasks. DashScopeClient implements it over the pooled HTTP client and
// the key pool; tests may run it against bailian-sim. No Beast types here.
//
// g++ 12 note (GCC PR 100611): never build a capturing lambda inside a co_await expression.
// That is why callbacks are passed as references to small interfaces (EventSink, Cancel).
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "async/asio.hpp"
#include "bailian/responses.hpp"
#include "bailian/stream_events.hpp"
#include "bailian/types.hpp"
#include "core/cancel.hpp"
#include "core/result.hpp"

namespace hub::bailian {

// Fired by the caller when its own client goes away; the upstream request is closed at once.
using Cancel = core::Cancel;

// Receives typed stream events as they arrive. Return false to stop (the client cancels).
class EventSink {
public:
    virtual ~EventSink() = default;
    virtual net::awaitable<bool> OnEvent(const StreamEvent& event) = 0;
    // A sink may hold what OnEvent produced and write it in one go: the client calls Flush()
    // after the events of each upstream read (a DashScope chunk often carries several tokens)
    // when HasPending(). false = the client is gone.
    virtual bool HasPending() const { return false; }
    virtual net::awaitable<bool> Flush() { co_return true; }
};

struct ChatRequest {
    std::string model;
    nlohmann::json messages = nlohmann::json::array();  // OpenAI shape: [{role, content}, ...]
    // Optional OpenAI/DashScope parameters copied into the upstream body when present:
    // temperature, top_p, max_tokens, stop, seed, n, tools, tool_choice, response_format,
    // enable_search, enable_thinking, thinking_budget, ...
    nlohmann::json parameters = nlohmann::json::object();
    bool stream = true;
    std::string request_id;  // the hub's request id, for logs and the upstream X-Request-Id
    // A streamed answer given to a sink: false = the sink is all the caller needs of its text,
    // so the outcome's result keeps no content, reasoning or tool calls (usage, the finish
    // reason and the request id still), and a long stream does not grow with its answer.
    // Without a sink the text is always kept.
    bool keep_text = true;
};

struct ChatOutcome {
    bool ok = false;
    core::Error error;       // when !ok: the hub error to show (already mapped)
    std::string error_code;  // DashScope's code when the upstream answered an error
    ChatResult result;       // aggregated content/reasoning/tool_calls/usage/finish_reason
    std::int64_t latency_ms = 0;
    std::int64_t first_token_ms = -1;  // -1: no token arrived
    bool any_output = false;           // at least one delta went to the sink
    bool cancelled = false;            // the caller cancelled (client went away)
    int attempts = 0;
    std::string key_id;                // upstream key used last (never the secret)
    std::string upstream_request_id;
};

// A raw native request forwarded as is (DashScope pass-through).
struct RawRequest {
    std::string method;  // GET or POST
    std::string path;    // e.g. "/api/v1/services/aigc/text-generation/generation"
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;  // allow-listed by the caller
    std::string body;
    std::string request_id;
};

// Receives a raw response: the head once, then body bytes as they arrive.
class RawSink {
public:
    virtual ~RawSink() = default;
    virtual net::awaitable<bool> OnHead(int status,
                                        std::vector<std::pair<std::string, std::string>> headers) = 0;
    virtual net::awaitable<bool> OnBody(std::string bytes) = 0;
};

struct RawOutcome {
    bool ok = false;  // a response (any status) was relayed
    core::Error error;
    int status = 0;
    std::int64_t latency_ms = 0;
    std::int64_t first_byte_ms = -1;
    bool cancelled = false;
    std::string key_id;
    std::string upstream_request_id;
};

// A result file of an async task (a generated image), as downloaded.
struct FetchedFile {
    std::string content_type;  // as the server said; the caller checks the bytes themselves
    std::string body;
};

class Client {
public:
    virtual ~Client() = default;
    // Chat through compatible mode. With req.stream and a sink, deltas go to the sink as they
    // arrive; the outcome aggregates everything either way. Retries (other keys, backoff)
    // happen only before the first delta reached the sink.
    //
    // The outcome is written into `out` (default-constructed by the caller), which the caller
    // owns: a held stream then carries one ChatOutcome (~0.5 KB), not one per coroutine frame
    // it passes through (the callee's local, its promise's result, each caller's temporary).
    virtual net::awaitable<void> ChatInto(ChatRequest req, EventSink* sink, Cancel& cancel,
                                          ChatOutcome& out) = 0;
    // The same, returning the outcome (for calls whose frames do not live long).
    net::awaitable<ChatOutcome> Chat(ChatRequest req, EventSink* sink, Cancel& cancel);
    // Forwards a native request with a pooled upstream key and relays the answer as is.
    virtual net::awaitable<RawOutcome> Forward(RawRequest req, RawSink& sink, Cancel& cancel) = 0;
    // Downloads a task result URL, without any credential, only from an allowed origin
    // (result_files.hpp) and only up to `max_bytes`. Errors: kForbidden "result_origin_refused",
    // kInvalidArgument "invalid_url", kUpstream "result_fetch_failed" (status, not an image
    // server, too large), kUpstreamTimeout.
    virtual net::awaitable<core::Result<FetchedFile>> FetchResult(std::string url,
                                                                  std::size_t max_bytes,
                                                                  Cancel& cancel) = 0;
};

}  // namespace hub::bailian
