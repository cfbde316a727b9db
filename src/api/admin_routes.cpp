// /api/v1/admin/*: users and the audit log. Permissions are checked by Require() and again
// in the service.
#include <cmath>

#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "auth/rbac.hpp"
#include "services/accounts.hpp"
#include "services/limits.hpp"

namespace hub::api {

namespace {

// A limit: a whole number, or null for the role's default. The range is checked by
// services::ValidateQuota (400 naming the field).
core::Result<std::optional<std::int64_t>> OptLimit(const nlohmann::json& obj,
                                                   const std::string& field) {
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return std::optional<std::int64_t>{};
    if (!it->is_number_integer())
        return FieldError("quota." + field, "must be a whole number from 1 to 1000000000 or null.");
    return std::optional<std::int64_t>(it->get<std::int64_t>());
}

// A cost budget in CNY (fractions allowed) -> micro-CNY.
core::Result<std::optional<std::int64_t>> OptCny(const nlohmann::json& obj,
                                                 const std::string& field) {
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return std::optional<std::int64_t>{};
    if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() <= 0 ||
        it->get<double>() > 1e9)
        return FieldError("quota." + field, "must be a number of CNY above 0 and at most 1000000000, or null.");
    return std::optional<std::int64_t>(std::llround(it->get<double>() * 1e6));
}

core::Result<store::UserQuota> ParseQuota(const nlohmann::json& q) {
    if (!q.is_object()) return FieldError("quota", "must be an object.");
    if (auto ok = OnlyFields(q, {"daily_tokens", "monthly_tokens", "rpm", "tpm", "daily_cost_cny",
                                 "monthly_cost_cny"});
        !ok.ok())
        return ok.error();
    store::UserQuota quota;
    struct Whole {
        const char* name;
        std::optional<std::int64_t> store::UserQuota::*field;
    };
    for (const Whole& w : {Whole{"daily_tokens", &store::UserQuota::daily_tokens},
                           Whole{"monthly_tokens", &store::UserQuota::monthly_tokens},
                           Whole{"rpm", &store::UserQuota::rpm},
                           Whole{"tpm", &store::UserQuota::tpm}}) {
        auto v = OptLimit(q, w.name);
        if (!v.ok()) return v.error();
        quota.*w.field = v.value();
    }
    for (const Whole& w : {Whole{"daily_cost_cny", &store::UserQuota::daily_cost_micro_cny},
                           Whole{"monthly_cost_cny", &store::UserQuota::monthly_cost_micro_cny}}) {
        auto v = OptCny(q, w.name);
        if (!v.ok()) return v.error();
        quota.*w.field = v.value();
    }
    if (auto ok = services::ValidateQuota(quota); !ok.ok()) return ok.error();
    return quota;
}

}  // namespace

