#pragma once
// Passkeys (WebAuthn): registration from Settings, list/rename/delete, passwordless sign-in
// with discoverable credentials, and a passkey as the second factor after a password.
//
// Challenges are 32 random bytes, stored hashed with their purpose (and user) and consumed
// once (store/passkeys.hpp). Verification itself is auth/webauthn.hpp. Sign-in failures all
// answer one 401 "passkey_not_accepted"; the reason goes to the audit log only.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "async/offload.hpp"
#include "auth/rbac.hpp"
#include "auth/webauthn.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "limit/token_bucket.hpp"
#include "services/accounts.hpp"
#include "services/audit.hpp"
#include "services/mfa.hpp"
#include "store/store.hpp"

namespace hub::services {

struct PasskeysConfig {
    // Empty: the host of public_url, else the request's Host name.
    std::string rp_id;
    // Empty: public_url's origin, else the request's own origin (https, or http on loopback).
    std::vector<std::string> origins;
    std::string public_url;  // scheme://host[:port] or empty
    std::string rp_name = "Bailian Hub";
    std::chrono::seconds challenge_ttl{300};
    limit::BucketConfig login_per_ip = limit::BucketConfig::PerMinute(20, 10);
    std::size_t max_per_user = 20;
};

// The relying party a request is served as: configured, or derived from the public URL or
// the request's Host header (`host`, with an optional port). kUnavailable
// "passkeys_unavailable" when nothing usable is known.
core::Result<auth::webauthn::RelyingParty> ResolveRelyingParty(const PasskeysConfig& cfg,
                                                              std::string_view host);

// PublicKeyCredential from navigator.credentials.create(), decoded from base64url.
struct RegistrationCredential {
    std::string raw_id;
    std::string client_data_json;
    std::string attestation_object;
    std::vector<std::string> transports;
};

// PublicKeyCredential from navigator.credentials.get(), decoded from base64url.
struct AssertionCredential {
    std::string raw_id;
    std::string client_data_json;
    std::string authenticator_data;
    std::string signature;
    std::string user_handle;  // empty when the authenticator sent none
};

class Passkeys {
public:
    Passkeys(store::Store& store, async::WorkerPool& db, Accounts& accounts,
             limit::Limiter& limiter, const core::Clock& clock, PasskeysConfig cfg);

    // PublicKeyCredentialCreationOptions (JSON, binary fields base64url).
    net::awaitable<core::Result<nlohmann::json>> RegistrationOptions(auth::Principal who,
                                                                     std::string host);
    net::awaitable<core::Result<store::Passkey>> Register(auth::Principal who, std::string host,
                                                          std::string name,
                                                          RegistrationCredential cred,
                                                          RequestMeta meta);
    net::awaitable<core::Result<std::vector<store::Passkey>>> List(auth::Principal who);
    net::awaitable<core::Result<store::Passkey>> Rename(auth::Principal who, std::string id,
                                                        std::string name, RequestMeta meta);
    net::awaitable<core::Result<void>> Delete(auth::Principal who, std::string id,
                                              RequestMeta meta);

    // Passwordless sign-in: PublicKeyCredentialRequestOptions without allowCredentials.
    net::awaitable<core::Result<nlohmann::json>> LoginOptions(std::string host, RequestMeta meta);
    // The same tokens as Accounts::Login, through Accounts::StartSession (method "passkey").
    net::awaitable<core::Result<TokenPair>> Login(std::string host, AssertionCredential cred,
                                                  RequestMeta meta);

    // Second factor after a password (wired into the MFA step by its owner): request options
    // restricted to `user_id`'s passkeys (kNotFound "no_passkeys" when they have none) and a
    // challenge bound to that user; then the check of the answer. VerifyForUser accepts only
    // an assertion for that challenge (purpose second_factor, this user, unused, unexpired)
    // made with one of this user's passkeys; it updates the sign count and audits failures
    // (`auth.mfa_failed` method passkey). Any refusal: 401 "passkey_not_accepted".
    net::awaitable<core::Result<nlohmann::json>> SecondFactorOptions(std::string user_id,
                                                                     std::string host);
    net::awaitable<core::Result<store::Passkey>> VerifyForUser(std::string user_id,
                                                               std::string host,
                                                               AssertionCredential cred,
                                                               RequestMeta meta);

    // The passkey answer to a password sign-in's second step (Accounts::Login's "login"
    // challenge listing "passkey"): options for the mfa_token's user, then the assertion ->
    // the sign-in's tokens. A wrong assertion counts as a wrong code on the token (burnt at
    // its limit); the token is used up only by a right one. 401 "invalid_mfa_token" /
    // "passkey_not_accepted".
    void SetMfa(Mfa* mfa) { mfa_ = mfa; }
    net::awaitable<core::Result<nlohmann::json>> SecondStepOptions(std::string mfa_token,
                                                                   std::string host);
    net::awaitable<core::Result<TokenPair>> SecondStep(std::string mfa_token, std::string host,
                                                       AssertionCredential cred,
                                                       RequestMeta meta);

    // Challenges that expired before now minus a minute are deleted (call now and then).
    net::awaitable<core::Result<std::int64_t>> PruneChallenges();

private:
    struct Checked {
        store::Passkey passkey;
        std::uint32_t sign_count = 0;
    };
    // The shared part of Login and VerifyForUser: challenge, credential, owner, signature,
    // counter. `reason` names the refusal for the audit log.
    net::awaitable<core::Result<Checked>> CheckAssertion(std::string purpose,
                                                         std::optional<std::string> user_id,
                                                         std::string host,
                                                         AssertionCredential cred,
                                                         RequestMeta meta, std::string* reason);
    net::awaitable<core::Result<std::string>> IssueChallenge(std::string purpose,
                                                             std::optional<std::string> user_id);
    void Audit(std::optional<std::string> actor, std::string action, std::string target,
               const RequestMeta& meta, std::string detail_json);

    store::Store& store_;
    async::WorkerPool& db_;
    Accounts& accounts_;
    limit::Limiter& limiter_;
    const core::Clock& clock_;
    PasskeysConfig cfg_;
    Mfa* mfa_ = nullptr;
};

}  // namespace hub::services
