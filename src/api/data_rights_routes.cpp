// A person's rights over their data: /api/v1/users/me/exports (export all my data),
// DELETE /api/v1/users/me (delete my account) and DELETE /api/v1/admin/users/{id}.
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "auth/rbac.hpp"
#include "services/data_rights.hpp"

namespace hub::api {

namespace {

nlohmann::json OptIsoJson(const std::optional<std::int64_t>& ms) {
    return ms ? nlohmann::json(Iso(*ms)) : nlohmann::json(nullptr);
}

nlohmann::json ExportJson(const store::DataExport& e) {
    nlohmann::json j = {{"id", e.id},
                        {"status", std::string(store::ToString(e.status))},
                        {"progress", e.progress},
                        {"bytes", e.bytes},
                        {"created_at", Iso(e.created_at)},
                        {"finished_at", OptIsoJson(e.finished_at)},
                        {"expires_at", OptIsoJson(e.expires_at)},
                        {"error_code", e.error_code.empty() ? nlohmann::json(nullptr)
                                                            : nlohmann::json(e.error_code)},
                        {"download_url", nullptr}};
    if (e.status == store::ExportStatus::kReady)
        j["download_url"] = "/api/v1/users/me/exports/" + e.id + "/download";
    return j;
}

}  // namespace

void RegisterDataRightsRoutes(http::Router& router, const ApiDeps& deps) {
    services::Accounts& accounts = deps.accounts;
    services::DataRights& rights = deps.data_rights;

    router.Add("POST", "/api/v1/users/me/exports",
               Require(accounts, "",
                       [&rights](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto e = co_await rights.StartExport(who, RequestMetaOf(ctx.req));
                           if (!e.ok()) co_return ErrorResponse(e.error(), ctx.req.request_id);
                           auto r = JsonResponse(202, ExportJson(*e));
                           r.headers.Set("Location", "/api/v1/users/me/exports/" + e->id);
                           co_return r;
                       }));

    router.Add("GET", "/api/v1/users/me/exports",
               Require(accounts, "",
                       [&rights](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto list = co_await rights.ListExports(who);
                           if (!list.ok()) co_return ErrorResponse(list.error(), ctx.req.request_id);
                           nlohmann::json items = nlohmann::json::array();
                           for (const auto& e : *list) items.push_back(ExportJson(e));
                           co_return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
                       }));

    router.Add("GET", "/api/v1/users/me/exports/{id}",
               Require(accounts, "",
                       [&rights](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto e = co_await rights.GetExport(who, ctx.req.Param("id"));
                           if (!e.ok()) co_return ErrorResponse(e.error(), ctx.req.request_id);
                           auto r = JsonResponse(200, ExportJson(*e));
                           r.headers.Set("Cache-Control", "no-store");
                           co_return r;
                       }));

    router.Add("GET", "/api/v1/users/me/exports/{id}/download",
               Require(accounts, "",
                       [&rights](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto f = co_await rights.OpenExport(who, ctx.req.Param("id"), RequestMetaOf(ctx.req));
                           if (!f.ok()) co_return ErrorResponse(f.error(), ctx.req.request_id);
                           auto r = http::Response::Text(200, std::move(f->bytes),
                                                         "application/zip");
                           r.headers.Set("Content-Disposition",
                                         "attachment; filename=\"" + f->download_name + "\"");
                           r.headers.Set("Cache-Control", "no-store");
                           co_return r;
                       }));

    router.Add("DELETE", "/api/v1/users/me",
               Require(accounts, "",
                       [&rights](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           const auto& rid = ctx.req.request_id;
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), rid);
                           if (auto ok = OnlyFields(*body, {"password", "mfa_code"}); !ok.ok())
                               co_return ErrorResponse(ok.error(), rid);
                           auto pw = ReqString(*body, "password");
                           if (!pw.ok()) co_return ErrorResponse(pw.error(), rid);
                           auto mfa = OptString(*body, "mfa_code");
                           if (!mfa.ok()) co_return ErrorResponse(mfa.error(), rid);
                           auto r = co_await rights.DeleteOwnAccount(
                               who, std::move(pw.value()), std::move(mfa.value()), RequestMetaOf(ctx.req));
                           if (!r.ok()) co_return ErrorResponse(r.error(), rid);
                           auto res = http::Response::NoContent();
                           // The refresh cookie dies with the account.
                           res.headers.Set("Set-Cookie",
                                           "bh_refresh=; Path=/api/v1/auth; Max-Age=0; HttpOnly; "
                                           "Secure; SameSite=Strict");
                           co_return res;
                       }));

    router.Add("DELETE", "/api/v1/admin/users/{id}",
               Require(accounts, std::string(auth::perm::kUsersManage),
                       [&rights](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto r = co_await rights.AdminDeleteUser(who, ctx.req.Param("id"),
                                                                    RequestMetaOf(ctx.req));
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return http::Response::NoContent();
                       }));
}

}  // namespace hub::api