void RegisterAdminRoutes(http::Router& router, const ApiDeps& deps) {
    services::Accounts& accounts = deps.accounts;
    services::Limits& limits = deps.limits;

    router.Add("GET", "/api/v1/admin/users",
               Require(accounts, std::string(auth::perm::kUsersManage),
                       [&accounts](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto page = PageFromQuery(ctx.req);
                           if (!page.ok()) co_return ErrorResponse(page.error(), ctx.req.request_id);
                           store::UserQuery q;
                           q.q = ctx.req.Query("q").value_or("");
                           if (auto role = ctx.req.Query("role")) q.role = *role;
                           if (auto st = ctx.req.Query("status")) {
                               if (*st == "active") q.status = store::UserStatus::kActive;
                               else if (*st == "disabled") q.status = store::UserStatus::kDisabled;
                               else
                                   co_return ErrorResponse(
                                       FieldError("status", "must be active or disabled."),
                                       ctx.req.request_id);
                           }
                           q.page = *page;
                           auto list = co_await accounts.ListUsers(who, q);
                           if (!list.ok()) co_return ErrorResponse(list.error(), ctx.req.request_id);
                           std::vector<std::string> ids;
                           for (const auto& u : list->items) ids.push_back(u.id);
                           auto last = co_await accounts.LastSignIns(who, std::move(ids));
                           if (!last.ok()) co_return ErrorResponse(last.error(), ctx.req.request_id);
                           auto body = PageJson(*list, UserJson);
                           for (auto& item : body["items"]) {
                               auto it = last->find(item["id"].get<std::string>());
                               item["last_sign_in_at"] =
                                   it == last->end() ? nlohmann::json(nullptr)
                                                     : nlohmann::json(Iso(it->second));
                           }
                           co_return JsonResponse(200, body);
                       }));

    router.Add(
        "PATCH", "/api/v1/admin/users/{id}",
        Require(accounts, std::string(auth::perm::kUsersManage),
                [&accounts, &limits](http::Context& ctx, const auth::Principal& who)
                    -> net::awaitable<http::Response> {
                    auto body = ParseJsonObject(ctx.req);
                    if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                    if (auto ok = OnlyFields(*body, {"role", "status", "quota"}); !ok.ok())
                        co_return ErrorResponse(ok.error(), ctx.req.request_id);
                    services::AdminUserPatch patch;
                    auto role = OptString(*body, "role");
                    if (!role.ok()) co_return ErrorResponse(role.error(), ctx.req.request_id);
                    patch.role = role.value();
                    auto status = OptString(*body, "status");
                    if (!status.ok()) co_return ErrorResponse(status.error(), ctx.req.request_id);
                    if (status.value()) {
                        if (*status.value() == "active") patch.status = store::UserStatus::kActive;
                        else if (*status.value() == "disabled")
                            patch.status = store::UserStatus::kDisabled;
                        else
                            co_return ErrorResponse(
                                FieldError("status", "must be active or disabled."),
                                ctx.req.request_id);
                    }
                    if (auto it = body->find("quota"); it != body->end()) {
                        auto quota = ParseQuota(*it);
                        if (!quota.ok()) co_return ErrorResponse(quota.error(), ctx.req.request_id);
                        patch.quota = quota.value();
                    }
                    services::RequestMeta meta = RequestMetaOf(ctx.req);
                    auto u = co_await accounts.AdminUpdateUser(who, ctx.req.Param("id"), patch,
                                                               meta);
                    if (!u.ok()) co_return ErrorResponse(u.error(), ctx.req.request_id);
                    // The new limits apply from the user's next call on.
                    if (patch.quota) limits.SetUserQuota(u->id, u->quota);
                    co_return JsonResponse(200, UserJson(*u));
                }));

    router.Add("GET", "/api/v1/admin/audit-logs",
               Require(accounts, std::string(auth::perm::kAuditRead),
                       [&accounts](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto page = PageFromQuery(ctx.req);
                           if (!page.ok()) co_return ErrorResponse(page.error(), ctx.req.request_id);
                           store::AuditFilter f;
                           if (auto a = ctx.req.Query("actor"); a && !a->empty()) f.actor_user_id = *a;
                           if (auto a = ctx.req.Query("action"); a && !a->empty()) f.action = *a;
                           if (auto a = ctx.req.Query("target"); a && !a->empty()) f.target = *a;
                           auto from = TimeFromQuery(ctx.req, "from");
                           if (!from.ok()) co_return ErrorResponse(from.error(), ctx.req.request_id);
                           auto to = TimeFromQuery(ctx.req, "to");
                           if (!to.ok()) co_return ErrorResponse(to.error(), ctx.req.request_id);
                           f.from_ms = from.value();
                           f.to_ms = to.value();
                           auto list = co_await accounts.ListAudit(who, f, *page);
                           if (!list.ok()) co_return ErrorResponse(list.error(), ctx.req.request_id);
                           co_return JsonResponse(200, PageJson(*list, AuditJson));
                       }));
}

}  // namespace hub::api
