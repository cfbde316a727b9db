#include "api/guard.hpp"

#include "api/errors.hpp"
#include "api/timing.hpp"
#include "services/accounts.hpp"
#include "services/api_keys.hpp"

namespace hub::api {

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

}  // namespace

http::Handler RequireKeyOrJwt(services::Accounts& accounts, services::ApiKeys& keys,
                              std::string permission, CallerHandler handler,
                              ErrorRenderer render) {
    return [&accounts, &keys, permission = std::move(permission), handler = std::move(handler),
            render = std::move(render)](http::Context& ctx) -> net::awaitable<http::Response> {
        MarkRequestStart(ctx);
        auto credential = Credential(ctx.req);
        if (!credential) {
            co_return RenderAuthError(
                render,
                core::Error::Make(core::ErrorCode::kUnauthenticated, "unauthenticated",
                                  "An API key is required: send Authorization: Bearer <key> or "
                                  "x-api-key: <key>."),
                ctx);
        }
        core::Result<services::Caller> caller = core::Error{};
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
        if (!caller.ok()) co_return RenderAuthError(render, caller.error(), ctx);
        ctx.user_id = caller->principal.user_id;
        if (!permission.empty()) {
            if (auto ok = auth::Require(caller->principal, permission); !ok.ok())
                co_return RenderAuthError(render, ok.error(), ctx);
        }
        co_return co_await handler(ctx, *caller);
    };
}

}  // namespace hub::api
