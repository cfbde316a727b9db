#include "api/guard.hpp"

#include "api/errors.hpp"
#include "api/timing.hpp"
#include "services/accounts.hpp"
#include "services/api_keys.hpp"
#include "services/audit.hpp"
#include "services/limits.hpp"

namespace hub::api {

services::RequestMeta RequestMetaOf(const http::Request& req) {
    return {req.remote_ip, req.headers.GetOr("User-Agent"), req.request_id, nullptr};
}

std::optional<std::string> BearerToken(const http::Request& req) {
    auto h = req.headers.Get("Authorization");
    if (!h) return std::nullopt;
    std::string_view v = *h;
    if (v.size() < 7 || !http::IEquals(v.substr(0, 7), "Bearer ")) return std::nullopt;
    v.remove_prefix(7);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    if (v.empty()) return std::nullopt;
    return std::string(v);
}

http::Handler Require(services::Accounts& accounts, std::string permission,
                      AuthedHandler handler) {
    return [&accounts, permission = std::move(permission),
            handler = std::move(handler)](http::Context& ctx) -> net::awaitable<http::Response> {
        auto token = BearerToken(ctx.req);
        if (!token) {
            auto r = ErrorResponse(core::Error::Make(core::ErrorCode::kUnauthenticated,
                                                     "unauthenticated",
                                                     "Sign in first: a Bearer token is required."),
                                   ctx.req.request_id);
            r.headers.Set("WWW-Authenticate", "Bearer");
            co_return r;
        }
        if (services::LooksLikeApiKey(*token)) {
            // A platform key is for the compatible surfaces only.
            auto r = ErrorResponse(
                core::Error::Make(core::ErrorCode::kUnauthenticated, "invalid_token",
                                  "Platform API keys are not accepted here; sign in with a user "
                                  "access token."),
                ctx.req.request_id);
            r.headers.Set("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            co_return r;
        }
        auto principal = accounts.Authenticate(*token);
        if (!principal.ok()) {
            auto r = ErrorResponse(principal.error(), ctx.req.request_id);
            r.headers.Set("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            co_return r;
        }
        ctx.user_id = principal->user_id;
        if (!permission.empty()) {
            if (auto ok = auth::Require(*principal, permission); !ok.ok())
                co_return ErrorResponse(ok.error(), ctx.req.request_id);
        }
        co_return co_await handler(ctx, *principal);
    };
}

std::optional<std::string> Credential(const http::Request& req) {
    if (auto bearer = BearerToken(req)) return bearer;
    auto h = req.headers.Get("x-api-key");
    if (!h) return std::nullopt;
    std::string_view v = *h;
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (v.empty()) return std::nullopt;
    return std::string(v);
}

namespace {

http::Response RenderAuthError(const ErrorRenderer& render, const core::Error& e,
                               http::Context& ctx) {
    const http::Request& req = ctx.req;
    http::Response r = render ? render(e, req) : ErrorResponse(e, req.request_id);
    RequestTimer(ctx).Stamp(r, 0);
    if (r.status == 401) {
        r.headers.Set("WWW-Authenticate", e.api_code == "unauthenticated"
                                              ? "Bearer"
                                              : "Bearer error=\"invalid_token\"");
    }
    return r;
}

// Who is calling: the caller of the credential (a platform key or a user JWT) allowed
// `permission`, or the error for the answer; ctx.user_id is set once the credential is known.
// Its own coroutine, so that the credential, the principal and the key lookup's result are
// not in the frame that holds the caller for the whole call (a stream's length).
net::awaitable<void> ResolveCaller(services::Accounts& accounts, services::ApiKeys& keys,
                                   const std::string& permission, http::Context& ctx,
                                   core::Result<services::Caller>& caller) {
    auto credential = Credential(ctx.req);
    if (!credential) {
        caller = core::Error::Make(core::ErrorCode::kUnauthenticated, "unauthenticated",
                                   "An API key is required: send Authorization: Bearer <key> or "
                                   "x-api-key: <key>.");
        co_return;
    }
    if (services::LooksLikeApiKey(*credential)) {
        caller = co_await keys.Authenticate(std::move(*credential));
    } else {
        auto principal = accounts.Authenticate(*credential);
        if (principal.ok()) {
            caller = services::Caller{std::move(principal.value()), {}};
        } else if (credential->rfind(services::kApiKeyTokenPrefix, 0) == 0 ||
                   credential->find('.') == std::string::npos) {
            // Not a JWT at all: answer like for any other bad key.
            caller = core::Error::Make(core::ErrorCode::kUnauthenticated, "invalid_api_key",
                                       "The API key is invalid, expired or revoked.");
        } else {
            caller = principal.error();
        }
    }
    if (!caller.ok()) co_return;
    ctx.user_id = caller->principal.user_id;
    if (!permission.empty()) {
        if (auto ok = auth::Require(caller->principal, permission); !ok.ok())
            caller = ok.error();
    }
}

}  // namespace

http::Handler RequireKeyOrJwt(services::Accounts& accounts, services::ApiKeys& keys,
                              std::string permission, CallerHandler handler,
                              ErrorRenderer render) {
    return [&accounts, &keys, permission = std::move(permission), handler = std::move(handler),
            render = std::move(render)](http::Context& ctx) -> net::awaitable<http::Response> {
        MarkRequestStart(ctx);
        // Handlers keep references to it: it lives in this frame for the whole call.
        core::Result<services::Caller> caller = core::Error{};
        co_await ResolveCaller(accounts, keys, permission, ctx, caller);
        if (!caller.ok()) co_return RenderAuthError(render, caller.error(), ctx);
        co_return co_await handler(ctx, *caller);
    };
}

namespace {

// The handler's view of the response stream: the same stream, with the rate-limit headers
// added to whatever the handler sends when it starts streaming.
class HeaderStream final : public http::ResponseStream {
public:
    HeaderStream(http::ResponseStream& inner, std::span<const services::Permit::Header> extra)
        : inner_(inner), extra_(extra) {}
    net::awaitable<bool> Begin(int status, http::Headers headers) override {
        for (const auto& [name, value] : extra_) headers.Set(std::string(name), value);
        co_return co_await inner_.Begin(status, std::move(headers));
    }
    net::awaitable<bool> Write(std::string data) override {
        co_return co_await inner_.Write(std::move(data));
    }
    net::awaitable<void> End() override { co_await inner_.End(); }
    void Abort() override { inner_.Abort(); }
    bool Started() const override { return inner_.Started(); }
    bool ClientGone() const override { return inner_.ClientGone(); }
    void OnClientGone(std::function<void()> fn) override { inner_.OnClientGone(std::move(fn)); }

private:
    http::ResponseStream& inner_;
    std::span<const services::Permit::Header> extra_;
};

http::Response RenderLimitError(const ErrorRenderer& render, const core::Error& e,
                                http::Context& ctx) {
    http::Response r = render ? render(e, ctx.req) : ErrorResponse(e, ctx.req.request_id);
    if (e.retry_after_s > 0) r.headers.Set("Retry-After", std::to_string(e.retry_after_s));
    // A spent budget does not come back within a retry loop (the OpenAI SDKs read this).
    if (e.api_code == "quota_exceeded") r.headers.Set("x-should-retry", "false");
    RequestTimer(ctx).Stamp(r, 0);
    return r;
}

// The call's permit, or the refusal. Its own coroutine: the admission (~0.5 KB) is not kept
// in the frame of the call.
net::awaitable<void> Admit(services::Limits& limits, const services::Subject& who,
                           const http::Request& req, core::Result<services::Permit>& permit) {
    services::Admission admission = limits.Begin(who, services::EstimateRequestTokens(req.body));
    if (!limits.Ready(admission)) co_await limits.Wait(admission);
    permit = limits.Finish(admission);
}

// Admits the call, then runs `run(inner_ctx)` with the headers added to its answer.
template <class Run>
net::awaitable<http::Response> Admitted(services::Limits& limits, const services::Subject& who,
                                        http::Context& ctx, const ErrorRenderer& render,
                                        Run run) {
    core::Result<services::Permit> permit = core::Error{};
    co_await Admit(limits, who, ctx.req, permit);
    if (!permit.ok()) co_return RenderLimitError(render, permit.error(), ctx);
    HeaderStream stream(ctx.stream, permit->headers());
    http::Context inner{ctx.req, stream, ctx.user_id, ctx.route, ctx.attrs};
    http::Response r = co_await run(inner);
    ctx.attrs = std::move(inner.attrs);
    if (!ctx.stream.Started())
        for (const auto& [name, value] : permit->headers()) r.headers.Set(std::string(name), value);
    co_return r;
}

}  // namespace

CallerHandler Limited(services::Limits& limits, CallerHandler handler, ErrorRenderer render) {
    return [&limits, handler = std::move(handler), render = std::move(render)](
               http::Context& ctx,
               const services::Caller& caller) -> net::awaitable<http::Response> {
        services::Subject who{caller.principal.user_id, caller.principal.role,
                              caller.principal.api_key_id, {caller.key_rpm, caller.key_tpm}};
        co_return co_await Admitted(limits, who, ctx, render,
                                    [&](http::Context& inner) { return handler(inner, caller); });
    };
}

AuthedHandler Limited(services::Limits& limits, AuthedHandler handler) {
    return [&limits, handler = std::move(handler)](
               http::Context& ctx,
               const auth::Principal& principal) -> net::awaitable<http::Response> {
        services::Subject who{principal.user_id, principal.role, principal.api_key_id, {}};
        static const ErrorRenderer kDefault;
        co_return co_await Admitted(limits, who, ctx, kDefault, [&](http::Context& inner) {
            return handler(inner, principal);
        });
    };
}

namespace {

// A 401 from `ip`: counted against the address; past its budget the answer becomes a 429.
// Its own coroutine: nothing of it stays in the frame of an admitted call.
net::awaitable<http::Response> ChargeFailedAuth(services::Limits& limits,
                                                const ErrorRenderer& render, http::Context& ctx,
                                                http::Response r) {
    std::int64_t retry_after_s = 0;
    std::string ip = ctx.req.remote_ip;
    if (co_await limits.ChargeFailedAuth(ip, &retry_after_s)) co_return r;
    core::Error e = core::Error::Make(
        core::ErrorCode::kRateLimited, "rate_limited",
        "Too many failed authentications from this address; retry in " +
            std::to_string(retry_after_s) + " s.");
    e.retry_after_s = retry_after_s;
    co_return RenderLimitError(render, e, ctx);
}

}  // namespace

http::Handler RequireModelCall(services::Accounts& accounts, services::ApiKeys& keys,
                               services::Limits& limits, CallerHandler handler,
                               ErrorRenderer render) {
    http::Handler inner =
        RequireKeyOrJwt(accounts, keys, "", Limited(limits, std::move(handler), render), render);
    return [&limits, inner = std::move(inner),
            render = std::move(render)](http::Context& ctx) -> net::awaitable<http::Response> {
        http::Response r = co_await inner(ctx);
        if (r.status != 401 || ctx.stream.Started()) co_return r;
        co_return co_await ChargeFailedAuth(limits, render, ctx, std::move(r));
    };
}

}  // namespace hub::api
