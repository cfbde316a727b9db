// /api/v1/admin/roles, /api/v1/admin/permissions: roles as data; and
// /api/v1/admin/security-events: what the hub detected, and lifting the locks it set.
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "auth/rbac.hpp"
#include "services/roles.hpp"
#include "services/security_events.hpp"

namespace hub::api {

namespace {

nlohmann::json RoleJson(const store::Role& r) {
    return {{"name", r.name},
            {"description", r.description},
            {"permissions", r.permissions},
            {"models", r.models},
            {"mfa_required", r.mfa_required},
            {"builtin", r.builtin}};
}

nlohmann::json SecurityEventJson(const store::SecurityEvent& e) {
    auto detail = nlohmann::json::parse(e.detail, nullptr, false);
    auto opt = [](const std::optional<std::string>& v) {
        return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    };
    return {{"id", e.id},
            {"kind", e.kind},
            {"severity", e.severity},
            {"user_id", opt(e.user_id)},
            {"api_key_id", opt(e.api_key_id)},
            {"ip", e.ip},
            {"detail", detail.is_discarded() ? nlohmann::json::object() : detail},
            {"action", e.action},
            {"locked_until", e.locked_until ? nlohmann::json(Iso(*e.locked_until))
                                            : nlohmann::json(nullptr)},
            {"created_at", Iso(e.created_at)}};
}

core::Result<std::optional<std::vector<std::string>>> OptStrings(const nlohmann::json& body,
                                                                 const std::string& field) {
    auto it = body.find(field);
    if (it == body.end() || it->is_null()) return std::optional<std::vector<std::string>>{};
    if (!it->is_array() || it->size() > 64)
        return FieldError(field, "must be an array of at most 64 strings.");
    std::vector<std::string> out;
    for (const auto& v : *it) {
        if (!v.is_string()) return FieldError(field, "must be an array of strings.");
        out.push_back(v.get<std::string>());
    }
    return std::optional<std::vector<std::string>>(std::move(out));
}

core::Result<services::RoleInput> RoleInputFromJson(const nlohmann::json& body) {
    services::RoleInput in;
    auto d = OptString(body, "description");
    if (!d.ok()) return d.error();
    in.description = d.value();
    auto p = OptStrings(body, "permissions");
    if (!p.ok()) return p.error();
    in.permissions = p.value();
    auto m = OptStrings(body, "models");
    if (!m.ok()) return m.error();
    in.models = m.value();
    auto mfa = OptBool(body, "mfa_required");
    if (!mfa.ok()) return mfa.error();
    in.mfa_required = mfa.value();
    return in;
}

}  // namespace

void RegisterRoleRoutes(http::Router& router, const ApiDeps& deps) {
    services::Roles& roles = deps.roles;

    router.Add("GET", "/api/v1/admin/permissions",
               Require(deps.accounts, "",
                       [](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           if (!who.Can(auth::perm::kRolesManage)) {
                               if (auto r = auth::Require(who, auth::perm::kUsersManage); !r.ok())
                                   co_return ErrorResponse(r.error(), ctx.req.request_id);
                           }
                           nlohmann::json items = nlohmann::json::array();
                           for (auto p : auth::AllPermissions()) {
                               items.push_back(
                                   {{"name", std::string(p)},
                                    {"description", std::string(auth::PermissionDescription(p))}});
                           }
                           co_return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
                       }));

    router.Add("GET", "/api/v1/admin/roles",
               Require(deps.accounts, "",
                       [&roles](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto list = co_await roles.List(who);
                           if (!list.ok()) co_return ErrorResponse(list.error(), ctx.req.request_id);
                           nlohmann::json items = nlohmann::json::array();
                           for (const auto& r : *list) items.push_back(RoleJson(r));
                           co_return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
                       }));

    router.Add("POST", "/api/v1/admin/roles",
               Require(deps.accounts, std::string(auth::perm::kRolesManage),
                       [&roles](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                           if (auto ok = OnlyFields(*body, {"name", "description", "permissions",
                                                            "models", "mfa_required"});
                               !ok.ok())
                               co_return ErrorResponse(ok.error(), ctx.req.request_id);
                           auto name = ReqString(*body, "name");
                           if (!name.ok()) co_return ErrorResponse(name.error(), ctx.req.request_id);
                           auto in = RoleInputFromJson(*body);
                           if (!in.ok()) co_return ErrorResponse(in.error(), ctx.req.request_id);
                           services::RequestMeta meta = RequestMetaOf(ctx.req);
                           auto r = co_await roles.Create(who, std::move(name.value()),
                                                          std::move(in.value()), meta);
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return JsonResponse(201, RoleJson(*r));
                       }));

    router.Add("PATCH", "/api/v1/admin/roles/{name}",
               Require(deps.accounts, std::string(auth::perm::kRolesManage),
                       [&roles](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                           if (auto ok = OnlyFields(*body, {"description", "permissions", "models",
                                                            "mfa_required"});
                               !ok.ok())
                               co_return ErrorResponse(ok.error(), ctx.req.request_id);
                           auto in = RoleInputFromJson(*body);
                           if (!in.ok()) co_return ErrorResponse(in.error(), ctx.req.request_id);
                           services::RequestMeta meta = RequestMetaOf(ctx.req);
                           std::string name = ctx.req.Param("name");
                           auto r = co_await roles.Update(who, std::move(name),
                                                          std::move(in.value()), meta);
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return JsonResponse(200, RoleJson(*r));
                       }));

    router.Add("DELETE", "/api/v1/admin/roles/{name}",
               Require(deps.accounts, std::string(auth::perm::kRolesManage),
                       [&roles](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           services::RequestMeta meta = RequestMetaOf(ctx.req);
                           std::string name = ctx.req.Param("name");
                           auto r = co_await roles.Delete(who, std::move(name), meta);
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return http::Response::NoContent();
                       }));
}

void RegisterSecurityEventRoutes(http::Router& router, const ApiDeps& deps) {
    services::SecurityEvents& events = deps.security_events;

    router.Add("GET", "/api/v1/admin/security-events",
               Require(deps.accounts, std::string(auth::perm::kSecurityRead),
                       [&events](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto page = PageFromQuery(ctx.req);
                           if (!page.ok()) co_return ErrorResponse(page.error(), ctx.req.request_id);
                           store::SecurityEventFilter f;
                           if (auto k = ctx.req.Query("kind"); k && !k->empty()) f.kind = *k;
                           if (auto u = ctx.req.Query("user"); u && !u->empty()) f.user_id = *u;
                           auto list = co_await events.List(who, f, *page);
                           if (!list.ok()) co_return ErrorResponse(list.error(), ctx.req.request_id);
                           co_return JsonResponse(200, PageJson(*list, SecurityEventJson));
                       }));

    router.Add("POST", "/api/v1/admin/security-events/{id}/unlock",
               Require(deps.accounts, std::string(auth::perm::kSecurityRead),
                       [&events](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           services::RequestMeta meta = RequestMetaOf(ctx.req);
                           std::string id = ctx.req.Param("id");
                           auto e = co_await events.Unlock(who, std::move(id), meta);
                           if (!e.ok()) co_return ErrorResponse(e.error(), ctx.req.request_id);
                           co_return JsonResponse(200, SecurityEventJson(*e));
                       }));
}

}  // namespace hub::api
