#include "services/sso.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "auth/password.hpp"
#include "core/id.hpp"
#include "crypto/crypto.hpp"
#include "http/message.hpp"
#include "obs/logging.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;
using Claims = auth::oidc::IdTokenClaims;

namespace {

constexpr std::size_t kMaxDocumentBytes = 512 * 1024;
// Accounts made by single sign-on have no password: this is not a bcrypt hash, so no password
// ever matches it (PasswordHasher::Verify refuses anything not shaped like one).
constexpr const char* kNoPassword = "!sso";

Error Refusal(ErrorCode code, std::string reason, std::string message, std::string detail = {}) {
    return Error::Make(code, std::move(reason), std::move(message), std::move(detail));
}

Error Unavailable(const std::string& display_name, std::string detail) {
    Error e = Refusal(ErrorCode::kUnavailable, "provider_unavailable",
                      display_name + " cannot be reached right now. Try again later, or sign in "
                                     "with your password.",
                      std::move(detail));
    e.retry_after_s = 30;
    return e;
}

// "scheme://host[:port]/path?query" -> the client's base URL and the request target.
Result<std::pair<http::Url, std::string>> SplitUrl(const std::string& url) {
    auto scheme = url.find("://");
    if (scheme == std::string::npos)
        return Error::Make(ErrorCode::kInvalidArgument, "bad_url", "bad URL", url);
    auto slash = url.find('/', scheme + 3);
    std::string origin = slash == std::string::npos ? url : url.substr(0, slash);
    std::string target = slash == std::string::npos ? "/" : url.substr(slash);
    auto base = http::ParseBaseUrl(origin);
    if (!base.ok()) return base.error();
    return std::pair{base.value(), target};
}

std::string Str(const nlohmann::json& j, const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string DomainOf(const std::string& email) {
    auto at = email.rfind('@');
    return at == std::string::npos ? std::string() : auth::AsciiLower(email.substr(at + 1));
}

std::string Json(const nlohmann::json& j) { return j.dump(); }

}  // namespace

Sso::Sso(store::Store& store, async::WorkerPool& db, async::WorkerPool& crypto,
         const auth::PasswordHasher& hasher, const auth::RoleTable& roles,
         http::HttpClient& http, Accounts& accounts, limit::Limiter& limiter,
         const core::Clock& clock, SsoConfig cfg)
    : store_(store), db_(db), crypto_(crypto), hasher_(hasher), roles_(roles), http_(http),
      accounts_(accounts), limiter_(limiter), clock_(clock), cfg_(std::move(cfg)) {
    for (const auto& p : cfg_.providers) state_[p.id] = std::make_unique<ProviderState>();
}

std::vector<SsoProviderInfo> Sso::Providers() const {
    std::vector<SsoProviderInfo> out;
    for (const auto& p : cfg_.providers) out.push_back({p.id, p.display_name});
    return out;
}

const SsoProviderConfig* Sso::Find(const std::string& id) const {
    for (const auto& p : cfg_.providers)
        if (p.id == id) return &p;
    return nullptr;
}

void Sso::Forget(const SsoProviderConfig& p) {
    ProviderState& st = *state_.at(p.id);
    std::lock_guard lock(st.mu);
    st.discovery.reset();
}

net::awaitable<Result<void>> Sso::CheckLimit(RequestMeta meta) {
    std::string bucket = "sso:ip:" + meta.ip;
    auto d = co_await limiter_.Check(bucket, cfg_.per_ip, 1);
    if (d.allowed) co_return core::Ok();
    Error e = Refusal(ErrorCode::kRateLimited, "rate_limited",
                      "Too many sign-in attempts; try again in " +
                          std::to_string(d.RetryAfterSeconds()) + " s.");
    e.retry_after_s = std::max<std::int64_t>(1, d.RetryAfterSeconds());
    co_return e;
}

std::string Sso::UsernameBase(const std::string& preferred, const std::string& email) {
    auto clean = [](std::string_view in) {
        std::string out;
        for (char c : in) {
            char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
            bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_' || l == '.' ||
                      l == '-';
            if (ok) out += l;
        }
        if (out.size() > 24) out.resize(24);
        return out;
    };
    std::string base = clean(preferred);
    if (base.size() < 3) base = clean(email.substr(0, email.find('@')));
    while (base.size() < 3) base += '_';
    return base;
}

net::awaitable<void> Sso::Fail(std::string provider, std::string reason, std::string user_id,
                               RequestMeta meta) {
    obs::Warn("sso_failed", {{"provider", provider}, {"reason", reason}});
    co_await db_.Run(
        [this](std::string provider, std::string reason, std::string uid, RequestMeta meta) {
            std::optional<std::string> actor;
            if (!uid.empty()) actor = uid;
            AppendAudit(store_, clock_, actor, "auth.sso_failed", "provider:" + provider, meta,
                        Json({{"provider", provider}, {"reason", reason}}));
            return 0;
        },
        std::move(provider), std::move(reason), std::move(user_id), std::move(meta));
}

net::awaitable<Result<SsoCallbackResult>> Sso::Refused(std::string provider, Error e,
                                                       std::string user_id, RequestMeta meta) {
    std::string reason = e.api_code;
    co_await Fail(std::move(provider), std::move(reason), std::move(user_id), std::move(meta));
    co_return e;
}

net::awaitable<Result<std::string>> Sso::Get(std::string url) {
    auto split = SplitUrl(url);
    if (!split.ok()) co_return split.error();
    http::ClientRequest req;
    req.method = "GET";
    req.target = split->second;
    req.headers.emplace_back("Accept", "application/json");
    http::Url base = split->first;
    auto resp = co_await http_.Send(base, std::move(req), nullptr);
    if (!resp.ok()) co_return resp.error();
    auto body = co_await resp.value()->ReadAll(kMaxDocumentBytes);
    if (!body.ok()) co_return body.error();
    if (resp.value()->status() != 200) {
        co_return Error::Make(ErrorCode::kUpstream, "bad_status", "bad status",
                              url + " answered " + std::to_string(resp.value()->status()));
    }
    co_return body.value();
}

net::awaitable<Result<Sso::Discovery>> Sso::Discover(const SsoProviderConfig& p) {
    ProviderState& st = *state_.at(p.id);
    std::int64_t now = clock_.NowMs();
    {
        std::lock_guard lock(st.mu);
        if (st.discovery &&
            now - st.discovery->fetched_at_ms < cfg_.discovery_ttl.count() * 1000) {
            co_return *st.discovery;
        }
    }
    std::string url = p.issuer + "/.well-known/openid-configuration";
    auto text = co_await Get(url);
    if (!text.ok()) co_return Unavailable(p.display_name, text.error().detail);
    auto doc = nlohmann::json::parse(text.value(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        co_return Unavailable(p.display_name, "discovery document is not JSON");
    if (Str(doc, "issuer") != p.issuer)
        co_return Unavailable(p.display_name, "discovery issuer '" + Str(doc, "issuer") +
                                                  "' differs from the configured issuer");
    Discovery d;
    d.authorization_endpoint = Str(doc, "authorization_endpoint");
    d.token_endpoint = Str(doc, "token_endpoint");
    d.jwks_uri = Str(doc, "jwks_uri");
    if (d.authorization_endpoint.empty() || d.token_endpoint.empty() || d.jwks_uri.empty())
        co_return Unavailable(p.display_name, "discovery lacks an endpoint");
    if (auto it = doc.find("token_endpoint_auth_methods_supported");
        it != doc.end() && it->is_array()) {
        bool basic = false, post = false;
        for (const auto& m : *it) {
            basic = basic || m == "client_secret_basic";
            post = post || m == "client_secret_post";
        }
        d.basic_auth = basic || !post;
    }
    d.fetched_at_ms = now;
    std::lock_guard lock(st.mu);
    st.discovery = d;
    co_return d;
}

net::awaitable<Result<std::shared_ptr<const auth::oidc::Jwks>>> Sso::Keys(
    const SsoProviderConfig& p, Discovery d, bool refresh) {
    ProviderState& st = *state_.at(p.id);
    std::int64_t now = clock_.NowMs();
    {
        std::lock_guard lock(st.mu);
        bool stale = now - st.jwks_fetched_at_ms >= cfg_.discovery_ttl.count() * 1000;
        bool may_force = st.jwks_forced_at_ms == 0 ||
                         now - st.jwks_forced_at_ms >= cfg_.jwks_min_refresh.count() * 1000;
        // An unknown kid refreshes the set, but at most once per jwks_min_refresh: a flood of
        // made-up kids cannot make us hammer the provider.
        if (st.jwks && !stale && (!refresh || !may_force)) co_return st.jwks;
        if (st.jwks && refresh) st.jwks_forced_at_ms = now;
        st.jwks_fetched_at_ms = now;
    }
    auto text = co_await Get(d.jwks_uri);
    if (!text.ok()) co_return Unavailable(p.display_name, "jwks: " + text.error().detail);
    auto parsed = auth::oidc::Jwks::Parse(text.value());
    if (!parsed.ok()) co_return Unavailable(p.display_name, "jwks: not a key set");
    auto keys = std::make_shared<const auth::oidc::Jwks>(std::move(parsed.value()));
    std::lock_guard lock(st.mu);
    st.jwks = keys;
    co_return keys;
}

net::awaitable<Result<Sso::Started>> Sso::Start(std::string provider, std::string redirect_uri,
                                                RequestMeta meta) {
    const SsoProviderConfig* p = Find(provider);
    if (!p) {
        co_return Refusal(ErrorCode::kNotFound, "unknown_provider",
                          "There is no sign-in provider by that name.");
    }
    if (auto l = co_await CheckLimit(meta); !l.ok()) co_return l.error();
    auto d = co_await Discover(*p);
    if (!d.ok()) {
        std::string reason = "provider_unavailable", nobody;
        co_await Fail(provider, reason, nobody, meta);
        co_return d.error();
    }
    std::string state = crypto::RandomToken(32);
    store::OidcState row;
    row.state_hash = crypto::Sha256Hex(state);
    row.provider = p->id;
    row.nonce = crypto::RandomToken(24);
    row.code_verifier = crypto::RandomToken(48);  // 64 characters (RFC 7636: 43 to 128)
    row.created_at = clock_.NowMs();
    row.expires_at = row.created_at + cfg_.state_ttl.count() * 1000;
    auto saved = co_await db_.Run(
        [this](store::OidcState s) { return store_.Identities().CreateState(std::move(s)); }, row);
    if (!saved.ok()) co_return saved.error();
    if (++starts_ % 64 == 0) {
        // Housekeeping: abandoned sign-ins and spent tickets (all expire within minutes).
        std::int64_t now = clock_.NowMs();
        auto swept = co_await db_.Run(
            [this](std::int64_t now) { return store_.Identities().DeleteExpired(now); }, now);
        if (!swept.ok()) obs::Warn("sso_sweep_failed", {{"error", swept.error().detail}});
    }
    std::string url = d->authorization_endpoint;
    url += url.find('?') == std::string::npos ? '?' : '&';
    url += "response_type=code&client_id=" + http::PercentEncode(p->client_id) +
           "&redirect_uri=" + http::PercentEncode(redirect_uri) +
           "&scope=" + http::PercentEncode(p->scopes) +
           "&state=" + state + "&nonce=" + row.nonce +
           "&code_challenge=" + auth::oidc::PkceChallengeS256(row.code_verifier) +
           "&code_challenge_method=S256";
    co_return Started{std::move(url), core::Secret<std::string>(std::move(state))};
}

net::awaitable<Result<std::string>> Sso::ExchangeCode(const SsoProviderConfig& p, Discovery d,
                                                      std::string code, std::string verifier,
                                                      std::string redirect_uri) {
    auto split = SplitUrl(d.token_endpoint);
    if (!split.ok()) co_return Unavailable(p.display_name, "token endpoint URL");
    http::ClientRequest req;
    req.method = "POST";
    req.target = split->second;
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    req.headers.emplace_back("Accept", "application/json");
    req.body = "grant_type=authorization_code&code=" + http::PercentEncode(code) +
               "&redirect_uri=" + http::PercentEncode(redirect_uri) + "&code_verifier=" + verifier;
    if (d.basic_auth) {
        std::string pair = http::PercentEncode(p.client_id) + ":" +
                           http::PercentEncode(p.client_secret.Reveal());
        req.headers.emplace_back("Authorization", "Basic " + crypto::Base64Encode(pair));
    } else {
        req.body += "&client_id=" + http::PercentEncode(p.client_id) +
                    "&client_secret=" + http::PercentEncode(p.client_secret.Reveal());
    }
    http::Url base = split->first;
    auto resp = co_await http_.Send(base, std::move(req), nullptr);
    if (!resp.ok()) co_return Unavailable(p.display_name, "token: " + resp.error().detail);
    auto body = co_await resp.value()->ReadAll(kMaxDocumentBytes);
    if (!body.ok()) co_return Unavailable(p.display_name, "token: " + body.error().detail);
    auto doc = nlohmann::json::parse(body.value(), nullptr, false);
    int status = resp.value()->status();
    if (status >= 400 && status < 500) {
        // invalid_grant: the code was used already, has expired, or was not issued to us.
        std::string err = doc.is_object() ? Str(doc, "error") : std::string();
        co_return Refusal(ErrorCode::kUnauthenticated, "code_rejected",
                          p.display_name + " refused the sign-in code (it was already used or has "
                                           "expired). Start the sign-in again.",
                          "token endpoint: " + std::to_string(status) + " " + err);
    }
    if (status != 200 || !doc.is_object() || Str(doc, "id_token").empty())
        co_return Unavailable(p.display_name, "token endpoint answered " + std::to_string(status));
    co_return Str(doc, "id_token");
}

net::awaitable<Result<Claims>> Sso::VerifyToken(const SsoProviderConfig& p, Discovery d,
                                                std::string id_token, std::string nonce) {
    auth::oidc::IdTokenExpectations expect;
    expect.issuer = p.issuer;
    expect.client_id = p.client_id;
    expect.nonce = std::move(nonce);
    expect.now_s = clock_.NowMs() / 1000;
    expect.leeway_s = cfg_.leeway_s;
    auto keys = co_await Keys(p, d, false);
    if (!keys.ok()) co_return keys.error();
    auto claims = auth::oidc::VerifyIdToken(id_token, *keys.value(), expect);
    if (!claims.ok() && claims.error().api_code == auth::oidc::kUnknownKey) {
        auto again = co_await Keys(p, d, true);
        if (!again.ok()) co_return again.error();
        claims = auth::oidc::VerifyIdToken(id_token, *again.value(), expect);
    }
    co_return claims;
}

net::awaitable<Result<SsoCallbackResult>> Sso::Callback(std::string provider, std::string code,
                                                        std::string state, std::string error,
                                                        std::string browser_state,
                                                        std::string redirect_uri,
                                                        RequestMeta meta) {
    const SsoProviderConfig* p = Find(provider);
    if (!p) {
        co_return Refusal(ErrorCode::kNotFound, "unknown_provider",
                          "There is no sign-in provider by that name.");
    }
    if (auto l = co_await CheckLimit(meta); !l.ok()) co_return l.error();
    auto refuse = [](std::string reason, std::string message) {
        return Refusal(ErrorCode::kUnauthenticated, std::move(reason), std::move(message));
    };
    // The state first: without a valid one nothing else is looked at.
    Result<store::OidcState> row = Error::Make(ErrorCode::kNotFound, "state_not_found", "");
    if (!state.empty() && state.size() <= 256) {
        std::string hash = crypto::Sha256Hex(state);
        std::int64_t now = clock_.NowMs();
        row = co_await db_.Run(
            [this](std::string h, std::int64_t now) {
                return store_.Identities().ConsumeState(h, now);
            },
            hash, now);
    }
    std::optional<Error> bad;
    if (!row.ok()) {
        bad = refuse("unknown_state",
                     "This sign-in link is not valid (unknown state). Start the sign-in again.");
    } else if (row->used_at) {
        bad = refuse("reused_state",
                     "This sign-in link was already used. Start the sign-in again.");
    } else if (row->expires_at <= clock_.NowMs()) {
        bad = refuse("expired_state", "This sign-in took too long. Start the sign-in again.");
    } else if (row->provider != p->id) {
        bad = refuse("wrong_state", "This sign-in link belongs to another provider.");
    } else if (browser_state.empty() || !crypto::ConstantTimeEquals(browser_state, state)) {
        // Someone else's sign-in link opened in this browser (login CSRF), or the cookie is gone.
        bad = refuse("browser_mismatch",
                     "This sign-in was started in another browser, or this browser lost its "
                     "sign-in cookie. Start the sign-in again here.");
    } else if (!error.empty()) {
        bad = refuse("provider_error",
                     p->display_name + " did not sign you in (" + error.substr(0, 64) + ").");
    } else if (code.empty() || code.size() > 2048) {
        bad = refuse("missing_code", "The provider sent no sign-in code.");
    }
    std::string nobody;
    if (bad) co_return co_await Refused(provider, *bad, nobody, meta);
    auto d = co_await Discover(*p);
    if (!d.ok()) co_return co_await Refused(provider, d.error(), nobody, meta);
    auto id_token = co_await ExchangeCode(*p, d.value(), std::move(code), row->code_verifier,
                                          std::move(redirect_uri));
    if (!id_token.ok()) {
        if (id_token.error().code == ErrorCode::kUnavailable) Forget(*p);
        co_return co_await Refused(provider, id_token.error(), nobody, meta);
    }
    auto claims = co_await VerifyToken(*p, d.value(), std::move(id_token.value()), row->nonce);
    if (!claims.ok()) {
        obs::Warn("sso_id_token_refused", {{"provider", provider},
                                           {"reason", claims.error().api_code},
                                           {"detail", claims.error().detail}});
        if (claims.error().code == ErrorCode::kUnavailable) {
            Forget(*p);
            co_return co_await Refused(provider, claims.error(), nobody, meta);
        }
        Error refusal = refuse(claims.error().api_code,
                               p->display_name + "'s answer could not be verified (" +
                                   claims.error().api_code + "). Start the sign-in again.");
        co_return co_await Refused(provider, refusal, nobody, meta);
    }
    co_return co_await Resolve(*p, std::move(claims.value()), std::move(meta));
}

net::awaitable<Result<SsoCallbackResult>> Sso::Resolve(const SsoProviderConfig& p, Claims claims,
                                                       RequestMeta meta) {
    std::string provider = p.id;
    auto linked = co_await db_.Run(
        [this](std::string prov, std::string sub) {
            return store_.Identities().FindBySubject(prov, sub);
        },
        provider, claims.sub);
    // A refusal: `bad` (audited with `bad_uid`, the account it concerns, if any).
    Error bad;
    std::string bad_uid;
    auto refuse = [&](std::string reason, ErrorCode code, std::string message, std::string uid) {
        bad = Refusal(code, std::move(reason), std::move(message));
        bad_uid = std::move(uid);
    };
    if (linked.ok()) {
        std::string uid = linked->user_id;
        auto user = co_await db_.Run([this](std::string id) { return store_.Users().Get(id); },
                                     uid);
        if (!user.ok()) co_return user.error();
        if (user->status != store::UserStatus::kActive) {
            refuse("disabled_user", ErrorCode::kForbidden,
                   "This account is disabled; ask an administrator.", uid);
            co_return co_await Refused(provider, bad, bad_uid, meta);
        }
        std::string identity_id = linked->id;
        std::int64_t now = clock_.NowMs();
        co_await db_.Run(
            [this](std::string id, std::int64_t at) {
                return store_.Identities().TouchLogin(id, at);
            },
            identity_id, now);
        co_return co_await IssueTicket(p, store::SsoTicketKind::kTicket, std::move(user.value()),
                                       std::move(claims));
    }
    if (linked.error().code != ErrorCode::kNotFound) co_return linked.error();
    if (claims.email.empty() || !auth::ValidateEmail(claims.email).ok()) {
        refuse("email_missing", ErrorCode::kForbidden,
               p.display_name + " did not share a usable email address.",
               std::string());
        co_return co_await Refused(provider, bad, bad_uid, meta);
    }
    if (!p.allowed_email_domains.empty()) {
        std::string domain = DomainOf(claims.email);
        bool allowed = std::any_of(p.allowed_email_domains.begin(), p.allowed_email_domains.end(),
                                   [&](const std::string& d) { return auth::AsciiLower(d) == domain; });
        if (!allowed) {
            refuse("email_domain_not_allowed", ErrorCode::kForbidden,
                   "Accounts with an email at " + domain +
                   " may not sign in with " + p.display_name + ".",
                   std::string());
            co_return co_await Refused(provider, bad, bad_uid, meta);
        }
    }
    // An account with that email: link only for a verified email, confirmed with its password.
    auto existing = co_await db_.Run(
        [this](std::string email) { return store_.Users().FindByLogin(email); }, claims.email);
    if (existing.ok() && auth::AsciiLower(existing->email) == auth::AsciiLower(claims.email)) {
        std::string uid = existing->id;
        if (!claims.email_verified) {
            refuse("email_not_verified", ErrorCode::kForbidden,
                   "An account with this email exists, but " + p.display_name +
                   " has not verified the email, so it cannot be linked.",
                   uid);
            co_return co_await Refused(provider, bad, bad_uid, meta);
        }
        if (existing->status != store::UserStatus::kActive) {
            refuse("disabled_user", ErrorCode::kForbidden,
                   "This account is disabled; ask an administrator.", uid);
            co_return co_await Refused(provider, bad, bad_uid, meta);
        }
        co_return co_await IssueTicket(p, store::SsoTicketKind::kLink, std::move(existing.value()),
                                       std::move(claims));
    }
    if (!p.create_accounts) {
        refuse("account_creation_disabled", ErrorCode::kForbidden,
               "No account uses this email, and " + p.display_name +
               " may not create accounts here; ask an administrator.",
               std::string());
        co_return co_await Refused(provider, bad, bad_uid, meta);
    }
    if (!claims.email_verified) {
        refuse("email_not_verified", ErrorCode::kForbidden,
               p.display_name + " has not verified your email address, so no "
               "account can be made with it.",
               std::string());
        co_return co_await Refused(provider, bad, bad_uid, meta);
    }
    // A new account: the provider's default role, no password, a unique username.
    store::User u;
    u.email = claims.email;
    u.password_hash = kNoPassword;
    u.display_name = claims.name.empty() ? claims.email.substr(0, claims.email.find('@'))
                                         : claims.name.substr(0, 64);
    if (!auth::IsValidUtf8(u.display_name)) u.display_name = "user";
    u.role = p.default_role;
    std::string base = UsernameBase(claims.preferred_username, claims.email);
    store::UserIdentity ident;
    ident.provider = provider;
    ident.subject = claims.sub;
    ident.email = claims.email;
    auto created = co_await db_.Run(
        [this](store::User u, std::string base, store::UserIdentity ident,
               RequestMeta meta) -> Result<store::User> {
            for (int attempt = 0; attempt < 8; ++attempt) {
                u.id = core::NewId();
                u.username = attempt == 0 ? base
                                          : base + "-" + crypto::RandomToken(3).substr(0, 4);
                std::transform(u.username.begin(), u.username.end(), u.username.begin(),
                               [](char c) { return c == '_' || c == '-' || c == '.' ||
                                                           std::isalnum(static_cast<unsigned char>(c))
                                                       ? static_cast<char>(std::tolower(
                                                             static_cast<unsigned char>(c)))
                                                       : '_'; });
                u.created_at = u.updated_at = clock_.NowMs();
                auto r = store_.Users().Create(u);
                if (!r.ok() && r.error().api_code == "username_taken") continue;
                if (!r.ok()) return r.error();
                ident.user_id = r->id;
                ident.last_login_at = clock_.NowMs();
                auto linked = store_.Identities().Create(ident);
                if (!linked.ok()) return linked.error();
                AppendAudit(store_, clock_, r->id, "auth.register", "user:" + r->id, meta,
                            Json({{"method", "sso"}, {"provider", ident.provider}}));
                return r;
            }
            return Error::Make(ErrorCode::kConflict, "username_taken",
                               "No free username could be made; try again.");
        },
        std::move(u), base, ident, meta);
    if (!created.ok()) {
        refuse(created.error().api_code, ErrorCode::kConflict,
               "The account could not be made: " + created.error().public_message,
               std::string());
        co_return co_await Refused(provider, bad, bad_uid, meta);
    }
    co_return co_await IssueTicket(p, store::SsoTicketKind::kTicket, std::move(created.value()),
                                   std::move(claims));
}

net::awaitable<Result<SsoCallbackResult>> Sso::IssueTicket(const SsoProviderConfig& p,
                                                           store::SsoTicketKind kind,
                                                           store::User user, Claims claims) {
    std::string token = crypto::RandomToken(32);
    store::SsoTicket t;
    t.token_hash = crypto::Sha256Hex(token);
    t.kind = kind;
    t.user_id = user.id;
    t.provider = p.id;
    t.subject = claims.sub;
    t.email = claims.email;
    t.created_at = clock_.NowMs();
    auto ttl = kind == store::SsoTicketKind::kLink ? cfg_.link_ttl : cfg_.ticket_ttl;
    t.expires_at = t.created_at + ttl.count() * 1000;
    auto saved = co_await db_.Run(
        [this](store::SsoTicket t) { return store_.Identities().CreateTicket(std::move(t)); }, t);
    if (!saved.ok()) co_return saved.error();
    SsoCallbackResult r;
    r.kind = kind == store::SsoTicketKind::kLink ? SsoCallbackResult::Kind::kLinkNeeded
                                                 : SsoCallbackResult::Kind::kSignedIn;
    r.token = core::Secret<std::string>(std::move(token));
    r.provider_display_name = p.display_name;
    r.email = claims.email;
    co_return r;
}

net::awaitable<std::optional<Sso::Redeemed>> Sso::Redeem(std::string token,
                                                       store::SsoTicketKind kind) {
    if (token.empty() || token.size() > 128) co_return std::nullopt;
    std::string hash = crypto::Sha256Hex(token);
    std::int64_t now = clock_.NowMs();
    auto t = co_await db_.Run(
        [this](std::string h, store::SsoTicketKind k, std::int64_t now) {
            return store_.Identities().ConsumeTicket(h, k, now);
        },
        hash, kind, now);
    if (!t.ok() || t->used_at || t->expires_at <= now) co_return std::nullopt;
    std::string uid = t->user_id;
    auto user = co_await db_.Run([this](std::string id) { return store_.Users().Get(id); }, uid);
    if (!user.ok()) co_return std::nullopt;
    co_return Redeemed{std::move(t.value()), std::move(user.value())};
}

net::awaitable<Result<SignInResult>> Sso::Exchange(std::string ticket, RequestMeta meta) {
    auto invalid = [] {
        return Refusal(ErrorCode::kUnauthenticated, "invalid_ticket",
                       "This sign-in has expired or was already used; sign in again.");
    };
    if (auto l = co_await CheckLimit(meta); !l.ok()) co_return l.error();
    auto redeemed = co_await Redeem(std::move(ticket), store::SsoTicketKind::kTicket);
    if (!redeemed) co_return invalid();
    const store::SsoTicket* t = &redeemed->ticket;
    store::User& user = redeemed->user;
    std::string uid = user.id;
    if (user.status != store::UserStatus::kActive) {
        Error e = Refusal(ErrorCode::kForbidden, "account_disabled",
                          "This account is disabled; ask an administrator.");
        std::string reason = "disabled_user";
        co_await Fail(t->provider, reason, uid, meta);
        co_return e;
    }
    std::string detail = Json({{"method", "sso"}, {"provider", t->provider}});
    std::optional<std::string> no_code;
    co_return co_await accounts_.FinishSignIn(std::move(user), std::move(no_code),
                                              std::move(meta), std::move(detail));
}

net::awaitable<Result<SignInResult>> Sso::Link(std::string link_token, std::string password,
                                            RequestMeta meta) {
    auto invalid = [] {
        return Refusal(ErrorCode::kUnauthenticated, "invalid_link_token",
                       "This link request has expired or was already used; sign in with the "
                       "provider again.");
    };
    if (auto l = co_await CheckLimit(meta); !l.ok()) co_return l.error();
    // Single use: a wrong password also spends it (the user starts again at the provider).
    auto redeemed = co_await Redeem(std::move(link_token), store::SsoTicketKind::kLink);
    if (!redeemed) co_return invalid();
    const store::SsoTicket* t = &redeemed->ticket;
    store::User& user = redeemed->user;
    std::string uid = user.id;
    std::int64_t now = clock_.NowMs();
    std::string stored_hash = user.password_hash;
    bool ok = co_await crypto_.Run(
        [this](std::string pw, std::string h) { return hasher_.Verify(pw, h); }, password,
        stored_hash);
    if (!ok) {
        std::string reason = "link_bad_password";
        co_await Fail(t->provider, reason, uid, meta);
        co_return Refusal(ErrorCode::kUnauthenticated, "invalid_credentials",
                          "Wrong password. Sign in with the provider again to retry.");
    }
    if (user.status != store::UserStatus::kActive) {
        Error e = Refusal(ErrorCode::kForbidden, "account_disabled",
                          "This account is disabled; ask an administrator.");
        std::string reason = "disabled_user";
        co_await Fail(t->provider, reason, uid, meta);
        co_return e;
    }
    store::UserIdentity ident;
    ident.user_id = uid;
    ident.provider = t->provider;
    ident.subject = t->subject;
    ident.email = t->email;
    ident.last_login_at = now;
    auto linked = co_await db_.Run(
        [this](store::UserIdentity i, RequestMeta meta) {
            auto r = store_.Identities().Create(i);
            if (r.ok())
                AppendAudit(store_, clock_, i.user_id, "auth.sso_linked", "identity:" + r->id,
                            meta, Json({{"provider", i.provider}}));
            return r;
        },
        ident, meta);
    if (!linked.ok()) co_return linked.error();
    std::string detail = Json({{"method", "sso"}, {"provider", t->provider}});
    std::optional<std::string> no_code;
    co_return co_await accounts_.FinishSignIn(std::move(user), std::move(no_code),
                                              std::move(meta), std::move(detail));
}

net::awaitable<Result<std::vector<store::UserIdentity>>> Sso::Identities(auth::Principal who) {
    co_return co_await db_.Run(
        [this](std::string uid) { return store_.Identities().ListByUser(uid); }, who.user_id);
}

net::awaitable<Result<void>> Sso::Unlink(auth::Principal who, std::string id, RequestMeta meta) {
    co_return co_await db_.Run(
        [this](auth::Principal who, std::string id, RequestMeta meta) -> Result<void> {
            auto user = store_.Users().Get(who.user_id);
            if (!user.ok()) return user.error();
            bool has_password = user->password_hash.rfind("$2", 0) == 0;
            auto r = store_.Identities().Delete(who.user_id, id, !has_password);
            if (r.ok())
                AppendAudit(store_, clock_, who.user_id, "auth.sso_unlinked", "identity:" + id,
                            meta, "{}");
            return r;
        },
        who, id, meta);
}

}  // namespace hub::services
