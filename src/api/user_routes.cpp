// /api/v1/users/me: profile, settings, password, usage against the limits.
#include <algorithm>

#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "services/accounts.hpp"
#include "services/limits.hpp"

namespace hub::api {

namespace {

nlohmann::json Amount(std::int64_t used, std::int64_t limit) {
    return {{"used", used}, {"limit", limit}, {"left", std::max<std::int64_t>(0, limit - used)}};
}

nlohmann::json Cny(std::int64_t used_micro, std::int64_t limit_micro) {
    auto cny = [](std::int64_t micro) { return static_cast<double>(micro) / 1e6; };
    return {{"used", cny(used_micro)},
            {"limit", cny(limit_micro)},
            {"left", cny(std::max<std::int64_t>(0, limit_micro - used_micro))}};
}

// GET /api/v1/users/me/usage: budgets used and left (UTC day and month), and the rates.
nlohmann::json UsageJson(const services::Limits::UsageView& v) {
    const services::Budgets& b = v.limits.budgets;
    const auto& s = v.spend;
    auto window = [](const services::Period& p, nlohmann::json tokens, nlohmann::json cost) {
        return nlohmann::json{{"start", core::FormatIsoMs(p.start_ms)},
                              {"resets_at", core::FormatIsoMs(p.end_ms)},
                              {"tokens", std::move(tokens)},
                              {"cost_cny", std::move(cost)}};
    };
    return {{"day", window(s.day, Amount(s.today.tokens, b.daily_tokens),
                           Cny(s.today.cost_micro_cny, b.daily_cost_micro_cny))},
            {"month", window(s.month, Amount(s.this_month.tokens, b.monthly_tokens),
                             Cny(s.this_month.cost_micro_cny, b.monthly_cost_micro_cny))},
            {"rate",
             {{"rpm", v.limits.rate.rpm},
              {"rpm_burst", v.limits.rate.rpm_burst},
              {"tpm", v.limits.rate.tpm},
              {"tpm_burst", v.limits.rate.tpm_burst}}}};
}

}  // namespace

void RegisterUserRoutes(http::Router& router, const ApiDeps& deps) {
    services::Accounts& accounts = deps.accounts;
    services::Limits& limits = deps.limits;

    router.Add("GET", "/api/v1/users/me/usage",
               Require(accounts, "",
                       [&limits](http::Context&, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           co_return JsonResponse(200,
                                                  UsageJson(limits.Usage(who.user_id, who.role)));
                       }));

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
                           services::RequestMeta meta = RequestMetaOf(ctx.req);
                           auto r = co_await accounts.ChangePassword(who, std::move(cur.value()),
                                                                     std::move(next.value()), meta);
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return http::Response::NoContent();
                       }));
}

}  // namespace hub::api
