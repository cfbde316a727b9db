#pragma once
// Single sign-on with OpenID Connect (issue 18, item 3): the authorization-code flow with PKCE
// (S256), state and nonce against any number of configured providers.
//
// Start: discovery (cached), a state row (hashed state, nonce, PKCE verifier; single use,
// ~10 min, in the database so it survives restarts), the provider's authorization URL.
// Callback: the state consumed, the code exchanged (client_secret_basic or _post as the
// provider's discovery says), the ID token verified (auth/oidc: a JWKS key, refreshed once on
// an unknown kid at most every `jwks_min_refresh`; iss, aud, azp, exp/iat, nonce), then:
// a linked identity signs its user in; an existing account with that email gets a pending
// link (only for a verified email; confirmed with the account's password); otherwise a new
// account (create_accounts, allowed domains, default_role, no password). A sign-in ends with a
// one-time 60 s ticket the web app exchanges for exactly the login answer
// (Accounts::FinishSignIn: the MFA step, then StartSession). Every refusal is audited `auth.sso_failed` with a reason.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "async/offload.hpp"
#include "auth/oidc.hpp"
#include "auth/password.hpp"
#include "auth/rbac.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "http/client.hpp"
#include "limit/token_bucket.hpp"
#include "services/accounts.hpp"
#include "services/audit.hpp"
#include "store/store.hpp"

namespace hub::services {

struct SsoProviderConfig {
    std::string id;  // slug used in URLs: [a-z0-9-]{1,32}
    std::string display_name;
    std::string issuer;
    std::string client_id;
    core::Secret<std::string> client_secret;
    std::string scopes = "openid email profile";
    std::vector<std::string> allowed_email_domains;  // empty = any
    std::string default_role = "user";
    bool create_accounts = true;
};

struct SsoConfig {
    std::vector<SsoProviderConfig> providers;
    std::chrono::seconds state_ttl{10 * 60};
    std::chrono::seconds ticket_ttl{60};
    std::chrono::seconds link_ttl{10 * 60};
    std::chrono::seconds discovery_ttl{300};
    std::chrono::seconds jwks_min_refresh{60};
    std::int64_t leeway_s = auth::oidc::kDefaultLeewaySeconds;
    limit::BucketConfig per_ip = limit::BucketConfig::PerMinute(20, 10);
};

// The providers' public face (sign-in page buttons): never the secret or the client id.
struct SsoProviderInfo {
    std::string id;
    std::string display_name;
};

// Where a finished callback sends the browser.
struct SsoCallbackResult {
    enum class Kind { kSignedIn, kLinkNeeded } kind = Kind::kSignedIn;
    core::Secret<std::string> token;  // the one-time ticket, or the link token
    std::string provider_display_name;
    std::string email;  // for the link page ("link to the account of …")
};

// Refusals carry the audited reason as api_code; public_message is what the page shows.
class Sso {
public:
    Sso(store::Store& store, async::WorkerPool& db, async::WorkerPool& crypto,
        const auth::PasswordHasher& hasher, const auth::RoleTable& roles,
        http::HttpClient& http, Accounts& accounts, limit::Limiter& limiter,
        const core::Clock& clock, SsoConfig cfg);

    std::vector<SsoProviderInfo> Providers() const;

    // The provider's authorization URL to redirect to, and the state, which the browser also
    // keeps in a cookie: the callback must come back to the browser that started (login CSRF).
    // `redirect_uri` = our callback URL.
    struct Started {
        std::string url;
        core::Secret<std::string> state;
    };
    net::awaitable<core::Result<Started>> Start(std::string provider, std::string redirect_uri,
                                                RequestMeta meta);
    // `error` is the provider's `error` parameter when it sent one instead of a code;
    // `browser_state` the state cookie the browser sent (empty = none).
    net::awaitable<core::Result<SsoCallbackResult>> Callback(std::string provider, std::string code,
                                                             std::string state, std::string error,
                                                             std::string browser_state,
                                                             std::string redirect_uri,
                                                             RequestMeta meta);
    // The one-time ticket -> the login answer.
    net::awaitable<core::Result<SignInResult>> Exchange(std::string ticket, RequestMeta meta);
    // A pending link confirmed with the account's password -> linked, and the login answer.
    net::awaitable<core::Result<SignInResult>> Link(std::string link_token, std::string password,
                                                 RequestMeta meta);

