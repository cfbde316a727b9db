#pragma once
// MFA with TOTP (RFC 6238): enrollment from Settings, one-time recovery codes, disabling,
// the second-step sign-in tokens and the check of a second factor. Accounts calls into it for
// sign-in (so that every sign-in ends in the same session code), DataRights for account
// deletion.
//
// Secrets: 20 random bytes, encrypted with the master key (associated data "mfa:<user id>")
// before they reach the store; shown once (the enrollment answer). Recovery codes and sign-in
// tokens are stored as SHA-256 of high-entropy random values, shown once.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "async/offload.hpp"
#include "auth/password.hpp"
#include "auth/rbac.hpp"
#include "auth/session_tokens.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "crypto/master_key.hpp"
#include "limit/token_bucket.hpp"
#include "services/audit.hpp"
#include "store/store.hpp"

namespace hub::services {

struct MfaConfig {
    std::string issuer = "Bailian Hub";           // the otpauth:// issuer
    std::chrono::seconds token_ttl{300};           // second-step sign-in tokens
    std::int64_t max_token_failures = 5;           // wrong codes before a token is burnt
    int drift_steps = 1;                           // accepted steps either side of now
    // Wrong second factors per account (charged on failure only).
    limit::BucketConfig failures_per_account = limit::BucketConfig::PerMinute(10, 10);
};

struct MfaStatus {
    bool totp_enabled = false;
    bool enrollment_pending = false;
    bool required = false;  // the user's role requires MFA
    std::int64_t recovery_codes_left = 0;
    std::optional<std::int64_t> enrolled_at;  // epoch ms
};

struct TotpEnrollment {
    core::Secret<std::string> secret;       // base32, no padding
    core::Secret<std::string> otpauth_uri;
};

using RecoveryCodes = core::Secret<std::vector<std::string>>;

enum class MfaPurpose { kLogin, kEnroll };
std::string_view ToString(MfaPurpose p);

// What a password sign-in answers instead of tokens when a second step is due.
struct MfaChallenge {
    MfaPurpose purpose = MfaPurpose::kLogin;
    core::Secret<std::string> token;
    std::int64_t expires_in = 0;  // seconds
    // What may answer it: "totp", "recovery_code", "passkey" (set by the sign-in).
    std::vector<std::string> methods;
};

// A TOTP code or a recovery code (exactly one is used; the TOTP code when both are set).
struct SecondFactor {
    std::optional<std::string> code;
    std::optional<std::string> recovery_code;
};

// Where a second factor is checked: decides the status of a wrong one (401 at sign-in, 403 for
// a signed-in user, whose session stays fine) and is recorded in the audit detail.
enum class MfaContext { kSignIn, kSettings, kDeletion };

class Mfa {
public:
    Mfa(store::Store& store, async::WorkerPool& db, async::WorkerPool& crypto,
        const auth::PasswordHasher& hasher, const crypto::MasterKey& master,
        auth::RevocationCache& revocations, limit::Limiter& limiter, const core::Clock& clock,
        MfaConfig cfg);

    // Which roles must have MFA (app wires it from config; role data may replace it).
    void SetRequiredForRole(std::function<bool(std::string_view role)> fn) {
        required_ = std::move(fn);
    }
    bool RequiredFor(std::string_view role) const { return required_ && required_(role); }
    const MfaConfig& config() const { return cfg_; }

    // Settings (own account).
    net::awaitable<core::Result<MfaStatus>> Status(auth::Principal who);
    net::awaitable<core::Result<TotpEnrollment>> BeginEnrollment(auth::Principal who,
                                                                 RequestMeta meta);
    // Enables TOTP; the user's other sessions end. kForbidden "invalid_mfa_code".
    net::awaitable<core::Result<RecoveryCodes>> ConfirmEnrollment(auth::Principal who,
                                                                  std::string code,
                                                                  RequestMeta meta);
    net::awaitable<core::Result<RecoveryCodes>> RegenerateRecoveryCodes(auth::Principal who,
                                                                        std::string password,
                                                                        SecondFactor factor,
                                                                        RequestMeta meta);
    // Disables TOTP (recovery codes removed); the user's other sessions end.
    net::awaitable<core::Result<void>> Disable(auth::Principal who, std::string password,
                                               SecondFactor factor, RequestMeta meta);

    // Blocking building blocks (db pool), for Accounts and DataRights.
    // Checks a second factor of a user with TOTP on; audited (auth.mfa_ok / auth.mfa_failed,
    // auth.recovery_code_used). A wrong, reused, expired or malformed one: "invalid_mfa_code",
    // the same for each. kRateLimited past the per-account budget of failures.
    core::Result<void> VerifyBlocking(const std::string& user_id, const SecondFactor& factor,
                                      MfaContext context, const RequestMeta& meta);
    core::Result<TotpEnrollment> BeginBlocking(const std::string& user_id,
                                               const std::string& username,
                                               const RequestMeta& meta);
    // Pending secret + a first code -> TOTP on, 10 new recovery codes; sessions other than
    // `keep_session` end (none kept when empty).
    core::Result<RecoveryCodes> ConfirmBlocking(const std::string& user_id, const std::string& code,
                                                MfaContext context, const std::string& keep_session,
                                                const RequestMeta& meta);
    core::Result<MfaChallenge> IssueTokenBlocking(const std::string& user_id, MfaPurpose purpose);
    // The user a live token of this purpose belongs to; 401 "invalid_mfa_token" for an
    // unknown, used, expired, burnt or other-purpose one.
    core::Result<store::MfaToken> OpenTokenBlocking(const std::string& token, MfaPurpose purpose);
    // Uses the token up (single use): 401 "invalid_mfa_token" when another request did first.
    core::Result<void> ConsumeTokenBlocking(const std::string& token);
    // One wrong code on the token (it is burnt at max_token_failures).
    void TokenFailedBlocking(const std::string& token);

private:
    core::Result<std::string> DecryptSecret(const std::string& user_id,
                                            const std::string& envelope) const;
    // Ends every active session of the user but `keep` (may be empty); their ids.
    std::vector<std::string> EndOtherSessions(const std::string& user_id, const std::string& keep);
    net::awaitable<core::Result<void>> CheckPassword(auth::Principal who,
                                                     std::string password, std::string action,
                                                     RequestMeta meta);
    void Audit(std::optional<std::string> actor, std::string action, std::string target,
               const RequestMeta& meta, std::string detail_json);

    store::Store& store_;
    async::WorkerPool& db_;
    async::WorkerPool& crypto_;
    const auth::PasswordHasher& hasher_;
    const crypto::MasterKey& master_;
    auth::RevocationCache& revocations_;
    limit::Limiter& limiter_;
    const core::Clock& clock_;
    MfaConfig cfg_;
    std::function<bool(std::string_view)> required_;
};

// Recovery codes: "xxxx-xxxx-xxxx-xxxx" (80 random bits, base32 lower case). Normalised
// (case, dashes, spaces) before hashing; nullopt for something that cannot be one.
std::optional<std::string> NormalizeRecoveryCode(std::string_view text);
std::string HashRecoveryCode(std::string_view normalized);

}  // namespace hub::services
