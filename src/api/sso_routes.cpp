// Single sign-on (OpenID Connect): /api/v1/auth/sso/* and the user's linked identities.
// The browser-facing steps (start, callback) answer redirects, and readable HTML pages when
// they refuse; the web app's steps (exchange, link) answer JSON like POST /auth/login.
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "api/token_response.hpp"
#include "services/sso.hpp"

namespace hub::api {

namespace {

std::int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string HtmlEscape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

// A refusal the browser shows: a small page in words (both languages), the reason code for
// support, a way back to the sign-in page. Same status as the JSON error would have.
http::Response ErrorPage(const core::Error& e, const std::string& request_id) {
    int status = StatusFor(e.code);
    std::string body =
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>Sign-in failed - Bailian Hub</title></head><body>"
        "<main><h1>Sign-in failed</h1><p id=\"message\">" +
        HtmlEscape(e.public_message) +
        "</p><p lang=\"zh-CN\">登录失败，请返回重新登录。</p>"
        "<p>Reason: <code id=\"reason\">" +
        HtmlEscape(e.api_code) + "</code> · Request: <code>" + HtmlEscape(request_id) +
        "</code></p><p><a href=\"/login\">Back to sign-in</a></p></main></body></html>";
    auto r = http::Response::Text(status, std::move(body), "text/html; charset=utf-8");
    if (e.retry_after_s > 0) r.headers.Set("Retry-After", std::to_string(e.retry_after_s));
    return r;
}

constexpr const char* kStateCookie = "bh_sso_state";

// The state of the sign-in this browser started (HttpOnly; Lax, so that it comes back with the
// provider's top-level redirect; only to the callback's path).
std::string StateCookie(const std::string& value, std::int64_t max_age_s, bool secure) {
    std::string c = std::string(kStateCookie) + "=" + value +
                    "; Path=/api/v1/auth/sso; HttpOnly; SameSite=Lax; Max-Age=" +
                    std::to_string(max_age_s);
    if (secure) c += "; Secure";
    return c;
}

http::Response Redirect(const std::string& location) {
    http::Response r;
    r.status = 302;
    r.headers.Set("Location", location);
    return r;
}

std::string CallbackUrl(const WebConfig& web, const http::Request& req,
                        const std::string& provider) {
    std::string base = web.public_url.empty()
                           ? "http://" + req.headers.GetOr("Host", "127.0.0.1")
                           : web.public_url;
    return base + "/api/v1/auth/sso/" + http::PercentEncode(provider) + "/callback";
}

nlohmann::json IdentityJson(const store::UserIdentity& i,
                            const std::vector<services::SsoProviderInfo>& providers) {
    std::string display = i.provider;
    for (const auto& p : providers)
        if (p.id == i.provider) display = p.display_name;
    return {{"id", i.id},
            {"provider", i.provider},
            {"provider_display_name", display},
            {"email", i.email},
            {"created_at", Iso(i.created_at)},
            {"last_login_at",
             i.last_login_at ? nlohmann::json(Iso(*i.last_login_at)) : nlohmann::json(nullptr)}};
}

}  // namespace

void RegisterSsoRoutes(http::Router& router, const ApiDeps& deps) {
    services::Sso& sso = deps.sso;
    services::Accounts& accounts = deps.accounts;
    const WebConfig& web = deps.web;

    router.Add("GET", "/api/v1/auth/sso/providers",
               [&sso](http::Context&) -> net::awaitable<http::Response> {
                   nlohmann::json items = nlohmann::json::array();
                   for (const auto& p : sso.Providers())
                       items.push_back({{"id", p.id}, {"display_name", p.display_name}});
                   co_return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
               });

    router.Add("GET", "/api/v1/auth/sso/{provider}/start",
               [&sso, &web](http::Context& ctx) -> net::awaitable<http::Response> {
                   std::string provider = ctx.req.Param("provider");
                   std::string callback = CallbackUrl(web, ctx.req, provider);
                   auto started = co_await sso.Start(provider, callback, RequestMetaOf(ctx.req));
                   if (!started.ok()) co_return ErrorPage(started.error(), ctx.req.request_id);
                   auto r = Redirect(started->url);
                   r.headers.Add("Set-Cookie",
                                 StateCookie(started->state.Reveal(), 600, web.secure_cookies));
                   co_return r;
               });

    router.Add("GET", "/api/v1/auth/sso/{provider}/callback",
               [&sso, &web](http::Context& ctx) -> net::awaitable<http::Response> {
                   std::string provider = ctx.req.Param("provider");
                   std::string callback = CallbackUrl(web, ctx.req, provider);
                   std::string code = ctx.req.Query("code").value_or("");
                   std::string state = ctx.req.Query("state").value_or("");
                   std::string error = ctx.req.Query("error").value_or("");
                   std::string browser_state = CookieValue(ctx.req, kStateCookie).value_or("");
                   auto done = co_await sso.Callback(provider, code, state, error, browser_state,
                                                     callback, RequestMetaOf(ctx.req));
                   http::Response r;
                   if (!done.ok()) {
                       r = ErrorPage(done.error(), ctx.req.request_id);
                   } else if (done->kind == services::SsoCallbackResult::Kind::kLinkNeeded) {
                       using http::PercentEncode;
                       r = Redirect("/sso/link?token=" + PercentEncode(done->token.Reveal()) +
                                    "&provider=" + PercentEncode(done->provider_display_name) +
                                    "&email=" + PercentEncode(done->email));
                   } else {
                       r = Redirect("/sso/complete?ticket=" +
                                    http::PercentEncode(done->token.Reveal()));
                   }
                   // The state is spent either way.
                   if (!browser_state.empty())
                       r.headers.Add("Set-Cookie", StateCookie("", 0, web.secure_cookies));
                   co_return r;
               });

    router.Add("POST", "/api/v1/auth/sso/exchange",
               [&sso, &web](http::Context& ctx) -> net::awaitable<http::Response> {
                   auto body = ParseJsonObject(ctx.req);
                   if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                   auto ticket = ReqString(*body, "ticket");
                   if (!ticket.ok()) co_return ErrorResponse(ticket.error(), ctx.req.request_id);
                   auto signin = co_await sso.Exchange(std::move(ticket.value()), RequestMetaOf(ctx.req));
                   if (!signin.ok()) co_return ErrorResponse(signin.error(), ctx.req.request_id);
                   if (signin->tokens) ctx.user_id = signin->tokens->user.id;
                   co_return SignInResponse(*signin, NowMs(), web.secure_cookies);
               });

    router.Add("POST", "/api/v1/auth/sso/link",
               [&sso, &web](http::Context& ctx) -> net::awaitable<http::Response> {
                   auto body = ParseJsonObject(ctx.req);
                   if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                   auto token = ReqString(*body, "link_token");
                   if (!token.ok()) co_return ErrorResponse(token.error(), ctx.req.request_id);
                   auto password = ReqString(*body, "password");
                   if (!password.ok())
                       co_return ErrorResponse(password.error(), ctx.req.request_id);
                   auto signin = co_await sso.Link(std::move(token.value()),
                                                   std::move(password.value()), RequestMetaOf(ctx.req));
                   if (!signin.ok()) co_return ErrorResponse(signin.error(), ctx.req.request_id);
                   if (signin->tokens) ctx.user_id = signin->tokens->user.id;
                   co_return SignInResponse(*signin, NowMs(), web.secure_cookies);
               });

    router.Add("GET", "/api/v1/users/me/identities",
               Require(accounts, "",
                       [&sso](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto list = co_await sso.Identities(who);
                           if (!list.ok()) co_return ErrorResponse(list.error(), ctx.req.request_id);
                           auto providers = sso.Providers();
                           nlohmann::json items = nlohmann::json::array();
                           for (const auto& i : *list) items.push_back(IdentityJson(i, providers));
                           co_return JsonResponse(200, {{"items", items}, {"next_cursor", nullptr}});
                       }));

    router.Add("DELETE", "/api/v1/users/me/identities/{id}",
               Require(accounts, "",
                       [&sso](http::Context& ctx, const auth::Principal& who)
                           -> net::awaitable<http::Response> {
                           auto r = co_await sso.Unlink(who, ctx.req.Param("id"), RequestMetaOf(ctx.req));
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return http::Response::NoContent();
                       }));
}

}  // namespace hub::api