    net::awaitable<core::Result<std::vector<store::UserIdentity>>> Identities(auth::Principal who);
    net::awaitable<core::Result<void>> Unlink(auth::Principal who, std::string id,
                                              RequestMeta meta);

    // A username made from the provider's preferred_username or the email's local part:
    // [a-z0-9._-], 3 to 32 characters (pure; uniqueness is the caller's).
    static std::string UsernameBase(const std::string& preferred, const std::string& email);

private:
    struct Redeemed {
        store::SsoTicket ticket;
        store::User user;
    };
    // Spends a one-time ticket or link token of `kind` (single use, unexpired) and reads its
    // user; nullopt for anything that is not a live one.
    net::awaitable<std::optional<Redeemed>> Redeem(std::string token, store::SsoTicketKind kind);
    struct Discovery {
        std::string authorization_endpoint;
        std::string token_endpoint;
        std::string jwks_uri;
        bool basic_auth = true;  // client_secret_basic, else client_secret_post
        std::int64_t fetched_at_ms = 0;
    };
    struct ProviderState {
        std::mutex mu;
        std::optional<Discovery> discovery;
        std::shared_ptr<const auth::oidc::Jwks> jwks;
        std::int64_t jwks_fetched_at_ms = 0;
        std::int64_t jwks_forced_at_ms = 0;  // last refresh caused by an unknown kid
    };

    const SsoProviderConfig* Find(const std::string& id) const;
    // After a failed contact: the next sign-in fetches the discovery document again (and so
    // answers "provider unavailable" at once while the provider stays down).
    void Forget(const SsoProviderConfig& p);
    net::awaitable<core::Result<void>> CheckLimit(RequestMeta meta);
    net::awaitable<core::Result<std::string>> Get(std::string url);
    net::awaitable<core::Result<Discovery>> Discover(const SsoProviderConfig& p);
    net::awaitable<core::Result<std::shared_ptr<const auth::oidc::Jwks>>> Keys(
        const SsoProviderConfig& p, Discovery d, bool refresh);
    net::awaitable<core::Result<std::string>> ExchangeCode(const SsoProviderConfig& p,
                                                           Discovery d, std::string code,
                                                           std::string verifier,
                                                           std::string redirect_uri);
    net::awaitable<core::Result<auth::oidc::IdTokenClaims>> VerifyToken(
        const SsoProviderConfig& p, Discovery d, std::string id_token, std::string nonce);
    net::awaitable<core::Result<SsoCallbackResult>> Resolve(const SsoProviderConfig& p,
                                                            auth::oidc::IdTokenClaims claims,
                                                            RequestMeta meta);
    net::awaitable<core::Result<SsoCallbackResult>> IssueTicket(const SsoProviderConfig& p,
                                                                store::SsoTicketKind kind,
                                                                store::User user,
                                                                auth::oidc::IdTokenClaims claims);
    // Audits `auth.sso_failed` {provider, reason}; `user_id` empty = no account concerned.
    net::awaitable<void> Fail(std::string provider, std::string reason, std::string user_id,
                              RequestMeta meta);
    // Fail() with e's api_code as the reason, then e.
    net::awaitable<core::Result<SsoCallbackResult>> Refused(std::string provider, core::Error e,
                                                            std::string user_id, RequestMeta meta);

    store::Store& store_;
    async::WorkerPool& db_;
    async::WorkerPool& crypto_;
    const auth::PasswordHasher& hasher_;
    const auth::RoleTable& roles_;
    http::HttpClient& http_;
    Accounts& accounts_;
    limit::Limiter& limiter_;
    const core::Clock& clock_;
    SsoConfig cfg_;
    std::map<std::string, std::unique_ptr<ProviderState>> state_;
    std::atomic<std::uint64_t> starts_{0};  // every 64th start sweeps expired states and tickets
};

}  // namespace hub::services
