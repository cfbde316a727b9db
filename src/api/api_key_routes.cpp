// /api/v1/api-keys: the signed-in user's platform API keys (JWT only; a key cannot manage keys).
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "auth/rbac.hpp"
#include "services/accounts.hpp"
#include "services/api_keys.hpp"

namespace hub::api {

namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

nlohmann::json ApiKeyJson(const store::ApiKey& k) {
    return {{"id", k.id},
            {"name", k.name},
            {"prefix", k.prefix},
            {"models", services::ParseModelList(k.models)},
            {"expires_at", k.expires_at ? nlohmann::json(Iso(*k.expires_at)) : nullptr},
            {"last_used_at", k.last_used_at ? nlohmann::json(Iso(*k.last_used_at)) : nullptr},
            {"created_at", Iso(k.created_at)},
            {"limits",
             {{"rpm", k.rpm ? nlohmann::json(*k.rpm) : nullptr},
              {"tpm", k.tpm ? nlohmann::json(*k.tpm) : nullptr}}}};
}

// A whole number or null (absent = null); the range is the service's to check.
core::Result<std::optional<std::int64_t>> OptWhole(const nlohmann::json& obj,
                                                   const std::string& field,
                                                   const std::string& shown) {
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return std::optional<std::int64_t>{};
    if (!it->is_number_integer())
        return FieldError(shown, "must be a whole number from 1 to 1000000000, or null.");
    return std::optional<std::int64_t>(it->get<std::int64_t>());
}

std::int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// {name, expires_at? (ISO-8601 UTC or epoch ms), expires_in_days? (1..3650), models? [ids]}
core::Result<services::ApiKeyInput> ParseInput(const nlohmann::json& body) {
    if (auto ok = OnlyFields(body, {"name", "expires_at", "expires_in_days", "models"}); !ok.ok())
        return ok.error();
    services::ApiKeyInput in;
    auto name = ReqString(body, "name");
    if (!name.ok()) return name.error();
    in.name = std::move(name.value());
    if (auto it = body.find("expires_at"); it != body.end() && !it->is_null()) {
        if (it->is_number_integer()) {
            in.expires_at = it->get<std::int64_t>();
        } else if (it->is_string()) {
            auto t = ParseTime("expires_at", it->get<std::string>());
            if (!t.ok()) return t.error();
            in.expires_at = t.value();
        } else {
            return FieldError("expires_at", "must be an ISO-8601 time or epoch milliseconds.");
        }
    }
    if (auto it = body.find("expires_in_days"); it != body.end() && !it->is_null()) {
        if (in.expires_at) return FieldError("expires_in_days", "cannot be used with expires_at.");
        if (!it->is_number_integer() || it->get<std::int64_t>() < 1 ||
            it->get<std::int64_t>() > 3650) {
            return FieldError("expires_in_days", "must be a whole number from 1 to 3650.");
        }
        in.expires_at = NowMs() + it->get<std::int64_t>() * kDayMs;
    }
    if (auto it = body.find("models"); it != body.end() && !it->is_null()) {
        if (!it->is_array()) return FieldError("models", "must be an array of model ids.");
        for (const auto& m : *it) {
            if (!m.is_string() || m.get<std::string>().empty())
                return FieldError("models", "must be an array of model ids.");
            in.models.push_back(m.get<std::string>());
        }
    }
    return in;
}

}  // namespace

void RegisterApiKeyRoutes(http::Router& router, const ApiDeps& deps) {
    services::Accounts& accounts = deps.accounts;
    services::ApiKeys& keys = deps.api_keys;
    const std::string perm(auth::perm::kApiKeysOwn);

    router.Add(
        "GET", "/api/v1/api-keys",
        Require(accounts, perm,
                [&keys](http::Context& ctx,
                        const auth::Principal& who) -> net::awaitable<http::Response> {
                    auto list = co_await keys.List(who);
                    if (!list.ok()) co_return ErrorResponse(list.error(), ctx.req.request_id);
                    nlohmann::json items = nlohmann::json::array();
                    for (const auto& k : *list) items.push_back(ApiKeyJson(k));
                    co_return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
                }));

    router.Add("POST", "/api/v1/api-keys",
               Require(accounts, perm,
                       [&keys](http::Context& ctx,
                               const auth::Principal& who) -> net::awaitable<http::Response> {
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok())
                               co_return ErrorResponse(body.error(), ctx.req.request_id);
                           auto in = ParseInput(*body);
                           if (!in.ok()) co_return ErrorResponse(in.error(), ctx.req.request_id);
                           auto created =
                               co_await keys.Create(who, std::move(in.value()), RequestMetaOf(ctx.req));
                           if (!created.ok())
                               co_return ErrorResponse(created.error(), ctx.req.request_id);
                           nlohmann::json out = ApiKeyJson(created->key);
                           // The only time the key is ever shown.
                           out["key"] = created->token.Reveal();
                           auto r = JsonResponse(201, out);
                           r.headers.Set("Location", "/api/v1/api-keys/" + created->key.id);
                           co_return r;
                       }));

    // {"limits": {"rpm": n|null, "tpm": n|null}}: replaces the key's own rate limits.
    router.Add("PATCH", "/api/v1/api-keys/{id}",
               Require(accounts, perm,
                       [&keys](http::Context& ctx,
                               const auth::Principal& who) -> net::awaitable<http::Response> {
                           const std::string& rid = ctx.req.request_id;
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), rid);
                           if (auto ok = OnlyFields(*body, {"limits"}); !ok.ok())
                               co_return ErrorResponse(ok.error(), rid);
                           auto it = body->find("limits");
                           if (it == body->end() || !it->is_object())
                               co_return ErrorResponse(
                                   FieldError("limits", "must be an object {rpm, tpm}."), rid);
                           if (auto ok = OnlyFields(*it, {"rpm", "tpm"}); !ok.ok())
                               co_return ErrorResponse(ok.error(), rid);
                           auto rpm = OptWhole(*it, "rpm", "limits.rpm");
                           if (!rpm.ok()) co_return ErrorResponse(rpm.error(), rid);
                           auto tpm = OptWhole(*it, "tpm", "limits.tpm");
                           if (!tpm.ok()) co_return ErrorResponse(tpm.error(), rid);
                           auto key = co_await keys.SetLimits(who, ctx.req.Param("id"),
                                                              rpm.value(), tpm.value(),
                                                              RequestMetaOf(ctx.req));
                           if (!key.ok()) co_return ErrorResponse(key.error(), rid);
                           co_return JsonResponse(200, ApiKeyJson(*key));
                       }));

    router.Add("DELETE", "/api/v1/api-keys/{id}",
               Require(accounts, perm,
                       [&keys](http::Context& ctx,
                               const auth::Principal& who) -> net::awaitable<http::Response> {
                           auto r = co_await keys.Revoke(who, ctx.req.Param("id"), RequestMetaOf(ctx.req));
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return http::Response::NoContent();
                       }));
}

}  // namespace hub::api
