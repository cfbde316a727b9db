// /api/v1/users/me/mfa*: the signed-in user's TOTP enrollment, recovery codes and disabling.
// (The second sign-in step is in auth_routes.cpp, beside the password sign-in it completes.)
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "services/accounts.hpp"
#include "services/mfa.hpp"

namespace hub::api {

namespace {

http::Response NoStore(http::Response r) {
    r.headers.Set("Cache-Control", "no-store");
    return r;
}

nlohmann::json CodesJson(const services::RecoveryCodes& codes) {
    return {{"recovery_codes", codes.Reveal()}};
}

// {password, code} or {password, recovery_code}.
core::Result<std::pair<std::string, services::SecondFactor>> PasswordAndFactor(
    const nlohmann::json& body) {
    if (auto ok = OnlyFields(body, {"password", "code", "recovery_code"}); !ok.ok())
        return ok.error();
    auto pw = ReqString(body, "password");
    if (!pw.ok()) return pw.error();
    auto code = OptString(body, "code");
    if (!code.ok()) return code.error();
    auto recovery = OptString(body, "recovery_code");
    if (!recovery.ok()) return recovery.error();
    if (code.value().has_value() == recovery.value().has_value())
        return FieldError("code", "give either code or recovery_code.");
    services::SecondFactor f;
    f.code = std::move(code.value());
    f.recovery_code = std::move(recovery.value());
    return std::pair{std::move(pw.value()), std::move(f)};
}

}  // namespace

void RegisterMfaRoutes(http::Router& router, const ApiDeps& deps) {
    services::Accounts& accounts = deps.accounts;
    services::Mfa& mfa = deps.mfa;

    router.Add("GET", "/api/v1/users/me/mfa",
               Require(accounts, "",
                       [&mfa](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto s = co_await mfa.Status(who);
                           if (!s.ok()) co_return ErrorResponse(s.error(), ctx.req.request_id);
                           nlohmann::json enrolled =
                               s->enrolled_at ? nlohmann::json(core::FormatIsoMs(*s->enrolled_at))
                                              : nlohmann::json(nullptr);
                           co_return JsonResponse(
                               200, {{"totp_enabled", s->totp_enabled},
                                     {"enrollment_pending", s->enrollment_pending},
                                     {"required", s->required},
                                     {"recovery_codes_left", s->recovery_codes_left},
                                     {"enrolled_at", enrolled}});
                       }));

    router.Add("POST", "/api/v1/users/me/mfa/totp",
               Require(accounts, "",
                       [&mfa](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           const auto& rid = ctx.req.request_id;
                           if (!ctx.req.body.empty()) {
                               auto body = ParseJsonObject(ctx.req);
                               if (!body.ok()) co_return ErrorResponse(body.error(), rid);
                               if (auto ok = OnlyFields(*body, {}); !ok.ok())
                                   co_return ErrorResponse(ok.error(), rid);
                           }
                           auto e = co_await mfa.BeginEnrollment(who, RequestMetaOf(ctx.req));
                           if (!e.ok()) co_return ErrorResponse(e.error(), rid);
                           co_return NoStore(JsonResponse(
                               200, {{"secret", e->secret.Reveal()},
                                     {"otpauth_uri", e->otpauth_uri.Reveal()}}));
                       }));

    router.Add("POST", "/api/v1/users/me/mfa/totp/confirm",
               Require(accounts, "",
                       [&mfa](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           const auto& rid = ctx.req.request_id;
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), rid);
                           if (auto ok = OnlyFields(*body, {"code"}); !ok.ok())
                               co_return ErrorResponse(ok.error(), rid);
                           auto code = ReqString(*body, "code");
                           if (!code.ok()) co_return ErrorResponse(code.error(), rid);
                           auto codes = co_await mfa.ConfirmEnrollment(
                               who, std::move(code.value()), RequestMetaOf(ctx.req));
                           if (!codes.ok()) co_return ErrorResponse(codes.error(), rid);
                           co_return NoStore(JsonResponse(200, CodesJson(*codes)));
                       }));

    router.Add("POST", "/api/v1/users/me/mfa/recovery-codes",
               Require(accounts, "",
                       [&mfa](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           const auto& rid = ctx.req.request_id;
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), rid);
                           auto in = PasswordAndFactor(*body);
                           if (!in.ok()) co_return ErrorResponse(in.error(), rid);
                           auto codes = co_await mfa.RegenerateRecoveryCodes(
                               who, std::move(in->first), std::move(in->second), RequestMetaOf(ctx.req));
                           if (!codes.ok()) co_return ErrorResponse(codes.error(), rid);
                           co_return NoStore(JsonResponse(200, CodesJson(*codes)));
                       }));

    router.Add("DELETE", "/api/v1/users/me/mfa/totp",
               Require(accounts, "",
                       [&mfa](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           const auto& rid = ctx.req.request_id;
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), rid);
                           auto in = PasswordAndFactor(*body);
                           if (!in.ok()) co_return ErrorResponse(in.error(), rid);
                           auto r = co_await mfa.Disable(who, std::move(in->first),
                                                         std::move(in->second), RequestMetaOf(ctx.req));
                           if (!r.ok()) co_return ErrorResponse(r.error(), rid);
                           co_return http::Response::NoContent();
                       }));
}

}  // namespace hub::api
