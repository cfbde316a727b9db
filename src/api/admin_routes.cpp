// /api/v1/admin/*: users and the audit log. Permissions are checked by Require() and again
// in the service.
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "auth/rbac.hpp"
#include "services/accounts.hpp"

namespace hub::api {

namespace {

core::Result<std::optional<std::int64_t>> OptNonNegative(const nlohmann::json& obj,
                                                         const std::string& field) {
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return std::optional<std::int64_t>{};
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
        return FieldError("quota." + field, "must be a whole number >= 0 or null.");
    return std::optional<std::int64_t>(it->get<std::int64_t>());
}

}  // namespace

void RegisterAdminRoutes(http::Router& router, const ApiDeps& deps) {
    services::Accounts& accounts = deps.accounts;

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
                [&accounts](http::Context& ctx,
                            const auth::Principal& who) -> net::awaitable<http::Response> {
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
                        if (!it->is_object())
                            co_return ErrorResponse(FieldError("quota", "must be an object."),
                                                    ctx.req.request_id);
                        if (auto ok = OnlyFields(*it, {"daily_tokens", "rpm"}); !ok.ok())
                            co_return ErrorResponse(ok.error(), ctx.req.request_id);
                        store::UserQuota quota;
                        auto dt = OptNonNegative(*it, "daily_tokens");
                        if (!dt.ok()) co_return ErrorResponse(dt.error(), ctx.req.request_id);
                        auto rpm = OptNonNegative(*it, "rpm");
                        if (!rpm.ok()) co_return ErrorResponse(rpm.error(), ctx.req.request_id);
                        quota.daily_tokens = dt.value();
                        quota.rpm = rpm.value();
                        patch.quota = quota;
                    }
                    services::RequestMeta meta{ctx.req.remote_ip,
                                               ctx.req.headers.GetOr("User-Agent"),
                                               ctx.req.request_id};
                    auto u = co_await accounts.AdminUpdateUser(who, ctx.req.Param("id"), patch,
                                                               meta);
                    if (!u.ok()) co_return ErrorResponse(u.error(), ctx.req.request_id);
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
