// /api/v1/users/me: profile, settings, password.
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "services/accounts.hpp"

namespace hub::api {

void RegisterUserRoutes(http::Router& router, const ApiDeps& deps) {
    services::Accounts& accounts = deps.accounts;

    router.Add("GET", "/api/v1/users/me",
               Require(accounts, "",
                       [&accounts](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto u = co_await accounts.Me(who);
                           if (!u.ok()) co_return ErrorResponse(u.error(), ctx.req.request_id);
                           co_return JsonResponse(200, UserJson(*u));
                       }));

    router.Add("PATCH", "/api/v1/users/me",
               Require(accounts, "",
                       [&accounts](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                           if (auto ok = OnlyFields(*body, {"display_name", "settings"}); !ok.ok())
                               co_return ErrorResponse(ok.error(), ctx.req.request_id);
                           auto dn = OptString(*body, "display_name");
                           if (!dn.ok()) co_return ErrorResponse(dn.error(), ctx.req.request_id);
                           std::optional<std::string> settings;
                           if (auto it = body->find("settings"); it != body->end()) {
                               if (!it->is_object()) {
                                   co_return ErrorResponse(
                                       FieldError("settings", "must be a JSON object."),
                                       ctx.req.request_id);
                               }
                               settings = it->dump();
                           }
                           auto u = co_await accounts.UpdateMe(who, dn.value(), settings);
                           if (!u.ok()) co_return ErrorResponse(u.error(), ctx.req.request_id);
                           co_return JsonResponse(200, UserJson(*u));
                       }));

    router.Add("POST", "/api/v1/users/me/password",
               Require(accounts, "",
                       [&accounts](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                           auto cur = ReqString(*body, "current_password");
                           if (!cur.ok()) co_return ErrorResponse(cur.error(), ctx.req.request_id);
                           auto next = ReqString(*body, "new_password");
                           if (!next.ok()) co_return ErrorResponse(next.error(), ctx.req.request_id);
                           services::RequestMeta meta{ctx.req.remote_ip,
                                                      ctx.req.headers.GetOr("User-Agent"),
                                                      ctx.req.request_id};
                           auto r = co_await accounts.ChangePassword(who, std::move(cur.value()),
                                                                     std::move(next.value()), meta);
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return http::Response::NoContent();
                       }));
}

}  // namespace hub::api
