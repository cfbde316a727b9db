#include "server_routes.hpp"

// GCC 12 reports a false -Wmismatched-new-delete when it inlines Asio coroutine frames
// (their operator new/delete are a matching pair in awaitable_frame_base).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <algorithm>
#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>

#include "chat_request.hpp"
#include "content.hpp"
#include "errors.hpp"
#include "frames.hpp"
#include "ids.hpp"
#include "json_text.hpp"
#include "models.hpp"
#include "protocol_compat.hpp"
#include "protocol_native.hpp"

namespace hub::sim {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kCoalesceBytes = 16 * 1024;
constexpr const char* kSseType = "text/event-stream;charset=UTF-8";
constexpr const char* kJsonType = "application/json";
constexpr const char* kJsonUtf8Type = "application/json;charset=UTF-8";

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string BearerKey(const http::Headers& h) {
    auto v = h.Get("Authorization");
    if (!v) return {};
    std::string_view s = Trim(*v);
    if (s.size() >= 7 && http::IEquals(s.substr(0, 7), "Bearer ")) s = Trim(s.substr(7));
    return std::string(s);
}

bool HeaderIs(const http::Headers& h, std::string_view name, std::string_view value) {
    auto v = h.Get(name);
    return v && http::IEquals(Trim(*v), value);
}

bool WantsNativeSse(const http::Headers& h) {
    if (HeaderIs(h, "X-DashScope-SSE", "enable")) return true;
    auto acc = h.Get("Accept");
    return acc && ContainsIgnoreCase(*acc, "text/event-stream");
}

std::optional<double> HeaderNumber(const http::Headers& h, std::string_view name) {
    auto v = h.Get(name);
    if (!v) return std::nullopt;
    try {
        std::size_t used = 0;
        std::string s(Trim(*v));
        double d = std::stod(s, &used);
        if (used != s.size() || d < 0) return std::nullopt;
        return d;
    } catch (...) {
        return std::nullopt;
    }
}

void AddGatewayHeaders(http::Headers& h, std::int64_t arrive_ms, std::int64_t now_ms, bool sse) {
    h.Set("server", "istio-envoy");
    h.Set("x-dashscope-call-gateway", "true");
    if (!sse) h.Set("x-dashscope-timeout", "180");
    h.Set("x-dashscope-finished", sse ? "false" : "true");
    std::int64_t cost = std::max<std::int64_t>(0, now_ms - arrive_ms);
    h.Set("req-cost-time", std::to_string(cost));
    h.Set("req-arrive-time", std::to_string(arrive_ms));
    h.Set("resp-start-time", std::to_string(now_ms));
    h.Set("x-envoy-upstream-service-time", std::to_string(cost > 0 ? cost - 1 : 0));
}

struct Pacing {
    double tps = 0;
    int ttft_ms = 0;
    int burst = 1;  // tokens per write when paced
    bool Any() const { return tps > 0 || ttft_ms > 0; }
    // Time from the first frame's send until `tokens` tokens have been emitted.
    milliseconds For(long tokens) const {
        if (tps <= 0) return milliseconds(0);
        return milliseconds(static_cast<long long>(static_cast<double>(tokens) * 1000.0 / tps));
    }
};

// Waits until `until`. Once the stream has started, wakes every 50 ms to notice a client that
// went away. Returns false when the client is gone.
net::awaitable<bool> SleepUntil(http::ResponseStream* s, Clock::time_point until) {
    net::steady_timer timer(co_await net::this_coro::executor);
    for (;;) {
        if (s->ClientGone()) co_return false;
        auto now = Clock::now();
        if (now >= until) co_return true;
        auto step = until - now;
        if (s->Started()) step = std::min<Clock::duration>(step, milliseconds(50));
        timer.expires_after(step);
        boost::system::error_code ec;
        co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
}

net::awaitable<bool> SleepMs(http::ResponseStream* s, long long ms) {
    if (ms <= 0) co_return !s->ClientGone();
    co_return co_await SleepUntil(s, Clock::now() + milliseconds(ms));
}

const char* RouteName(Api api) {
    switch (api) {
        case Api::kCompat: return "compat.chat";
        case Api::kNativeText: return "native.text";
        case Api::kNativeMultimodal: return "native.multimodal";
    }
    return "chat";
}

RecordedRequest MakeRecord(const http::Request& req, std::int64_t now_ms) {
    RecordedRequest r;
    r.time_ms = now_ms;
    r.method = req.method;
    r.path = req.path;
    r.query = req.query;
    for (const auto& f : req.headers.fields()) r.headers.emplace_back(f.name, f.value);
    r.body = req.body;
    return r;
}

bool ModelFitsApi(const ModelInfo& m, Api api) {
    switch (api) {
        case Api::kCompat: return m.kind == ModelKind::kChat || m.kind == ModelKind::kVision;
        case Api::kNativeText: return m.kind == ModelKind::kChat;
        case Api::kNativeMultimodal: return m.kind == ModelKind::kVision;
    }
    return false;
}

// Errors a native SSE request gets as an `event:error` at HTTP 200 (request validation),
// rather than as a plain error response (gateway checks: key, throttling, model, 5xx).
bool IsStreamEventError(ErrorKind k) {
    return k == ErrorKind::kInvalidParameter || k == ErrorKind::kEmptyInput ||
           k == ErrorKind::kEmptyModel || k == ErrorKind::kInspectionInput ||
           k == ErrorKind::kInspectionOutput;
}

std::optional<ErrorKind> StatusFaultKind(const FaultSet& f) {
    switch (f.status) {
        case 401: return ErrorKind::kInvalidApiKey;
        case 429: return ErrorKind::kThrottling;
        case 500: return ErrorKind::kInternal;
        case 503: return ErrorKind::kModelUnavailable;
        case 403: return ErrorKind::kAccessDenied;
        case 400: return ErrorKind::kArrearage;
        default: return std::nullopt;
    }
}

struct Call {
    std::string rid;
    std::int64_t arrive = 0;
    std::uint64_t seq = 0;
    FaultSet faults;
};

void CollectFaults(const http::Request& req, const std::string& model_fault,
                   const std::string& directive_faults, FaultQueue& queue, FaultSet* f);

// Every route starts the same way: a request id (the server also sends it as X-Request-Id,
// so header and body agree), the arrival time, and a record of what came in.
Call BeginCall(http::Request& req, const core::Clock& clock, Recorder& recorder) {
    Call call;
    call.arrive = clock.NowMs();
    call.rid = NewUuid();
    req.request_id = call.rid;
    call.seq = recorder.Begin(MakeRecord(req, call.arrive));
    return call;
}

// Gathers the call's faults from every source and records their names.
void NoteFaults(const http::Request& req, const std::string& model_fault,
                const std::string& directive_faults, FaultQueue& queue, Recorder& recorder,
                Call* call) {
    CollectFaults(req, model_fault, directive_faults, queue, &call->faults);
    if (call->faults.Any()) recorder.AddFaults(call->seq, call->faults.names);
}

}  // namespace

SimApp::SimApp(SimConfig cfg, const core::Clock& clock)
    : cfg_(std::move(cfg)),
      clock_(clock),
      recorder_(cfg_.history),
      limiter_(cfg_.rpm),
      base_url_(cfg_.public_base_url) {}

void SimApp::SetPublicBaseUrl(std::string url) {
    std::lock_guard lk(base_mu_);
    base_url_ = std::move(url);
}

std::string SimApp::BaseUrl() {
    std::lock_guard lk(base_mu_);
    return base_url_;
}

bool SimApp::KeyAccepted(const std::string& key) const {
    if (key.empty()) return false;
    if (cfg_.keys.empty()) return true;
    return std::find(cfg_.keys.begin(), cfg_.keys.end(), key) != cfg_.keys.end();
}

http::Response SimApp::RenderServerError(const core::Error& e, const std::string& request_id) {
    ErrorKind kind = ErrorKind::kInternal;
    std::string msg = e.public_message;
    int status = 500;
    switch (e.code) {
        case core::ErrorCode::kNotFound:
            kind = ErrorKind::kNotFound;
            status = 404;
            msg = "Not Found";
            break;
        case core::ErrorCode::kMethodNotAllowed:
            kind = ErrorKind::kNotFound;
            status = 405;
            break;
        case core::ErrorCode::kPayloadTooLarge:
            kind = ErrorKind::kInvalidParameter;
            status = 413;
            msg = "Payload Too Large.";
            break;
        case core::ErrorCode::kInvalidArgument:
        case core::ErrorCode::kInvalidJson:
            kind = ErrorKind::kInvalidParameter;
            status = 400;
            break;
        default: break;
    }
    nlohmann::ordered_json j;
    j["code"] = status == 413 ? "BadRequest.TooLarge"
                : status == 405 ? "MethodNotAllowed"
                                : NativeErrorCode(kind);
    j["message"] = msg.empty() ? NativeErrorMessage(SimError::Of(kind)) : msg;
    j["request_id"] = request_id;
    return http::Response::Json(status, j.dump());
}

void SimApp::Register(http::Router& router) {
    router.Add("POST", "/compatible-mode/v1/chat/completions",
               [this](http::Context& ctx) { return Chat(ctx, static_cast<int>(Api::kCompat)); });
    router.Add("GET", "/compatible-mode/v1/models", [this](http::Context& ctx) { return Models(ctx); });
    router.Add("POST", "/api/v1/services/aigc/text-generation/generation",
               [this](http::Context& ctx) { return Chat(ctx, static_cast<int>(Api::kNativeText)); });
    router.Add("POST", "/api/v1/services/aigc/multimodal-generation/generation",
               [this](http::Context& ctx) {
                   return Chat(ctx, static_cast<int>(Api::kNativeMultimodal));
               });
    router.Add("POST", "/api/v1/services/aigc/text2image/image-synthesis",
               [this](http::Context& ctx) { return ImageSubmit(ctx); });
    router.Add("GET", "/api/v1/tasks/{id}", [this](http::Context& ctx) { return TaskGet(ctx); });
    router.Add("POST", "/api/v1/tasks/{id}/cancel",
               [this](http::Context& ctx) { return TaskCancel(ctx); });
    router.Add("GET", "/results/{task}/{file}", [this](http::Context& ctx) { return ResultFile(ctx); });
    router.Add("GET", "/_sim/requests", [this](http::Context& ctx) { return ControlRequests(ctx); });
    router.Add("GET", "/_sim/stats", [this](http::Context& ctx) { return ControlStats(ctx); });
    router.Add("POST", "/_sim/reset", [this](http::Context& ctx) { return ControlReset(ctx); });
    router.Add("GET", "/_sim/faults", [this](http::Context& ctx) { return ControlFaults(ctx); });
    router.Add("POST", "/_sim/faults", [this](http::Context& ctx) { return ControlFaults(ctx); });
    router.Add("DELETE", "/_sim/faults", [this](http::Context& ctx) { return ControlFaults(ctx); });
    router.Add("GET", "/_sim/health", [this](http::Context& ctx) { return ControlHealth(ctx); });
}

// ---------------------------------------------------------------------------------------------
// Shared steps of every DashScope request.
namespace {

// Collects fault switches from the header, the model suffix, prompt directives and the queue.
void CollectFaults(const http::Request& req, const std::string& model_fault,
                   const std::string& directive_faults, FaultQueue& queue, FaultSet* f) {
    if (auto h = req.headers.Get("X-Sim-Fault")) ApplyFaultSpec(*h, f);
    if (!model_fault.empty()) ApplyFaultSpec(model_fault, f);
    if (!directive_faults.empty()) ApplyFaultSpec(directive_faults, f);
    std::string queued = queue.Take(req.path);
    if (!queued.empty()) ApplyFaultSpec(queued, f);
}

http::Response ErrorResponse(bool compat, const SimError& e, const std::string& rid,
                             std::int64_t arrive, std::int64_t now) {
    ErrorReply er = compat ? CompatError(e, rid) : NativeError(e, rid);
    auto r = http::Response::Json(er.status, std::move(er.body));
    AddGatewayHeaders(r.headers, arrive, now, false);
    return r;
}

}  // namespace

// Transport faults that come before any answer. Returns true when the request is over.
static net::awaitable<bool> PreAnswerFaults(http::Context& ctx, const FaultSet& f,
                                            Recorder* recorder, std::uint64_t seq) {
    if (f.reset) {
        ctx.stream.Abort();
        recorder->Finish(seq, 0, "reset");
        co_return true;
    }
    if (f.stall_before_headers_ms >= 0) {
        co_await SleepMs(&ctx.stream, f.stall_before_headers_ms);
    }
    co_return false;
}

// Writes `data`, honouring drip (small pieces with pauses) and utf8-split (two writes that cut
// a multi-byte character). Returns false when the client is gone.
static net::awaitable<bool> WriteShaped(http::ResponseStream* s, std::string data, int drip_ms,
                                        bool split_utf8) {
    if (drip_ms >= 0) {
        constexpr std::size_t kPiece = 8;
        for (std::size_t i = 0; i < data.size(); i += kPiece) {
            if (i > 0 && !co_await SleepMs(s, drip_ms)) co_return false;
            if (!co_await s->Write(data.substr(i, kPiece))) co_return false;
        }
        co_return true;
    }
    if (split_utf8) {
        std::size_t cut = FirstSplitInsideChar(data);
        if (cut != std::string::npos) {
            if (!co_await s->Write(data.substr(0, cut))) co_return false;
            if (!co_await SleepMs(s, 20)) co_return false;
            co_return co_await s->Write(data.substr(cut));
        }
    }
    co_return co_await s->Write(std::move(data));
}

// A non-stream body sent through the streaming interface, for transport faults.
static net::awaitable<void> SendShapedBody(http::Context& ctx, std::string body, FaultSet f,
                                           std::int64_t arrive, std::int64_t now,
                                           Recorder* recorder, std::uint64_t seq) {
    http::Headers h;
    h.Set("Content-Type", kJsonType);
    AddGatewayHeaders(h, arrive, now, false);
    auto* s = &ctx.stream;
    if (!co_await s->Begin(200, std::move(h))) {
        recorder->Finish(seq, 200, "cancelled");
        co_return;
    }
    if (f.stall_ms >= 0 && !co_await SleepMs(s, f.stall_ms)) {
        recorder->Finish(seq, 200, "cancelled");
        co_return;
    }
    if (f.cut_after >= 0) {
        co_await s->Write(body.substr(0, body.size() / 2));
        s->Abort();
        recorder->Finish(seq, 200, "cut");
        co_return;
    }
    bool split = f.utf8_split && FirstSplitInsideChar(body) != std::string::npos;
    if (!co_await WriteShaped(s, std::move(body), f.drip_ms, split)) {
        recorder->Finish(seq, 200, "cancelled");
        co_return;
    }
    co_await s->End();
    recorder->Finish(seq, 200, "ok");
}

// Streams frames with pacing and the stream faults (cut, stall, drip, utf8-split, malformed,
// mid-stream inspection).
static net::awaitable<void> SendFrames(http::Context& ctx, std::vector<Frame> frames, FaultSet f,
                                       Pacing pace, bool compat, std::string rid,
                                       std::int64_t arrive, std::int64_t now, Recorder* recorder,
                                       std::uint64_t seq) {
    http::Headers h;
    h.Set("Content-Type", kSseType);
    AddGatewayHeaders(h, arrive, now, true);
    auto* s = &ctx.stream;
    if (!co_await s->Begin(200, std::move(h))) {
        recorder->Finish(seq, 200, "cancelled");
        co_return;
    }
    if (f.stall_ms >= 0 && !co_await SleepMs(s, f.stall_ms)) {
        recorder->Finish(seq, 200, "cancelled");
        co_return;
    }
    const bool coalesce = !pace.Any() && !f.Any();
    const bool bursts = pace.tps > 0 && pace.burst > 1 && !f.Any();
    long burst_start = 0;
    const std::size_t n = frames.size();
    const std::size_t malformed_at = n > 1 ? 1 : 0;
    int inspection_at = f.inspection_mid;
    if (inspection_at >= 0) {
        // Before the final frames (finish / usage / [DONE]) at the latest.
        int last_content = static_cast<int>(n) - (compat ? 2 : 1);
        inspection_at = std::max(0, std::min(inspection_at, last_content));
    }
    bool utf8_pending = f.utf8_split;
    const auto start = Clock::now() + milliseconds(pace.ttft_ms);
    long tokens = 0;
    std::string batch;
    for (std::size_t i = 0; i < n; ++i) {
        if (f.cut_after >= 0 && i == static_cast<std::size_t>(f.cut_after)) {
            if (!batch.empty()) co_await s->Write(std::move(batch));
            s->Abort();
            recorder->Finish(seq, 200, "cut", static_cast<int>(i));
            co_return;
        }
        if (inspection_at >= 0 && i == static_cast<std::size_t>(inspection_at)) {
            SimError e = SimError::Of(ErrorKind::kInspectionOutput);
            std::string ev = compat ? CompatErrorData(e)
                                    : NativeErrorEvent(e, rid, static_cast<int>(i) + 1);
            if (co_await s->Write(std::move(ev))) {
                co_await s->End();
                recorder->Finish(seq, 200, "inspection", static_cast<int>(i));
            } else {
                recorder->Finish(seq, 200, "cancelled", static_cast<int>(i));
            }
            co_return;
        }
        tokens += frames[i].tokens;
        std::string data = std::move(frames[i].data);
        if (f.malformed && i == malformed_at) data = MalformFrame(data);
        if (bursts) {
            // Frames wait for their burst; the burst goes out when its last token is due.
            batch += data;
            if (tokens > 0 && tokens - burst_start < pace.burst && i + 1 < n) continue;
            burst_start = tokens;
            data = std::move(batch);
            batch.clear();
        }
        if (pace.Any()) {
            if (!co_await SleepUntil(s, start + pace.For(tokens))) {
                recorder->Finish(seq, 200, "cancelled", static_cast<int>(i));
                co_return;
            }
        }
        if (coalesce) {
            batch += data;
            if (batch.size() < kCoalesceBytes && i + 1 < n) continue;
            data = std::move(batch);
            batch.clear();
        }
        bool split = utf8_pending && FirstSplitInsideChar(data) != std::string::npos;
        if (split) utf8_pending = false;
        if (!co_await WriteShaped(s, std::move(data), f.drip_ms, split)) {
            recorder->Finish(seq, 200, "cancelled", static_cast<int>(i));
            co_return;
        }
    }
    co_await s->End();
    recorder->Finish(seq, 200, s->ClientGone() ? "cancelled" : "ok", static_cast<int>(n));
}

// Sends a native validation error the way DashScope does on an SSE request: HTTP 200 and one
// `event:error` with `:HTTP_STATUS/4xx`.
static net::awaitable<void> SendErrorEvent(http::Context& ctx, SimError e, std::string rid,
                                           std::int64_t arrive, std::int64_t now,
                                           Recorder* recorder, std::uint64_t seq) {
    http::Headers h;
    h.Set("Content-Type", kSseType);
    AddGatewayHeaders(h, arrive, now, true);
    auto* s = &ctx.stream;
    if (co_await s->Begin(200, std::move(h)) && co_await s->Write(NativeErrorEvent(e, rid, 1))) {
        co_await s->End();
        recorder->Finish(seq, 200, "error_event");
    } else {
        recorder->Finish(seq, 200, "cancelled");
    }
}

// ---------------------------------------------------------------------------------------------

net::awaitable<http::Response> SimApp::Chat(http::Context& ctx, int api_int) {
    const Api api = static_cast<Api>(api_int);
    const bool compat = api == Api::kCompat;
    auto& req = ctx.req;
    Call call = BeginCall(req, clock_, recorder_);

    json body = json::parse(req.body, nullptr, false);
    ChatRequest cr;
    std::optional<SimError> perr;
    if (body.is_discarded()) {
        perr = SimError::InvalidParameter(
            compat ? "<400> InternalError.Algo.InvalidParameter: The request body is not valid JSON"
                   : "The request body is not valid JSON.");
    } else {
        perr = compat ? ParseCompatRequest(body, &cr) : ParseNativeRequest(body, api, &cr);
    }
    const bool stream = compat ? cr.stream : WantsNativeSse(req.headers);
    cr.stream = stream;
    const std::string all_text = cr.AllText();
    Directives dir = ParseDirectives(all_text);
    NoteFaults(req, cr.model_fault, dir.faults, fault_queue_, recorder_, &call);
    const FaultSet& f = call.faults;
    recorder_.SetInfo(call.seq, RouteName(api), cr.model_name, stream, call.rid);

    auto fail = [&](const SimError& e) {
        recorder_.Finish(call.seq, ErrorStatus(e.kind), "error");
        return ErrorResponse(compat, e, call.rid, call.arrive, clock_.NowMs());
    };

    if (co_await PreAnswerFaults(ctx, f, &recorder_, call.seq)) co_return http::Response{};

    const std::string key = BearerKey(req.headers);
    if (f.status == 401 || !KeyAccepted(key)) co_return fail(SimError::Of(ErrorKind::kInvalidApiKey));
    if (f.status == 429 || !limiter_.Allow(key, clock_.NowMs()))
        co_return fail(SimError::Of(ErrorKind::kThrottling));
    if (auto k = StatusFaultKind(f)) co_return fail(SimError::Of(*k));

    auto as_event = [&](const SimError& e) -> bool {
        return !compat && stream && IsStreamEventError(e.kind);
    };
    if (perr) {
        if (as_event(*perr)) {
            co_await SendErrorEvent(ctx, *perr, call.rid, call.arrive, clock_.NowMs(), &recorder_,
                                    call.seq);
            co_return http::Response{};
        }
        co_return fail(*perr);
    }
    auto model = LookupModel(cr.model_name, cfg_.extra_models);
    if (!model || !ModelFitsApi(*model, api)) co_return fail(SimError::ModelNotFound(cr.model_name));
    const bool thinking = ThinkingEnabled(cr, *model);
    std::optional<SimError> verr;
    if (!stream && (model->stream_only || (model->stream_only_thinking && thinking))) {
        verr = SimError::InvalidParameter(
            "This model only support stream mode, please enable the stream parameter to access "
            "the model.");
    } else if (f.inspection) {
        verr = SimError::Of(ErrorKind::kInspectionInput);
    }
    if (verr) {
        if (as_event(*verr)) {
            co_await SendErrorEvent(ctx, *verr, call.rid, call.arrive, clock_.NowMs(), &recorder_,
                                    call.seq);
            co_return http::Response{};
        }
        co_return fail(*verr);
    }

    GenOptions opt;
    if (auto v = HeaderNumber(req.headers, "X-Sim-Tokens")) opt.content_tokens = static_cast<int>(*v);
    else opt.content_tokens = dir.tokens;
    if (auto v = HeaderNumber(req.headers, "X-Sim-Reasoning-Tokens"))
        opt.reasoning_tokens = static_cast<int>(*v);
    else opt.reasoning_tokens = dir.reasoning_tokens;
    opt.force_multibyte = f.utf8_split;
    if (!compat) cr.n = 1;
    Completion comp = Generate(cr, *model, opt);

    Pacing pace;
    pace.tps = HeaderNumber(req.headers, "X-Sim-Tokens-Per-Second")
                   .value_or(dir.tokens_per_second.value_or(cfg_.tokens_per_second));
    pace.ttft_ms = static_cast<int>(HeaderNumber(req.headers, "X-Sim-First-Token-Ms")
                                        .value_or(dir.first_token_ms.value_or(cfg_.first_token_ms)));
    pace.burst = static_cast<int>(std::clamp<double>(
        HeaderNumber(req.headers, "X-Sim-Burst-Tokens").value_or(cfg_.burst_tokens), 1, 1000));

    CompatMeta meta;
    NativeShape shape;
    if (compat) {
        meta.id = "chatcmpl-" + NewUuid();
        meta.created = clock_.NowSeconds();
        meta.model = cr.model_name;
    } else {
        shape = NativeShapeFor(cr, *model, comp);
    }

    if (!stream) {
        long long wait = pace.ttft_ms + pace.For(comp.OutputTokens()).count();
        if (wait > 0) co_await SleepMs(&ctx.stream, wait);
        if (f.inspection_mid >= 0) co_return fail(SimError::Of(ErrorKind::kInspectionOutput));
        std::string out = compat ? CompatBody(cr, comp, meta) : NativeBody(cr, comp, shape, call.rid);
        if (f.malformed) out = MalformBody(out);
        if (f.cut_after >= 0 || f.stall_ms >= 0 || f.drip_ms >= 0 || f.utf8_split) {
            co_await SendShapedBody(ctx, std::move(out), f, call.arrive, clock_.NowMs(), &recorder_,
                                    call.seq);
            co_return http::Response{};
        }
        auto r = http::Response::Json(200, std::move(out));
        AddGatewayHeaders(r.headers, call.arrive, clock_.NowMs(), false);
        recorder_.Finish(call.seq, 200, "ok");
        co_return r;
    }

    std::vector<Frame> frames = compat ? CompatStreamFrames(cr, comp, meta)
                                       : NativeStreamFrames(cr, comp, shape, call.rid,
                                                            !f.no_blank_lines);
    co_await SendFrames(ctx, std::move(frames), f, pace, compat, call.rid, call.arrive,
                        clock_.NowMs(), &recorder_, call.seq);
    co_return http::Response{};
}

net::awaitable<http::Response> SimApp::Models(http::Context& ctx) {
    auto& req = ctx.req;
    Call call = BeginCall(req, clock_, recorder_);
    recorder_.SetInfo(call.seq, "compat.models", "", false, call.rid);
    NoteFaults(req, "", "", fault_queue_, recorder_, &call);
    if (co_await PreAnswerFaults(ctx, call.faults, &recorder_, call.seq)) co_return http::Response{};
    auto fail = [&](ErrorKind k) {
        recorder_.Finish(call.seq, ErrorStatus(k), "error");
        return ErrorResponse(true, SimError::Of(k), call.rid, call.arrive, clock_.NowMs());
    };
    const std::string key = BearerKey(req.headers);
    if (call.faults.status == 401 || !KeyAccepted(key)) co_return fail(ErrorKind::kInvalidApiKey);
    if (call.faults.status == 429 || !limiter_.Allow(key, clock_.NowMs()))
        co_return fail(ErrorKind::kThrottling);
    if (auto k = StatusFaultKind(call.faults)) co_return fail(*k);
    std::vector<std::string> names = CatalogueNames(ModelKind::kChat);
    for (auto& n : CatalogueNames(ModelKind::kVision)) names.push_back(std::move(n));
    for (const auto& n : cfg_.extra_models) names.push_back(n);
    std::string out = CompatModelsBody(names, 1'700'000'000);
    if (call.faults.malformed) out = MalformBody(out);
    auto r = http::Response::Json(200, std::move(out));
    AddGatewayHeaders(r.headers, call.arrive, clock_.NowMs(), false);
    recorder_.Finish(call.seq, 200, "ok");
    co_return r;
}

net::awaitable<http::Response> SimApp::ImageSubmit(http::Context& ctx) {
    auto& req = ctx.req;
    Call call = BeginCall(req, clock_, recorder_);

    json body = json::parse(req.body, nullptr, false);
    ImageRequest ir;
    std::optional<SimError> perr;
    if (body.is_discarded()) {
        perr = SimError::InvalidParameter("The request body is not valid JSON.");
    } else {
        perr = ParseImageRequest(body, cfg_.extra_models, &ir);
    }
    Directives dir = ParseDirectives(ir.prompt);
    NoteFaults(req, ir.model_fault, dir.faults, fault_queue_, recorder_, &call);
    const FaultSet& f = call.faults;
    recorder_.SetInfo(call.seq, "wanx.submit", ir.model_name, false, call.rid);
    auto fail = [&](const SimError& e) {
        recorder_.Finish(call.seq, ErrorStatus(e.kind), "error");
        return ErrorResponse(false, e, call.rid, call.arrive, clock_.NowMs());
    };
    if (co_await PreAnswerFaults(ctx, f, &recorder_, call.seq)) co_return http::Response{};
    const std::string key = BearerKey(req.headers);
    if (f.status == 401 || !KeyAccepted(key)) co_return fail(SimError::Of(ErrorKind::kInvalidApiKey));
    if (f.status == 429 || !limiter_.Allow(key, clock_.NowMs()))
        co_return fail(SimError::Of(ErrorKind::kThrottling));
    if (auto k = StatusFaultKind(f)) co_return fail(SimError::Of(*k));
    if (!HeaderIs(req.headers, "X-DashScope-Async", "enable"))
        co_return fail(SimError::Of(ErrorKind::kAsyncRequired));
    if (perr) co_return fail(*perr);
    if (f.inspection) co_return fail(SimError::Of(ErrorKind::kInspectionInput));

    double secs = HeaderNumber(req.headers, "X-Sim-Task-Seconds")
                      .value_or(dir.task_seconds.value_or(cfg_.task_seconds));
    Task t = tasks_.Submit(std::move(ir), clock_.NowMs(), static_cast<std::int64_t>(secs * 1000),
                           f.task_failed, f.task_partial);
    recorder_.CountTask("submitted");
    std::string out = SubmitBody(t.id, call.rid);
    if (f.malformed) out = MalformBody(out);
    auto r = http::Response::Json(200, std::move(out));
    AddGatewayHeaders(r.headers, call.arrive, clock_.NowMs(), false);
    recorder_.Finish(call.seq, 200, "ok");
    co_return r;
}

net::awaitable<http::Response> SimApp::TaskGet(http::Context& ctx) {
    auto& req = ctx.req;
    Call call = BeginCall(req, clock_, recorder_);
    recorder_.SetInfo(call.seq, "task.get", "", false, call.rid);
    NoteFaults(req, "", "", fault_queue_, recorder_, &call);
    auto fail = [&](ErrorKind k) {
        recorder_.Finish(call.seq, ErrorStatus(k), "error");
        return ErrorResponse(false, SimError::Of(k), call.rid, call.arrive, clock_.NowMs());
    };
    if (co_await PreAnswerFaults(ctx, call.faults, &recorder_, call.seq)) co_return http::Response{};
    const std::string key = BearerKey(req.headers);
    if (call.faults.status == 401 || !KeyAccepted(key)) co_return fail(ErrorKind::kInvalidApiKey);
    if (call.faults.status == 429) co_return fail(ErrorKind::kThrottling);
    if (auto k = StatusFaultKind(call.faults)) co_return fail(*k);
    std::string id = req.Param("id");
    auto t = tasks_.Find(id);
    recorder_.CountTask("polled");
    std::string out = TaskBody(t ? &*t : nullptr, id, clock_.NowMs(), call.rid, BaseUrl());
    if (call.faults.malformed) out = MalformBody(out);
    auto r = http::Response::Text(200, std::move(out), kJsonUtf8Type);
    recorder_.Finish(call.seq, 200, "ok");
    co_return r;
}

net::awaitable<http::Response> SimApp::TaskCancel(http::Context& ctx) {
    auto& req = ctx.req;
    Call call = BeginCall(req, clock_, recorder_);
    recorder_.SetInfo(call.seq, "task.cancel", "", false, call.rid);
    NoteFaults(req, "", "", fault_queue_, recorder_, &call);
    auto fail = [&](ErrorKind k) {
        recorder_.Finish(call.seq, ErrorStatus(k), "error");
        auto r = ErrorResponse(false, SimError::Of(k), call.rid, call.arrive, clock_.NowMs());
        r.headers.Set("Content-Type", kJsonUtf8Type);
        return r;
    };
    if (co_await PreAnswerFaults(ctx, call.faults, &recorder_, call.seq)) co_return http::Response{};
    const std::string key = BearerKey(req.headers);
    if (call.faults.status == 401 || !KeyAccepted(key)) co_return fail(ErrorKind::kInvalidApiKey);
    if (call.faults.status == 429 || !limiter_.Allow(key, clock_.NowMs()))
        co_return fail(ErrorKind::kThrottling);
    if (auto k = StatusFaultKind(call.faults)) co_return fail(*k);
    auto res = tasks_.Cancel(req.Param("id"), clock_.NowMs());
    if (res != TaskStore::CancelResult::kOk) co_return fail(ErrorKind::kUnsupportedOperation);
    recorder_.CountTask("canceled");
    auto r = http::Response::Text(200, CancelOkBody(call.rid), kJsonUtf8Type);
    AddGatewayHeaders(r.headers, call.arrive, clock_.NowMs(), false);
    recorder_.Finish(call.seq, 200, "ok");
    co_return r;
}

net::awaitable<http::Response> SimApp::ResultFile(http::Context& ctx) {
    auto& req = ctx.req;
    const std::int64_t now = clock_.NowMs();
    auto seq = recorder_.Begin(MakeRecord(req, now));
    recorder_.SetInfo(seq, "results", "", false, req.request_id);
    std::string file = req.Param("file");
    int index = 0;
    bool ok = file.size() > 4 && file.substr(file.size() - 4) == ".png";
    if (ok) {
        try {
            std::size_t used = 0;
            index = std::stoi(file.substr(0, file.size() - 4), &used) - 1;
            ok = used == file.size() - 4;
        } catch (...) {
            ok = false;
        }
    }
    std::optional<Task> t = ok ? tasks_.Find(req.Param("task")) : std::nullopt;
    if (!t || index < 0 || index >= t->req.n || t->StatusAt(now) != TaskStatus::kSucceeded ||
        t->ImageFailed(index)) {
        recorder_.Finish(seq, 404, "error");
        std::string xml =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>NoSuchKey</Code>\n  "
            "<Message>The specified key does not exist.</Message>\n  <RequestId>" +
            req.request_id + "</RequestId>\n  <HostId>bailian-sim</HostId>\n</Error>\n";
        co_return http::Response::Text(404, std::move(xml), "application/xml");
    }
    recorder_.Finish(seq, 200, "ok");
    auto r = http::Response::Text(200, ResultPng(*t, index), "image/png");
    r.headers.Set("Cache-Control", "max-age=86400");
    co_return r;
}

// ---------------------------------------------------------------------------------------------
// Control API (/_sim/): not recorded, no key needed.

net::awaitable<http::Response> SimApp::ControlRequests(http::Context& ctx) {
    std::size_t limit = 50;
    if (auto l = ctx.req.Query("limit")) {
        try {
            limit = static_cast<std::size_t>(std::max(0L, std::stol(*l)));
        } catch (...) {
            co_return http::Response::Json(400, R"({"error":"limit must be a number"})");
        }
    }
    std::string path = ctx.req.Query("path").value_or("");
    co_return http::Response::Json(200, recorder_.RequestsJson(limit, path).dump(
                                            -1, ' ', false, json::error_handler_t::replace));
}

net::awaitable<http::Response> SimApp::ControlStats(http::Context&) {
    json j = recorder_.StatsJson();
    j["tasks_stored"] = tasks_.Size();
    j["config"] = {{"keys", cfg_.keys.size()},
                   {"tokens_per_second", cfg_.tokens_per_second},
                   {"first_token_ms", cfg_.first_token_ms},
                   {"task_seconds", cfg_.task_seconds},
                   {"rpm", cfg_.rpm},
                   {"public_base_url", BaseUrl()}};
    co_return http::Response::Json(200, j.dump());
}

net::awaitable<http::Response> SimApp::ControlReset(http::Context&) {
    recorder_.Reset();
    tasks_.Clear();
    limiter_.Reset();
    fault_queue_.Clear();
    co_return http::Response::Json(200, R"({"ok":true})");
}

net::awaitable<http::Response> SimApp::ControlFaults(http::Context& ctx) {
    auto list = [&] {
        json arr = json::array();
        for (const auto& e : fault_queue_.List())
            arr.push_back({{"fault", e.spec}, {"path", e.path}, {"remaining", e.remaining}});
        return http::Response::Json(200, json{{"faults", arr}}.dump());
    };
    if (ctx.req.method == "DELETE") {
        fault_queue_.Clear();
        co_return list();
    }
    if (ctx.req.method == "POST") {
        json b = json::parse(ctx.req.body, nullptr, false);
        if (!b.is_object() || !b.contains("fault") || !b["fault"].is_string())
            co_return http::Response::Json(400, R"({"error":"body must be {\"fault\":\"…\",\"count\":N,\"path\":\"…\"}"})");
        FaultQueue::Entry e;
        e.spec = b["fault"].get<std::string>();
        e.path = b.value("path", std::string{});
        e.remaining = b.value("count", 1);
        FaultSet scratch;
        auto unknown = ApplyFaultSpec(e.spec, &scratch);
        if (!unknown.empty())
            co_return http::Response::Json(400, json{{"error", "unknown fault switch"},
                                                     {"unknown", unknown}}.dump());
        fault_queue_.Push(std::move(e));
    }
    co_return list();
}

net::awaitable<http::Response> SimApp::ControlHealth(http::Context&) {
    co_return http::Response::Json(200, R"({"status":"ok"})");
}

}  // namespace hub::sim
