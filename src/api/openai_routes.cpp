// The OpenAI-compatible surface: POST /v1/chat/completions (JSON or SSE chunks), GET /v1/models,
// GET /v1/models/{id}. A platform API key or a user JWT; errors in OpenAI's shape.
#include <chrono>

#include "api/deps.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "api/relay.hpp"
#include "api/timing.hpp"
#include "services/api_keys.hpp"
#include "services/openai_compat.hpp"

namespace hub::api {

namespace {

http::Response OpenAiError(const core::Error& e,
                           const std::optional<std::string>& param = std::nullopt) {
    int status = StatusFor(e.code);
    auto r = JsonResponse(status, services::OpenAiErrorJson(e, status, param));
    if (e.retry_after_s > 0) r.headers.Set("Retry-After", std::to_string(e.retry_after_s));
    return r;
}

http::Response RenderOpenAiError(const core::Error& e, const http::Request&) {
    return OpenAiError(e);
}

http::Headers SseHeaders() {
    http::Headers h;
    h.Set("Content-Type", "text/event-stream; charset=utf-8");
    h.Set("Cache-Control", "no-cache");
    h.Set("X-Accel-Buffering", "no");
    return h;
}

// Writes OpenAI chunks to the client as upstream events arrive; starts the response on the
// first frame, so errors before any output can still be plain JSON errors.
class ChunkSink final : public bailian::EventSink {
public:
    ChunkSink(http::ResponseStream& stream, services::ChunkRenderer& renderer)
        : stream_(stream), renderer_(renderer) {}

