// /api/v1/admin/upstream-keys: DashScope keys. Secrets go in, only last4 ever comes out.
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "services/upstream_keys.hpp"

namespace hub::api {

namespace {

nlohmann::json KeyJson(const services::UpstreamKeyView& v) {
    const auto& r = v.row;
    nlohmann::json j = {{"id", r.id},
                        {"name", r.name},
                        {"last4", r.last4},
                        {"status", std::string(store::ToString(r.status))},
                        {"weight", r.weight},
                        {"created_at", Iso(r.created_at)},
                        {"rotated_at", r.rotated_at ? nlohmann::json(Iso(*r.rotated_at)) : nullptr}};
    if (v.health) {
        const auto& h = *v.health;
        j["health"] = {{"state", std::string(bailian::KeyStateName(h.state))},
                       {"in_flight", h.in_flight},
                       {"consecutive_failures", h.consecutive_failures},
                       {"cooldown_until",
                        h.cooldown_until_ms ? nlohmann::json(Iso(h.cooldown_until_ms)) : nullptr},
                       {"total_requests", h.total_requests},
                       {"total_failures", h.total_failures},
                       {"calls_last_hour", h.calls_last_hour},
                       {"errors_last_hour", h.errors_last_hour},
                       {"last_error", h.last_error.empty() ? nlohmann::json(nullptr)
                                                           : nlohmann::json(h.last_error)},
                       {"last_error_at",
                        h.last_error_ms ? nlohmann::json(Iso(h.last_error_ms)) : nullptr}};
    } else {
        j["health"] = nullptr;
    }
    return j;
}

core::Result<std::optional<int>> OptWeight(const nlohmann::json& body) {
    auto it = body.find("weight");
    if (it == body.end() || it->is_null()) return std::optional<int>{};
    if (!it->is_number_integer()) return FieldError("weight", "must be a whole number.");
    return std::optional<int>(it->get<int>());
}

}  // namespace

void RegisterUpstreamKeyRoutes(http::Router& router, const ApiDeps& deps) {
    services::Accounts& accounts = deps.accounts;
    services::UpstreamKeys& keys = deps.upstream_keys;
    const std::string perm(auth::perm::kKeysManage);

    router.Add("GET", "/api/v1/admin/upstream-keys",
               Require(accounts, perm,
                       [&keys](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto list = co_await keys.List(who);
                           if (!list.ok()) co_return ErrorResponse(list.error(), ctx.req.request_id);
                           nlohmann::json items = nlohmann::json::array();
                           for (const auto& k : *list) items.push_back(KeyJson(k));
                           co_return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
                       }));

    router.Add("POST", "/api/v1/admin/upstream-keys",
               Require(accounts, perm,
                       [&keys](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                           if (auto ok = OnlyFields(*body, {"name", "secret", "weight"}); !ok.ok())
                               co_return ErrorResponse(ok.error(), ctx.req.request_id);
                           auto name = ReqString(*body, "name");
                           if (!name.ok()) co_return ErrorResponse(name.error(), ctx.req.request_id);
                           auto secret = ReqString(*body, "secret");
                           if (!secret.ok())
                               co_return ErrorResponse(secret.error(), ctx.req.request_id);
                           auto weight = OptWeight(*body);
                           if (!weight.ok())
                               co_return ErrorResponse(weight.error(), ctx.req.request_id);
                           auto k = co_await keys.Add(who, std::move(name.value()),
                                                      std::move(secret.value()),
                                                      weight->value_or(1), RequestMetaOf(ctx.req));
                           if (!k.ok()) co_return ErrorResponse(k.error(), ctx.req.request_id);
                           co_return JsonResponse(201, KeyJson(*k));
                       }));

    router.Add("POST", "/api/v1/admin/upstream-keys/{id}/rotate",
               Require(accounts, perm,
                       [&keys](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                           if (auto ok = OnlyFields(*body, {"secret"}); !ok.ok())
                               co_return ErrorResponse(ok.error(), ctx.req.request_id);
                           auto secret = ReqString(*body, "secret");
                           if (!secret.ok())
                               co_return ErrorResponse(secret.error(), ctx.req.request_id);
                           auto k = co_await keys.Rotate(who, ctx.req.Param("id"),
                                                         std::move(secret.value()), RequestMetaOf(ctx.req));
                           if (!k.ok()) co_return ErrorResponse(k.error(), ctx.req.request_id);
                           co_return JsonResponse(200, KeyJson(*k));
                       }));

    router.Add("PATCH", "/api/v1/admin/upstream-keys/{id}",
               Require(accounts, perm,
                       [&keys](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                           if (auto ok = OnlyFields(*body, {"status", "weight"}); !ok.ok())
                               co_return ErrorResponse(ok.error(), ctx.req.request_id);
                           std::optional<bool> enabled;
                           auto st = OptString(*body, "status");
                           if (!st.ok()) co_return ErrorResponse(st.error(), ctx.req.request_id);
                           if (st.value()) {
                               if (*st.value() == "active") enabled = true;
                               else if (*st.value() == "disabled") enabled = false;
                               else
                                   co_return ErrorResponse(
                                       FieldError("status", "must be active or disabled."),
                                       ctx.req.request_id);
                           }
                           auto weight = OptWeight(*body);
                           if (!weight.ok())
                               co_return ErrorResponse(weight.error(), ctx.req.request_id);
                           auto k = co_await keys.Update(who, ctx.req.Param("id"), enabled,
                                                         weight.value(), RequestMetaOf(ctx.req));
                           if (!k.ok()) co_return ErrorResponse(k.error(), ctx.req.request_id);
                           co_return JsonResponse(200, KeyJson(*k));
                       }));

    router.Add("DELETE", "/api/v1/admin/upstream-keys/{id}",
               Require(accounts, perm,
                       [&keys](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto r = co_await keys.Delete(who, ctx.req.Param("id"), RequestMetaOf(ctx.req));
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return http::Response::NoContent();
                       }));
}

}  // namespace hub::api
