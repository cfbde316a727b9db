#include "bailian/dashscope_client.hpp"

#include <charconv>
#include <chrono>
#include <map>
#include <random>

#include "core/json_text.hpp"
#include "http/message.hpp"
#include "obs/logging.hpp"

namespace hub::bailian {

using core::Error;
using core::ErrorCode;

// What a chat keeps between attempts once one has failed. Made on the first failure only, so
// that the frame of a call that never fails (the usual case; a stream may last minutes)
// carries none of it: g++ gives every local of a coroutine its own slot in the frame.
struct ChatRetryState {
    std::vector<std::string> tried;   // keys not to try again for this call
    std::optional<Error> last_error;  // the last retried failure's error for the client
    std::optional<Error> throttled;   // a 429 seen on the way
    UpstreamFailure failure;          // the attempt that just failed
    // How the next attempt goes: after this wait on the same key, or (unset) at once with
    // another key.
    std::optional<std::chrono::milliseconds> wait;
};

namespace {

std::int64_t SteadyMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double Jitter() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

Error CancelledError() {
    return Error::Make(ErrorCode::kUnavailable, "client_closed", "The request was cancelled.");
}

FailureKind KindOf(const Error& e) {
    return e.api_code == "timeout" ? FailureKind::kTimeout : FailureKind::kConnection;
}

net::awaitable<void> Sleep(std::chrono::milliseconds d) {
    net::steady_timer t(co_await net::this_coro::executor);
    t.expires_after(d);
    boost::system::error_code ec;
    co_await t.async_wait(net::redirect_error(net::use_awaitable, ec));
}

// Merges OpenAI-style tool-call deltas (by index) into complete calls.
struct ToolCalls {
    struct Call {
        std::string id, type = "function", name, arguments;
    };
    std::map<int, Call> calls;
    void Add(const ToolCallDelta& d) {
        auto& c = calls[d.index];
        if (!d.id.empty()) c.id = d.id;
        if (!d.type.empty()) c.type = d.type;
        c.name += d.name;
        c.arguments += d.arguments;
    }
    nlohmann::json Json() const {
        if (calls.empty()) return nullptr;
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& [i, c] : calls) {
            arr.push_back({{"index", i},
                           {"id", c.id},
                           {"type", c.type},
                           {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
        }
        return arr;
    }
};

const char* const kRelayedHeaders[] = {"content-type", "x-request-id", "x-dashscope-call-gateway",
                                       "x-dashscope-timeout", "x-dashscope-finished",
                                       "req-cost-time"};

// The failure of the current attempt, reset, with the state made if this is the first.
UpstreamFailure& NewFailure(std::unique_ptr<ChatRetryState>& retry, FailureKind kind) {
    if (!retry) retry = std::make_unique<ChatRetryState>();
    retry->failure = UpstreamFailure{};
    retry->failure.kind = kind;
    return retry->failure;
}

void MarkCancelled(ChatOutcome& out) {
    out.cancelled = true;
    out.error = CancelledError();
}

const std::vector<std::string> kNoneTried;

// How a non-streamed attempt ended.
enum class WholeEnd { kDone, kCancelled, kFailed };

// A non-streamed answer read whole into `out` (the lease completed), or the failure. Its own
// coroutine, so that the text and the parsed copy are not in the frame of ChatInto(), which
// lives as long as a stream.
net::awaitable<WholeEnd> ReadWhole(http::ClientResponse& r, ChatOutcome& out, KeyLease& lease,
                                   Cancel& cancel, std::int64_t start,
                                   std::unique_ptr<ChatRetryState>& retry) {
    auto text = co_await r.ReadAll();
    core::Result<ChatResult> parsed = text.ok()
                                          ? ParseChatResponse(ApiStyle::kCompatible, *text)
                                          : core::Result<ChatResult>(text.error());
    if (parsed.ok()) {
        out.result = std::move(parsed.value());
        if (out.result.request_id.empty()) out.result.request_id = out.upstream_request_id;
        out.ok = true;
        out.first_token_ms = SteadyMs() - start;
        lease.Complete(KeyOutcome::kSuccess);
        co_return WholeEnd::kDone;
    }
    if (cancel.triggered()) {
        lease.Complete(KeyOutcome::kAbandoned);
        MarkCancelled(out);
        co_return WholeEnd::kCancelled;
    }
    NewFailure(retry, FailureKind::kConnection).error.message = parsed.error().detail;
    co_return WholeEnd::kFailed;
}

// An error answer (HTTP status other than 200): its body, parsed into `into` (same reason as
// ReadWhole).
net::awaitable<void> ReadErrorAnswer(http::ClientResponse& r, UpstreamError& into) {
    auto text = co_await r.ReadAll(1 << 20);
    into = ParseErrorBody(r.status(), text.ok() ? *text : std::string{}, r.Header("x-request-id"));
}

}  // namespace

std::string RegionBaseUrl(std::string_view region) {
    if (region == "intl") return "https://dashscope-intl.aliyuncs.com";
    if (region == "us") return "https://dashscope-us.aliyuncs.com";
    return "https://dashscope.aliyuncs.com";
}

DashScopeClient::DashScopeClient(http::HttpClient& http, KeyPool& keys, DashScopeOptions opts,
                                 const core::Clock& clock)
    : http_(http), keys_(keys), opts_(std::move(opts)), clock_(clock) {}

nlohmann::json DashScopeClient::CompatibleBody(const ChatRequest& req) {
    ChatRequest copy = req;
    return TakeCompatibleBody(copy);
}

nlohmann::json DashScopeClient::TakeCompatibleBody(ChatRequest& req) {
    nlohmann::json body = nlohmann::json::object();
    if (req.parameters.is_object()) body = std::move(req.parameters);
    req.parameters = nlohmann::json();  // a non-object (ignored) too: nothing stays in req
    body["model"] = req.model;
    body["messages"] = std::move(req.messages);
    body["stream"] = req.stream;
    if (req.stream) {
        // Usage arrives once, in a final chunk, only when asked for.
        body["stream_options"] = {{"include_usage", true}};
    } else {
        body.erase("stream_options");
    }
    return body;
}

net::awaitable<ChatOutcome> Client::Chat(ChatRequest req, EventSink* sink, Cancel& cancel) {
    ChatOutcome out;
    co_await ChatInto(std::move(req), sink, cancel, out);
    co_return out;
}

net::awaitable<core::Result<std::unique_ptr<http::ClientResponse>>> DashScopeClient::SendChat(
    const KeyLease& lease, const std::string& body, bool stream, Cancel& cancel) {
    http::ClientRequest creq;
    creq.method = "POST";
    creq.target = "/compatible-mode/v1/chat/completions";
    creq.headers = {{"Authorization", "Bearer " + lease.secret().Reveal()},
                    {"Content-Type", "application/json"},
                    {"Accept", stream ? "text/event-stream" : "application/json"}};
    creq.body = body;
    co_return co_await http_.Send(opts_.base, std::move(creq), &cancel);
}

bool DashScopeClient::RetryAfterFailure(ChatRetryState& retry, KeyLease& lease, ChatOutcome& out,
                                        int attempt, const std::string& request_id) {
    UpstreamFailure& failure = retry.failure;
    failure.first_byte_sent = out.any_output;
    failure.attempt = attempt;
    auto d = DecideOnFailure(failure, opts_.retry, Jitter());
    lease.Complete(d.key_outcome);
    if (d.error.code == ErrorCode::kRateLimited) retry.throttled = d.error;
    if (d.action == UpstreamAction::kFail || attempt >= opts_.retry.max_attempts) {
        // A 429 seen on the way explains more than a rejected spare key does.
        out.error = retry.throttled && d.error.code == ErrorCode::kUpstream ? *retry.throttled
                                                                            : d.error;
        return false;
    }
    retry.last_error = d.error;
    obs::Info("upstream_retry", {{"request_id", request_id},
                                 {"attempt", attempt},
                                 {"action", std::string(UpstreamActionName(d.action))},
                                 {"key_id", out.key_id},
                                 {"code", failure.error.code},
                                 {"detail", failure.error.message}});
    if (d.action == UpstreamAction::kRetrySameKeyLater) {
        retry.wait = d.delay;
    } else {
        retry.wait.reset();
        retry.tried.push_back(out.key_id);
    }
    return true;
}

net::awaitable<void> DashScopeClient::ChatInto(ChatRequest req, EventSink* sink, Cancel& cancel,
                                               ChatOutcome& out) {
    const std::int64_t start = SteadyMs();
    // The messages and parameters are moved into the upstream body (no deep copy), so their
    // JSON trees are gone once it is serialised; the body itself is freed once the answer has
    // started reaching the client (no retry after that), so a held stream keeps neither.
    std::string body = core::DumpJson(TakeCompatibleBody(req));
    const bool keep_text = req.keep_text || sink == nullptr;
    // Everything below that is only needed when an attempt fails lives in `retry` or in the
    // functions called on that path, not in this frame.
    std::unique_ptr<ChatRetryState> retry;
    ToolCalls tools;
    for (int attempt = 1;; ++attempt) {
        out.attempts = attempt;
        if (cancel.triggered()) {
            MarkCancelled(out);
            break;
        }
        auto lease = keys_.Acquire(retry ? retry->tried : kNoneTried);
        if (!lease.ok()) {
            // Every key was tried: the last upstream answer (e.g. 429) says more than
            // "no key left".
            out.error = retry && retry->throttled    ? *retry->throttled
                        : retry && retry->last_error ? *retry->last_error
                                                     : lease.error();
            break;
        }
        out.key_id = lease->key_id();
        auto resp = co_await SendChat(*lease, body, req.stream, cancel);

        bool failed = false;
        if (!resp.ok()) {
            if (cancel.triggered()) {
                lease->Complete(KeyOutcome::kAbandoned);
                MarkCancelled(out);
                break;
            }
            UpstreamFailure& failure = NewFailure(retry, KindOf(resp.error()));
            failure.error.message = resp.error().detail;
            failure.error.code = resp.error().api_code;
            failed = true;
        } else if ((*resp)->status() != 200) {
            co_await ReadErrorAnswer(**resp, NewFailure(retry, FailureKind::kHttpStatus).error);
            out.error_code = retry->failure.error.code;
            out.upstream_request_id = retry->failure.error.request_id;
            failed = true;
        } else if (!req.stream) {
            out.upstream_request_id = (*resp)->Header("x-request-id");
            const WholeEnd end = co_await ReadWhole(**resp, out, *lease, cancel, start, retry);
            if (end != WholeEnd::kFailed) break;
            failed = true;
        } else {
            auto& r = *resp.value();
            out.upstream_request_id = r.Header("x-request-id");
            StreamReader reader({ApiStyle::kCompatible, true, out.upstream_request_id});
            bool done = false;
            bool final_error = false;
            while (!done) {
                auto piece = co_await r.Read();
                std::vector<StreamEvent> events;
                if (!piece.ok()) {
                    if (cancel.triggered()) {
                        out.cancelled = true;
                        break;
                    }
                    if (!out.any_output) {
                        NewFailure(retry, KindOf(piece.error())).error.message =
                            piece.error().detail;
                        failed = true;
                        break;
                    }
                    events = reader.Finish();  // yields an incomplete_stream error
                    done = true;
                } else if (piece->empty()) {
                    events = reader.Finish();
                    done = true;
                } else {
                    events = reader.Feed(*piece);
                }
                for (auto& ev : events) {
                    bool forward = true;
                    if (auto* c = std::get_if<ContentDelta>(&ev)) {
                        if (keep_text) out.result.content += c->text;
                    } else if (auto* rd = std::get_if<ReasoningDelta>(&ev)) {
                        if (keep_text) out.result.reasoning += rd->text;
                    } else if (auto* t = std::get_if<ToolCallDelta>(&ev)) {
                        if (keep_text) tools.Add(*t);
                    } else if (auto* u = std::get_if<Usage>(&ev)) {
                        out.result.usage = *u;
                    } else if (auto* f = std::get_if<Finish>(&ev)) {
                        out.result.finish_reason = f->reason;
                    } else if (auto* e = std::get_if<UpstreamError>(&ev)) {
                        forward = false;
                        out.error_code = e->code;
                        if (!out.any_output && !final_error) {
                            NewFailure(retry, FailureKind::kStreamError).error = *e;
                            failed = true;
                        } else {
                            out.error = ToHubError(FailureKind::kStreamError, *e);
                            final_error = true;
                        }
                        done = true;
                    } else if (std::holds_alternative<Done>(ev)) {
                        done = true;
                    }
                    bool is_delta = std::holds_alternative<ContentDelta>(ev) ||
                                    std::holds_alternative<ReasoningDelta>(ev) ||
                                    std::holds_alternative<ToolCallDelta>(ev);
                    if (is_delta && out.first_token_ms < 0) out.first_token_ms = SteadyMs() - start;
                    if (is_delta && !out.any_output) std::string().swap(body);
                    if (forward && sink) {
                        if (is_delta) out.any_output = true;
                        if (!co_await sink->OnEvent(ev)) {
                            cancel.Trigger();
                            out.cancelled = true;
                            done = true;
                            break;
                        }
                    } else if (is_delta) {
                        out.any_output = true;
                    }
                    if (failed) break;
                }
                // One write for everything this upstream read produced.
                if (sink && !failed && !out.cancelled && sink->HasPending()) {
                    const bool written = co_await sink->Flush();
                    if (!written) {
                        cancel.Trigger();
                        out.cancelled = true;
                        done = true;
                    }
                }
                if (failed || out.cancelled) break;
            }
            if (!failed) {
                out.result.tool_calls = tools.Json();
                out.result.request_id = out.upstream_request_id;
                if (out.cancelled) {
                    lease->Complete(KeyOutcome::kAbandoned);
                    out.error = CancelledError();
                } else if (final_error || !reader.decoder().finished()) {
                    lease->Complete(KeyOutcome::kSuccess);  // the key itself worked
                    if (!final_error) {
                        out.error = Error::Make(ErrorCode::kUpstream, "upstream_stream_broken",
                                                "The answer stream from DashScope broke off.");
                    }
                } else {
                    lease->Complete(KeyOutcome::kSuccess);
                    out.ok = true;
                }
                break;
            }
        }
        if (!failed) break;
        if (!RetryAfterFailure(*retry, *lease, out, attempt, req.request_id)) break;
        if (retry->wait) co_await Sleep(*retry->wait);
    }
    out.latency_ms = SteadyMs() - start;
}

net::awaitable<RawOutcome> DashScopeClient::Forward(RawRequest req, RawSink& sink, Cancel& cancel) {
    RawOutcome out;
    const std::int64_t start = SteadyMs();
    std::vector<std::string> tried;
    for (int attempt = 1;; ++attempt) {
        auto lease = keys_.Acquire(tried);
        if (!lease.ok()) {
            out.error = lease.error();
            break;
        }
        out.key_id = lease->key_id();
        http::ClientRequest creq;
        creq.method = req.method;
        creq.target = req.path + (req.query.empty() ? "" : "?" + req.query);
        creq.headers = req.headers;
        creq.headers.emplace_back("Authorization", "Bearer " + lease->secret().Reveal());
        creq.body = req.body;
        auto resp = co_await http_.Send(opts_.base, std::move(creq), &cancel);
        if (!resp.ok()) {
            if (cancel.triggered()) {
                lease->Complete(KeyOutcome::kAbandoned);
                out.cancelled = true;
                out.error = CancelledError();
                break;
            }
            UpstreamFailure f{KindOf(resp.error()), {}, false, attempt};
            f.error.message = resp.error().detail;
            auto d = DecideOnFailure(f, opts_.retry, Jitter());
            lease->Complete(d.key_outcome);
            if (d.action == UpstreamAction::kFail || attempt >= opts_.retry.max_attempts) {
                out.error = d.error;
                break;
            }
            if (d.action == UpstreamAction::kRetrySameKeyLater) co_await Sleep(d.delay);
            else tried.push_back(out.key_id);
            continue;
        }
        auto& r = *resp.value();
        int status = r.status();
        std::string first;
        if (status == 401 || status == 403 || status == 429 || status >= 500) {
            // An error before anything was relayed: maybe another key or a retry helps.
            auto text = co_await r.ReadAll(1 << 20);
            first = text.ok() ? *text : std::string{};
            UpstreamFailure f{FailureKind::kHttpStatus,
                              ParseErrorBody(status, first, r.Header("x-request-id")), false,
                              attempt};
            auto d = DecideOnFailure(f, opts_.retry, Jitter());
            lease->Complete(d.key_outcome);
            bool retry = d.action != UpstreamAction::kFail && attempt < opts_.retry.max_attempts &&
                         (d.action != UpstreamAction::kCoolKeyAndTryAnother &&
                                  d.action != UpstreamAction::kDisableKeyAndTryAnother
                              ? true
                              : keys_.HealthyCount() > tried.size() + 1);
            if (retry) {
                if (d.action == UpstreamAction::kRetrySameKeyLater) co_await Sleep(d.delay);
                else tried.push_back(out.key_id);
                continue;
            }
        } else {
            lease->Complete(KeyOutcome::kSuccess);
        }
        out.status = status;
        out.upstream_request_id = r.Header("x-request-id");
        std::vector<std::pair<std::string, std::string>> head;
        for (const auto& [k, v] : r.headers()) {
            for (const char* allowed : kRelayedHeaders)
                if (http::IEquals(k, allowed)) head.emplace_back(k, v);
        }
        out.first_byte_ms = SteadyMs() - start;
        if (!co_await sink.OnHead(status, std::move(head))) {
            cancel.Trigger();
            out.cancelled = true;
            break;
        }
        out.ok = true;
        if (!first.empty()) {
            co_await sink.OnBody(std::move(first));
            break;
        }
        for (;;) {
            auto piece = co_await r.Read();
            if (!piece.ok()) {
                out.cancelled = cancel.triggered();
                out.error = piece.error();
                break;
            }
            if (piece->empty()) break;
            if (!co_await sink.OnBody(std::move(*piece))) {
                cancel.Trigger();
                out.cancelled = true;
                break;
            }
        }
        break;
    }
    out.latency_ms = SteadyMs() - start;
    co_return out;
}

net::awaitable<core::Result<FetchedFile>> DashScopeClient::FetchResult(std::string url,
                                                                         std::size_t max_bytes,
                                                                         Cancel& cancel) {
    auto parsed = ParseResultUrl(url);
    if (!parsed.ok()) co_return parsed.error();
    if (!OriginAllowed(opts_.result_origins, parsed->origin)) {
        co_return core::Error::Make(core::ErrorCode::kForbidden, "result_origin_refused",
                                    "The result file is not on an allowed host.",
                                    "origin " + parsed->origin.Origin() + " is not allowed");
    }
    http::ClientRequest req;
    req.method = "GET";
    req.target = parsed->target;
    // No credential: result URLs are signed; the DashScope key never goes to another host.
    req.headers.emplace_back("Accept", "image/png, image/jpeg, image/webp");
    auto resp = co_await http_.Send(parsed->origin, std::move(req), &cancel);
    if (!resp.ok()) co_return resp.error();
    auto& r = *resp.value();
    auto failed = [&](std::string detail) {
        return core::Error::Make(core::ErrorCode::kUpstream, "result_fetch_failed",
                                 "The generated image could not be downloaded.",
                                 std::move(detail));
    };
    if (r.status() != 200) co_return failed("status " + std::to_string(r.status()));
    std::string length = r.Header("content-length");
    std::uint64_t declared = 0;
    auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), declared);
    if (!length.empty() && ec == std::errc() && end == length.data() + length.size() &&
        declared > max_bytes)
        co_return failed("content-length " + length + " over the limit");
    auto body = co_await r.ReadAll(max_bytes);
    if (!body.ok()) co_return failed(body.error().detail);
    co_return FetchedFile{r.Header("content-type"), std::move(body.value())};
}

}  // namespace hub::bailian
