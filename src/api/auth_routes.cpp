// /api/v1/auth/*: register, login (and its MFA second step), refresh, logout, sessions, JWKS.
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "api/relay.hpp"
#include "api/token_response.hpp"
#include "auth/jwt.hpp"
#include "services/accounts.hpp"
#include "services/mfa.hpp"

namespace hub::api {

namespace {

constexpr const char* kRefreshCookie = "bh_refresh";
constexpr const char* kCookiePath = "/api/v1/auth";

// The meta of a request that waits for a password hash: it also learns when the client leaves,
// so a login nobody waits for any more is not hashed.
services::RequestMeta WatchedMeta(http::Context& ctx) {
    auto meta = RequestMetaOf(ctx.req);
    meta.client_gone = std::make_shared<core::Cancel>();
    ctx.stream.OnClientGone([gone = meta.client_gone] { gone->Trigger(); });
    return meta;
}

std::string RefreshCookie(const std::string& value, std::int64_t max_age_s, bool secure) {
    std::string c = std::string(kRefreshCookie) + "=" + value + "; Path=" + kCookiePath +
                    "; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
    if (secure) c += "; Secure";
    return c;
}


// A cookie-carried refresh must come from our own origin or an allowed one (CSRF).
bool OriginAllowed(const http::Request& req, const WebConfig& web) {
    auto origin = req.headers.Get("Origin");
    if (!origin || *origin == "null") return false;
    for (const auto& o : web.allowed_origins)
        if (*origin == o) return true;
    auto host = req.headers.Get("Host");
    if (!host) return false;
    std::string_view o = *origin;
    auto scheme_end = o.find("://");
    if (scheme_end == std::string_view::npos) return false;
    return o.substr(scheme_end + 3) == *host;
}

std::int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::optional<std::string> CookieValue(const http::Request& req, std::string_view name) {
    for (const auto& f : req.headers.fields()) {
        if (!http::IEquals(f.name, "Cookie")) continue;
        std::string_view v = f.value;
        while (!v.empty()) {
            auto semi = v.find(';');
            std::string_view part = v.substr(0, semi);
            while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
            auto eq = part.find('=');
            if (eq != std::string_view::npos && part.substr(0, eq) == name)
                return std::string(part.substr(eq + 1));
            if (semi == std::string_view::npos) break;
            v.remove_prefix(semi + 1);
        }
    }
    return std::nullopt;
}

http::Response TokenResponse(const services::TokenPair& p, std::int64_t now_ms, bool secure) {
    nlohmann::json body = {{"access_token", p.access_token},
                           {"token_type", "Bearer"},
                           {"expires_in", p.expires_in},
                           {"refresh_token", p.refresh_token.Reveal()},
                           {"user", UserJson(p.user)}};
    auto r = JsonResponse(200, body);
    std::int64_t max_age = std::max<std::int64_t>(0, (p.refresh_expires_at - now_ms) / 1000);
    r.headers.Add("Set-Cookie", RefreshCookie(p.refresh_token.Reveal(), max_age, secure));
    return r;
}

namespace {

// Instead of tokens: the second step a sign-in must take (no token, no cookie).
http::Response ChallengeResponse(const services::MfaChallenge& c) {
    bool enroll = c.purpose == services::MfaPurpose::kEnroll;
    nlohmann::json body = {{enroll ? "mfa_enrollment_required" : "mfa_required", true},
                           {"mfa_token", c.token.Reveal()},
                           {"methods", c.methods},
                           {"expires_in", c.expires_in}};
    auto r = JsonResponse(200, body);
    r.headers.Set("Cache-Control", "no-store");
    return r;
}

}  // namespace

http::Response SignInResponse(const services::SignInResult& r, std::int64_t now_ms, bool secure) {
    if (r.challenge) return ChallengeResponse(*r.challenge);
    return TokenResponse(*r.tokens, now_ms, secure);
}

namespace {

nlohmann::json EnrollmentJson(const services::TotpEnrollment& e) {
    return {{"secret", e.secret.Reveal()}, {"otpauth_uri", e.otpauth_uri.Reveal()}};
}

// {mfa_token} of a second-step request, required and a string.
core::Result<std::string> MfaToken(const nlohmann::json& body) {
    auto t = ReqString(body, "mfa_token");
    if (!t.ok()) return t.error();
    return t.value();
}

}  // namespace
void RegisterAuthRoutes(http::Router& router, const ApiDeps& deps) {
    services::Accounts& accounts = deps.accounts;
    const WebConfig& web = deps.web;

    router.Add("POST", "/api/v1/auth/register",
               [&accounts](http::Context& ctx) -> net::awaitable<http::Response> {
                   auto body = ParseJsonObject(ctx.req);
                   if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                   services::RegisterInput in;
                   // role, status, id and other fields a client may not set are ignored.
                   for (auto [field, target] :
                        {std::pair{"username", &in.username}, std::pair{"email", &in.email},
                         std::pair{"password", &in.password}}) {
                       auto v = ReqString(*body, field);
                       if (!v.ok()) co_return ErrorResponse(v.error(), ctx.req.request_id);
                       *target = std::move(v.value());
                   }
                   auto dn = OptString(*body, "display_name");
                   if (!dn.ok()) co_return ErrorResponse(dn.error(), ctx.req.request_id);
                   in.display_name = dn->value_or("");
                   GoneHookReset reset{ctx.stream};
                   auto meta = WatchedMeta(ctx);
                   auto user = co_await accounts.Register(std::move(in), std::move(meta));
                   if (!user.ok()) co_return ErrorResponse(user.error(), ctx.req.request_id);
                   ctx.user_id = user->id;
                   co_return JsonResponse(201, {{"user", UserJson(*user)}});
               });

    router.Add("POST", "/api/v1/auth/login",
               [&accounts, &web](http::Context& ctx) -> net::awaitable<http::Response> {
                   auto body = ParseJsonObject(ctx.req);
                   if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                   auto login = OptString(*body, "username");
                   if (!login.ok()) co_return ErrorResponse(login.error(), ctx.req.request_id);
                   if (!login.value()) {
                       login = OptString(*body, "email");
                       if (!login.ok()) co_return ErrorResponse(login.error(), ctx.req.request_id);
                   }
                   auto password = ReqString(*body, "password");
                   if (!password.ok())
                       co_return ErrorResponse(password.error(), ctx.req.request_id);
                   if (!login.value() || login.value()->empty()) {
                       co_return ErrorResponse(FieldError("username", "is required."),
                                               ctx.req.request_id);
                   }
                   // One-step sign-in for accounts with TOTP (DESIGN: totp_code?).
                   auto totp = OptString(*body, "totp_code");
                   if (!totp.ok()) co_return ErrorResponse(totp.error(), ctx.req.request_id);
                   GoneHookReset reset{ctx.stream};
                   auto meta = WatchedMeta(ctx);
                   auto signin = co_await accounts.Login(*login.value(),
                                                         std::move(password.value()),
                                                         std::move(totp.value()), std::move(meta));
                   if (!signin.ok()) co_return ErrorResponse(signin.error(), ctx.req.request_id);
                   if (signin->tokens) ctx.user_id = signin->tokens->user.id;
                   co_return SignInResponse(*signin, NowMs(), web.secure_cookies);
               });

    // The second step: {mfa_token, code} or {mfa_token, recovery_code} -> the same answer as a
    // password sign-in.
    router.Add("POST", "/api/v1/auth/login/mfa",
               [&accounts, &web](http::Context& ctx) -> net::awaitable<http::Response> {
                   const auto& rid = ctx.req.request_id;
                   auto body = ParseJsonObject(ctx.req);
                   if (!body.ok()) co_return ErrorResponse(body.error(), rid);
                   if (auto ok = OnlyFields(*body, {"mfa_token", "code", "recovery_code"}); !ok.ok())
                       co_return ErrorResponse(ok.error(), rid);
                   auto token = MfaToken(*body);
                   if (!token.ok()) co_return ErrorResponse(token.error(), rid);
                   services::SecondFactor factor;
                   auto code = OptString(*body, "code");
                   if (!code.ok()) co_return ErrorResponse(code.error(), rid);
                   auto recovery = OptString(*body, "recovery_code");
                   if (!recovery.ok()) co_return ErrorResponse(recovery.error(), rid);
                   if (code.value().has_value() == recovery.value().has_value()) {
                       co_return ErrorResponse(
                           FieldError("code", "give either code or recovery_code."), rid);
                   }
                   factor.code = std::move(code.value());
                   factor.recovery_code = std::move(recovery.value());
                   auto pair = co_await accounts.LoginMfa(std::move(token.value()),
                                                          std::move(factor), RequestMetaOf(ctx.req));
                   if (!pair.ok()) co_return ErrorResponse(pair.error(), rid);
                   ctx.user_id = pair->user.id;
                   co_return TokenResponse(*pair, NowMs(), web.secure_cookies);
               });

    // Enrollment required by the user's role: a secret for the enroll token...
    router.Add("POST", "/api/v1/auth/login/mfa/enroll",
               [&accounts](http::Context& ctx) -> net::awaitable<http::Response> {
                   const auto& rid = ctx.req.request_id;
                   auto body = ParseJsonObject(ctx.req);
                   if (!body.ok()) co_return ErrorResponse(body.error(), rid);
                   if (auto ok = OnlyFields(*body, {"mfa_token"}); !ok.ok())
                       co_return ErrorResponse(ok.error(), rid);
                   auto token = MfaToken(*body);
                   if (!token.ok()) co_return ErrorResponse(token.error(), rid);
                   auto e = co_await accounts.LoginEnroll(std::move(token.value()), RequestMetaOf(ctx.req));
                   if (!e.ok()) co_return ErrorResponse(e.error(), rid);
                   auto r = JsonResponse(200, EnrollmentJson(*e));
                   r.headers.Set("Cache-Control", "no-store");
                   co_return r;
               });

    // ... then the first code: the recovery codes and the tokens of a password sign-in.
    router.Add("POST", "/api/v1/auth/login/mfa/enroll/confirm",
               [&accounts, &web](http::Context& ctx) -> net::awaitable<http::Response> {
                   const auto& rid = ctx.req.request_id;
                   auto body = ParseJsonObject(ctx.req);
                   if (!body.ok()) co_return ErrorResponse(body.error(), rid);
                   if (auto ok = OnlyFields(*body, {"mfa_token", "code"}); !ok.ok())
                       co_return ErrorResponse(ok.error(), rid);
                   auto token = MfaToken(*body);
                   if (!token.ok()) co_return ErrorResponse(token.error(), rid);
                   auto code = ReqString(*body, "code");
                   if (!code.ok()) co_return ErrorResponse(code.error(), rid);
                   auto done = co_await accounts.LoginEnrollConfirm(
                       std::move(token.value()), std::move(code.value()), RequestMetaOf(ctx.req));
                   if (!done.ok()) co_return ErrorResponse(done.error(), rid);
                   ctx.user_id = done->tokens.user.id;
                   auto r = TokenResponse(done->tokens, NowMs(), web.secure_cookies);
                   // The same body as a sign-in, plus the codes shown this once.
                   auto j = nlohmann::json::parse(r.body);
                   j["recovery_codes"] = done->recovery_codes.Reveal();
                   r.body = j.dump();
                   r.headers.Set("Cache-Control", "no-store");
                   co_return r;
               });

    router.Add("POST", "/api/v1/auth/refresh",
               [&accounts, &web](http::Context& ctx) -> net::awaitable<http::Response> {
                   std::optional<std::string> token;
                   if (!ctx.req.body.empty()) {
                       auto body = ParseJsonObject(ctx.req);
                       if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                       auto t = OptString(*body, "refresh_token");
                       if (!t.ok()) co_return ErrorResponse(t.error(), ctx.req.request_id);
                       token = t.value();
                   }
                   if (!token) {
                       token = CookieValue(ctx.req, kRefreshCookie);
                       if (token && !OriginAllowed(ctx.req, web)) {
                           co_return ErrorResponse(
                               core::Error::Make(core::ErrorCode::kForbidden, "origin_not_allowed",
                                                 "This origin may not use the refresh cookie."),
                               ctx.req.request_id);
                       }
                   }
                   if (!token) {
                       co_return ErrorResponse(
                           core::Error::Make(core::ErrorCode::kUnauthenticated,
                                             "invalid_refresh_token",
                                             "No refresh token: send refresh_token or the cookie."),
                           ctx.req.request_id);
                   }
                   auto pair = co_await accounts.Refresh(*token, RequestMetaOf(ctx.req));
                   if (!pair.ok()) {
                       auto r = ErrorResponse(pair.error(), ctx.req.request_id);
                       r.headers.Add("Set-Cookie", RefreshCookie("", 0, web.secure_cookies));
                       co_return r;
                   }
                   ctx.user_id = pair->user.id;
                   co_return TokenResponse(*pair, NowMs(), web.secure_cookies);
               });

    router.Add("POST", "/api/v1/auth/logout",
               Require(accounts, "",
                       [&accounts, &web](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto r = co_await accounts.Logout(who, RequestMetaOf(ctx.req));
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           auto resp = http::Response::NoContent();
                           resp.headers.Add("Set-Cookie", RefreshCookie("", 0, web.secure_cookies));
                           co_return resp;
                       }));

    router.Add("GET", "/api/v1/auth/sessions",
               Require(accounts, "",
                       [&accounts](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto list = co_await accounts.Sessions(who);
                           if (!list.ok()) co_return ErrorResponse(list.error(), ctx.req.request_id);
                           nlohmann::json items = nlohmann::json::array();
                           for (const auto& s : *list) items.push_back(SessionJson(s, who.session_id));
                           co_return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
                       }));

    router.Add("DELETE", "/api/v1/auth/sessions/{id}",
               Require(accounts, "",
                       [&accounts](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto r = co_await accounts.RevokeSession(who, ctx.req.Param("id"),
                                                                    RequestMetaOf(ctx.req));
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return http::Response::NoContent();
                       }));

    const auth::KeyRing& ring = deps.keyring;
    router.Add("GET", "/api/v1/auth/jwks",
               [&ring](http::Context&) -> net::awaitable<http::Response> {
                   auto r = http::Response::Json(200, ring.JwksJson(std::chrono::system_clock::now()));
                   r.headers.Set("Cache-Control", "public, max-age=300");
                   co_return r;
               });
}

}  // namespace hub::api
