// The DashScope pass-through: /dashscope/api/v1/services/aigc/... (documented paths only) and
// /dashscope/api/v1/tasks/{id}[/cancel], so the official DashScope SDKs work with
// base_http_api_url = <hub>/dashscope/api/v1 and a platform key (or a user JWT).
// Errors the hub itself answers use DashScope's native shape {"request_id","code","message"}.
#include "api/deps.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "api/relay.hpp"
#include "api/timing.hpp"
#include "services/api_keys.hpp"
#include "services/passthrough.hpp"

namespace hub::api {

namespace {

http::Response NativeError(const core::Error& e, const std::string& request_id) {
    auto r = JsonResponse(StatusFor(e.code), services::NativeErrorJson(e, request_id));
    if (e.retry_after_s > 0) r.headers.Set("Retry-After", std::to_string(e.retry_after_s));
    return r;
}

http::Response RenderNativeError(const core::Error& e, const http::Request& req) {
    return NativeError(e, req.request_id);
}

net::awaitable<http::Response> PassThrough(services::Passthrough& pass, http::Context& ctx,
                                           services::Caller caller) {
    RequestTimer timer(ctx);
    services::PassRequest req;
    req.method = ctx.req.method;
    req.path = ctx.req.path;
    req.query = ctx.req.query;
    for (const auto& f : ctx.req.headers.fields()) req.headers.emplace_back(f.name, f.value);
    req.body = ctx.req.body;
    req.request_id = ctx.req.request_id;

    bailian::Cancel cancel;
    GoneHookReset reset{ctx.stream};
    ctx.stream.OnClientGone([&cancel] { cancel.Trigger(); });
    RelaySink sink(ctx.stream);
    auto run = co_await pass.Forward(std::move(caller), std::move(req), sink, cancel);
    if (sink.streaming()) {
        if (!run.ok() || !run->outcome.ok || run->outcome.cancelled || ctx.stream.ClientGone()) {
            // The upstream stream broke (or the client left): so does ours.
            ctx.stream.Abort();
        } else {
            co_await ctx.stream.End();
        }
        co_return http::Response{};
    }
    if (!run.ok()) {
        auto r = NativeError(run.error(), ctx.req.request_id);
        timer.Stamp(r, 0);
        co_return r;
    }
    if (!sink.got_head() || !run->outcome.ok) {
        auto r = NativeError(run->outcome.error, ctx.req.request_id);
        timer.Stamp(r, run->upstream_ms);
        co_return r;
    }
    auto r = sink.TakeResponse();
    timer.Stamp(r, run->upstream_ms);
    co_return r;
}

}  // namespace

void RegisterDashScopeRoutes(http::Router& router, const ApiDeps& deps) {
    services::Accounts& accounts = deps.accounts;
    services::ApiKeys& keys = deps.api_keys;
    services::Passthrough& pass = deps.passthrough;

    services::Limits& limits = deps.limits;
    auto forward = [&pass](http::Context& ctx,
                           const services::Caller& caller) -> net::awaitable<http::Response> {
        co_return co_await PassThrough(pass, ctx, caller);
    };
    // Generation calls a model: limited. Task polls and cancels do not.
    router.Add("POST", "/dashscope/api/v1/services/aigc/*",
               RequireModelCall(accounts, keys, limits, forward, RenderNativeError));
    router.Add("GET", "/dashscope/api/v1/tasks/{id}",
               RequireKeyOrJwt(accounts, keys, "", forward, RenderNativeError));
    router.Add("POST", "/dashscope/api/v1/tasks/{id}/cancel",
               RequireKeyOrJwt(accounts, keys, "", forward, RenderNativeError));
}

}  // namespace hub::api