    net::awaitable<bool> OnEvent(const bailian::StreamEvent& event) override {
        std::string frames = renderer_.OnEvent(event);
        if (frames.empty()) co_return !stream_.ClientGone();
        if (!stream_.Started() && !co_await stream_.Begin(200, SseHeaders())) co_return false;
        co_return co_await stream_.Write(std::move(frames));
    }

private:
    http::ResponseStream& stream_;
    services::ChunkRenderer& renderer_;
};

// n > 1: DashScope's own OpenAI-shaped answer with n choices, relayed as is.
net::awaitable<http::Response> RelayedCompletions(services::OpenAiCompat& compat,
                                                  http::Context& ctx, services::Caller caller,
                                                  services::CompatChatRequest req) {
    RequestTimer timer(ctx);
    bailian::Cancel cancel;
    GoneHookReset reset{ctx.stream};
    ctx.stream.OnClientGone([&cancel] { cancel.Trigger(); });
    RelaySink sink(ctx.stream);
    auto run = co_await compat.CompleteRelayed(std::move(caller), std::move(req), sink, cancel);
    if (sink.streaming()) {
        if (!run.ok() || !run->outcome.ok || run->outcome.cancelled || ctx.stream.ClientGone())
            ctx.stream.Abort();
        else
            co_await ctx.stream.End();
        co_return http::Response{};
    }
    http::Response r;
    if (!run.ok()) {
        r = OpenAiError(run.error());
        timer.Stamp(r, 0);
    } else if (!sink.got_head() || !run->outcome.ok) {
        r = OpenAiError(run->outcome.error);
        timer.Stamp(r, run->upstream_ms);
    } else {
        r = sink.TakeResponse();
        timer.Stamp(r, run->upstream_ms);
    }
    co_return r;
}

net::awaitable<http::Response> ChatCompletions(services::OpenAiCompat& compat, http::Context& ctx,
                                               services::Caller caller) {
    RequestTimer timer(ctx);
    auto body = ParseJsonObject(ctx.req);
    if (!body.ok()) {
        auto r = OpenAiError(body.error());
        timer.Stamp(r, 0);
        co_return r;
    }
    std::string param;
    auto parsed = services::ParseChatCompletionRequest(*body, &param);
    if (!parsed.ok()) {
        auto r = OpenAiError(parsed.error(),
                             param.empty() ? std::nullopt : std::optional<std::string>(param));
        timer.Stamp(r, 0);
        co_return r;
    }
    services::CompatChatRequest req = std::move(parsed.value());
    req.chat.request_id = ctx.req.request_id;
    if (req.n > 1)
        co_return co_await RelayedCompletions(compat, ctx, std::move(caller), std::move(req));
    const bool stream = req.chat.stream;
    const std::string model = req.chat.model;
    const std::string id = services::NewCompletionId();
    const std::int64_t created = compat.NowSeconds();

    bailian::Cancel cancel;
    GoneHookReset reset{ctx.stream};
    ctx.stream.OnClientGone([&cancel] { cancel.Trigger(); });

    if (!stream) {
        auto run = co_await compat.Complete(caller, std::move(req), nullptr, cancel);
        http::Response r;
        if (!run.ok()) {
            r = OpenAiError(run.error());
            timer.Stamp(r, 0);
        } else if (!run->outcome.ok) {
            r = OpenAiError(run->outcome.error);
            timer.Stamp(r, run->upstream_ms);
        } else {
            const auto& result = run->outcome.result;
            r = JsonResponse(200,
                             services::CompletionJson(
                                 result, id, result.model.empty() ? model : result.model, created));
            timer.Stamp(r, run->upstream_ms);
        }
        co_return r;
    }

    services::ChunkRenderer renderer(id, model, created, req.include_usage);
    ChunkSink sink(ctx.stream, renderer);
    auto run = co_await compat.Complete(caller, std::move(req), &sink, cancel);
    if (!ctx.stream.Started()) {
        // Nothing was streamed yet: an error can still be an ordinary JSON answer.
        if (!run.ok()) {
            auto r = OpenAiError(run.error());
            timer.Stamp(r, 0);
            co_return r;
        }
        if (!run->outcome.ok) {
            auto r = OpenAiError(run->outcome.error);
            timer.Stamp(r, run->upstream_ms);
            co_return r;
        }
        if (!co_await ctx.stream.Begin(200, SseHeaders())) co_return http::Response{};
    }
    if (!run.ok() || ctx.stream.ClientGone() || run->outcome.cancelled) {
        ctx.stream.Abort();
        co_return http::Response{};
    }
    const auto& outcome = run->outcome;
    std::string tail = outcome.ok
                           ? renderer.Finish(outcome.result.usage, outcome.result.finish_reason)
                           : renderer.Fail(outcome.error, StatusFor(outcome.error.code));
    if (co_await ctx.stream.Write(std::move(tail))) co_await ctx.stream.End();
    co_return http::Response{};
}

}  // namespace

void RegisterOpenAiRoutes(http::Router& router, const ApiDeps& deps) {
    services::Accounts& accounts = deps.accounts;
    services::ApiKeys& keys = deps.api_keys;
    services::OpenAiCompat& compat = deps.openai;

    router.Add("POST", "/v1/chat/completions",
               RequireModelCall(
                   accounts, keys, deps.limits,
                   [&compat](http::Context& ctx,
                             const services::Caller& caller) -> net::awaitable<http::Response> {
                       co_return co_await ChatCompletions(compat, ctx, caller);
                   },
                   RenderOpenAiError));

    router.Add("GET", "/v1/models",
               RequireKeyOrJwt(
                   accounts, keys, "",
                   [&compat](http::Context& ctx,
                             const services::Caller& caller) -> net::awaitable<http::Response> {
                       RequestTimer timer(ctx);
                       auto r =
                           JsonResponse(200, services::ModelListJson(compat.catalog(), caller));
                       timer.Stamp(r, 0);
                       co_return r;
                   },
                   RenderOpenAiError));

    router.Add("GET", "/v1/models/{id}",
               RequireKeyOrJwt(
                   accounts, keys, "",
                   [&compat](http::Context& ctx,
                             const services::Caller& caller) -> net::awaitable<http::Response> {
                       RequestTimer timer(ctx);
                       auto m = compat.FindModel(caller, ctx.req.Param("id"));
                       http::Response r = m.ok() ? JsonResponse(200, services::ModelObjectJson(**m))
                                                 : OpenAiError(m.error(), std::string("model"));
                       timer.Stamp(r, 0);
                       co_return r;
                   },
                   RenderOpenAiError));
}

}  // namespace hub::api
