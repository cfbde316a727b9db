#include "api/guard.hpp"

#include "api/errors.hpp"
#include "services/accounts.hpp"

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

}  // namespace hub::api
