// Passkeys: /api/v1/users/me/passkeys[/options|/{id}] (manage) and /api/v1/auth/passkey[/options]
// (passwordless sign-in). Binary WebAuthn fields travel as base64url strings.
#include <chrono>

#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "api/token_response.hpp"
#include "crypto/crypto.hpp"
#include "services/passkeys.hpp"

namespace hub::api {

namespace {

std::string Host(const http::Request& req) { return req.headers.GetOr("Host"); }

core::Result<std::string> B64Field(const nlohmann::json& obj, const std::string& path,
                                   const char* field, bool required = true) {
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) {
        if (!required) return std::string();
        return FieldError(path + field, "is required.");
    }
    if (!it->is_string()) return FieldError(path + field, "must be a base64url string.");
    auto raw = crypto::Base64UrlDecode(it->get<std::string>());
    if (!raw) return FieldError(path + field, "must be base64url.");
    if (required && raw->empty()) return FieldError(path + field, "must not be empty.");
    return std::move(*raw);
}

// {credential: {id, rawId, type, response: {...}}}: the credential and its response object.
core::Result<std::pair<const nlohmann::json*, const nlohmann::json*>> CredentialParts(
    const nlohmann::json& body) {
    auto c = body.find("credential");
    if (c == body.end() || !c->is_object()) return FieldError("credential", "must be an object.");
    auto type = c->find("type");
    if (type == c->end() || *type != "public-key")
        return FieldError("credential.type", "must be \"public-key\".");
    auto r = c->find("response");
    if (r == c->end() || !r->is_object())
        return FieldError("credential.response", "must be an object.");
    return std::make_pair(&*c, &*r);
}

core::Result<std::string> RawId(const nlohmann::json& cred) {
    auto raw = B64Field(cred, "credential.", "rawId");
    if (!raw.ok()) return raw.error();
    // id is the same bytes, base64url: when both are sent they must agree.
    if (auto id = cred.find("id"); id != cred.end() && id->is_string()) {
        auto decoded = crypto::Base64UrlDecode(id->get<std::string>());
        if (!decoded || *decoded != *raw)
            return FieldError("credential.id", "must be rawId in base64url.");
    }
    return raw;
}

core::Result<services::RegistrationCredential> ParseRegistration(const nlohmann::json& body) {
    auto parts = CredentialParts(body);
    if (!parts.ok()) return parts.error();
    const auto& [cred, resp] = parts.value();
    services::RegistrationCredential out;
    auto raw = RawId(*cred);
    if (!raw.ok()) return raw.error();
    out.raw_id = std::move(raw.value());
    auto cd = B64Field(*resp, "credential.response.", "clientDataJSON");
    if (!cd.ok()) return cd.error();
    out.client_data_json = std::move(cd.value());
    auto att = B64Field(*resp, "credential.response.", "attestationObject");
    if (!att.ok()) return att.error();
    out.attestation_object = std::move(att.value());
    if (auto t = resp->find("transports"); t != resp->end() && !t->is_null()) {
        if (!t->is_array()) return FieldError("credential.response.transports", "must be an array.");
        for (const auto& v : *t) {
            if (!v.is_string())
                return FieldError("credential.response.transports", "must be strings.");
            out.transports.push_back(v.get<std::string>());
        }
    }
    return out;
}

core::Result<services::AssertionCredential> ParseAssertion(const nlohmann::json& body) {
    auto parts = CredentialParts(body);
    if (!parts.ok()) return parts.error();
    const auto& [cred, resp] = parts.value();
    services::AssertionCredential out;
    auto raw = RawId(*cred);
    if (!raw.ok()) return raw.error();
    out.raw_id = std::move(raw.value());
    const std::string path = "credential.response.";
    for (auto [field, target] : {std::pair{"clientDataJSON", &out.client_data_json},
                                 std::pair{"authenticatorData", &out.authenticator_data},
                                 std::pair{"signature", &out.signature}}) {
        auto v = B64Field(*resp, path, field);
        if (!v.ok()) return v.error();
        *target = std::move(v.value());
    }
    auto handle = B64Field(*resp, path, "userHandle", false);
    if (!handle.ok()) return handle.error();
    out.user_handle = std::move(handle.value());
    return out;
}

nlohmann::json PasskeyJson(const store::Passkey& p) {
    nlohmann::json transports = nlohmann::json::parse(p.transports, nullptr, false);
    if (!transports.is_array()) transports = nlohmann::json::array();
    const char* alg = p.alg == -7 ? "ES256" : p.alg == -257 ? "RS256" : "EdDSA";
    return {{"id", p.id},
            {"name", p.name},
            {"credential_id", crypto::Base64UrlEncode(p.credential_id)},
            {"algorithm", alg},
            {"transports", transports},
            {"created_at", Iso(p.created_at)},
            {"last_used_at", p.last_used_at ? nlohmann::json(Iso(*p.last_used_at)) : nullptr}};
}

std::int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

void RegisterPasskeyRoutes(http::Router& router, const ApiDeps& deps) {
    services::Accounts& accounts = deps.accounts;
    services::Passkeys& passkeys = deps.passkeys;
    const WebConfig& web = deps.web;

    router.Add("POST", "/api/v1/users/me/passkeys/options",
               Require(accounts, "",
                       [&passkeys](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto o = co_await passkeys.RegistrationOptions(who, Host(ctx.req));
                           if (!o.ok()) co_return ErrorResponse(o.error(), ctx.req.request_id);
                           co_return JsonResponse(200, *o);
                       }));

    router.Add("POST", "/api/v1/users/me/passkeys",
               Require(accounts, "",
                       [&passkeys](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                           if (auto ok = OnlyFields(*body, {"name", "credential"}); !ok.ok())
                               co_return ErrorResponse(ok.error(), ctx.req.request_id);
                           auto name = OptString(*body, "name");
                           if (!name.ok()) co_return ErrorResponse(name.error(), ctx.req.request_id);
                           auto cred = ParseRegistration(*body);
                           if (!cred.ok()) co_return ErrorResponse(cred.error(), ctx.req.request_id);
                           std::string n = name->value_or("");
                           auto p = co_await passkeys.Register(who, Host(ctx.req), std::move(n),
                                                               std::move(cred.value()),
                                                               RequestMetaOf(ctx.req));
                           if (!p.ok()) co_return ErrorResponse(p.error(), ctx.req.request_id);
                           co_return JsonResponse(201, PasskeyJson(*p));
                       }));

    router.Add("GET", "/api/v1/users/me/passkeys",
               Require(accounts, "",
                       [&passkeys](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto list = co_await passkeys.List(who);
                           if (!list.ok()) co_return ErrorResponse(list.error(), ctx.req.request_id);
                           nlohmann::json items = nlohmann::json::array();
                           for (const auto& p : *list) items.push_back(PasskeyJson(p));
                           co_return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
                       }));

    router.Add("PATCH", "/api/v1/users/me/passkeys/{id}",
               Require(accounts, "",
                       [&passkeys](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                           if (auto ok = OnlyFields(*body, {"name"}); !ok.ok())
                               co_return ErrorResponse(ok.error(), ctx.req.request_id);
                           auto name = ReqString(*body, "name");
                           if (!name.ok()) co_return ErrorResponse(name.error(), ctx.req.request_id);
                           auto p = co_await passkeys.Rename(who, ctx.req.Param("id"),
                                                             std::move(name.value()), RequestMetaOf(ctx.req));
                           if (!p.ok()) co_return ErrorResponse(p.error(), ctx.req.request_id);
                           co_return JsonResponse(200, PasskeyJson(*p));
                       }));

    router.Add("DELETE", "/api/v1/users/me/passkeys/{id}",
               Require(accounts, "",
                       [&passkeys](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto r = co_await passkeys.Delete(who, ctx.req.Param("id"), RequestMetaOf(ctx.req));
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return http::Response::NoContent();
                       }));

    router.Add("POST", "/api/v1/auth/passkey/options",
               [&passkeys](http::Context& ctx) -> net::awaitable<http::Response> {
                   auto o = co_await passkeys.LoginOptions(Host(ctx.req), RequestMetaOf(ctx.req));
                   if (!o.ok()) co_return ErrorResponse(o.error(), ctx.req.request_id);
                   co_return JsonResponse(200, *o);
               });

    // A passkey as the second step of a password sign-in ({mfa_token} from /auth/login).
    router.Add("POST", "/api/v1/auth/login/mfa/passkey/options",
               [&passkeys](http::Context& ctx) -> net::awaitable<http::Response> {
                   const auto& rid = ctx.req.request_id;
                   auto body = ParseJsonObject(ctx.req);
                   if (!body.ok()) co_return ErrorResponse(body.error(), rid);
                   if (auto ok = OnlyFields(*body, {"mfa_token"}); !ok.ok())
                       co_return ErrorResponse(ok.error(), rid);
                   auto token = ReqString(*body, "mfa_token");
                   if (!token.ok()) co_return ErrorResponse(token.error(), rid);
                   auto o = co_await passkeys.SecondStepOptions(std::move(token.value()),
                                                                Host(ctx.req));
                   if (!o.ok()) co_return ErrorResponse(o.error(), rid);
                   co_return JsonResponse(200, *o);
               });

    router.Add("POST", "/api/v1/auth/login/mfa/passkey",
               [&passkeys, &web](http::Context& ctx) -> net::awaitable<http::Response> {
                   const auto& rid = ctx.req.request_id;
                   auto body = ParseJsonObject(ctx.req);
                   if (!body.ok()) co_return ErrorResponse(body.error(), rid);
                   if (auto ok = OnlyFields(*body, {"mfa_token", "credential"}); !ok.ok())
                       co_return ErrorResponse(ok.error(), rid);
                   auto token = ReqString(*body, "mfa_token");
                   if (!token.ok()) co_return ErrorResponse(token.error(), rid);
                   auto cred = ParseAssertion(*body);
                   if (!cred.ok()) co_return ErrorResponse(cred.error(), rid);
                   auto pair = co_await passkeys.SecondStep(std::move(token.value()), Host(ctx.req),
                                                            std::move(cred.value()), RequestMetaOf(ctx.req));
                   if (!pair.ok()) co_return ErrorResponse(pair.error(), rid);
                   ctx.user_id = pair->user.id;
                   co_return TokenResponse(*pair, NowMs(), web.secure_cookies);
               });

    router.Add("POST", "/api/v1/auth/passkey",
               [&passkeys, &web](http::Context& ctx) -> net::awaitable<http::Response> {
                   auto body = ParseJsonObject(ctx.req);
                   if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                   auto cred = ParseAssertion(*body);
                   if (!cred.ok()) co_return ErrorResponse(cred.error(), ctx.req.request_id);
                   auto pair = co_await passkeys.Login(Host(ctx.req), std::move(cred.value()),
                                                       RequestMetaOf(ctx.req));
                   if (!pair.ok()) co_return ErrorResponse(pair.error(), ctx.req.request_id);
                   ctx.user_id = pair->user.id;
                   co_return TokenResponse(*pair, NowMs(), web.secure_cookies);
               });
}

}  // namespace hub::api
