#pragma once
// Accounts: registration, login, refresh sessions, logout, profile, password change,
// admin user management and the audit trail of all of it. Owner checks and audit live here;
// the HTTP layer only translates.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "async/offload.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/rbac.hpp"
#include "auth/session_tokens.hpp"
#include "core/cancel.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "limit/token_bucket.hpp"
#include "services/audit.hpp"
#include "services/mfa.hpp"
#include "store/store.hpp"

namespace hub::services {

class SecurityLocks;

struct AccountsConfig {
    bool registration_open = true;
    std::chrono::seconds access_ttl{15 * 60};
    std::chrono::seconds refresh_ttl{30 * 24 * 3600};
    limit::BucketConfig login_per_ip = limit::BucketConfig::PerMinute(20, 10);
    limit::BucketConfig login_per_account = limit::BucketConfig::PerMinute(5, 5);
    limit::BucketConfig register_per_ip = limit::BucketConfig::PerMinute(5, 5);
    // Logins and registrations waiting for or running a bcrypt hash at most; past it they are
    // refused at once (503 overloaded + Retry-After) instead of queueing behind each other.
    std::int64_t max_pending_hashes = 64;
};

struct RegisterInput {
    std::string username;
    std::string email;
    std::string password;
    std::string display_name;
};

struct TokenPair {
    std::string access_token;
    std::int64_t expires_in = 0;  // seconds
    core::Secret<std::string> refresh_token;
    std::int64_t refresh_expires_at = 0;  // epoch ms
    store::User user;
    std::string session_id;
};

// A password sign-in: the tokens, or (MFA) the second step that is due instead.
struct SignInResult {
    std::optional<TokenPair> tokens;
    std::optional<MfaChallenge> challenge;
};

// The end of a sign-in that had to enroll TOTP first (the user's role requires MFA).
struct EnrolledSignIn {
    TokenPair tokens;
    RecoveryCodes recovery_codes;
};

struct AdminUserPatch {
    std::optional<std::string> role;
    std::optional<store::UserStatus> status;
    std::optional<store::UserQuota> quota;
};

class Accounts {
public:
    Accounts(store::Store& store, async::WorkerPool& db, async::WorkerPool& crypto,
             const auth::PasswordHasher& hasher, const auth::JwtCodec& jwt,
             const auth::RoleTable& roles, auth::RevocationCache& revocations,
             limit::Limiter& limiter, const core::Clock& clock, AccountsConfig cfg);

    net::awaitable<core::Result<store::User>> Register(RegisterInput in, RequestMeta meta);
    // With MFA wired (SetMfa): an account with TOTP answers a challenge instead of tokens,
    // unless `totp_code` is given and right (one-step sign-in); an account whose role requires
    // MFA and that has none answers an enrollment challenge.
    net::awaitable<core::Result<SignInResult>> Login(std::string login, std::string password,
                                                     std::optional<std::string> totp_code,
                                                     RequestMeta meta);
    // The second step: a "login" challenge token and a TOTP or recovery code -> tokens, by the
    // same code as a password sign-in. 401 invalid_mfa_token / invalid_mfa_code.
    net::awaitable<core::Result<TokenPair>> LoginMfa(std::string mfa_token, SecondFactor factor,
                                                     RequestMeta meta);
    // Enrollment required at sign-in: an "enroll" challenge token -> a TOTP secret to add; then
    // the token and a first code -> recovery codes and tokens.
    net::awaitable<core::Result<TotpEnrollment>> LoginEnroll(std::string mfa_token,
                                                             RequestMeta meta);
    net::awaitable<core::Result<EnrolledSignIn>> LoginEnrollConfirm(std::string mfa_token,
                                                                    std::string code,
                                                                    RequestMeta meta);
    void SetMfa(Mfa* mfa) { mfa_ = mfa; }
    // The end of a first factor that proved who the user is (a password, single sign-on): the
    // MFA decision Login makes (a challenge for an account with TOTP, or whose role requires
    // MFA; `totp_code` for one step), else StartSession with detail_json.
    net::awaitable<core::Result<SignInResult>> FinishSignIn(store::User user,
                                                            std::optional<std::string> totp_code,
                                                            RequestMeta meta,
                                                            std::string detail_json);
    // Opens a session for a user whose credentials were verified (a password and any second
    // factor, a passkey, single sign-on): checks the account is active, stores the session,
    // audits `auth.login` with detail_json (e.g. {"method":"passkey"}) and returns the tokens
    // every sign-in answers with.
    net::awaitable<core::Result<TokenPair>> StartSession(store::User user, RequestMeta meta,
                                                         std::string detail_json);
    net::awaitable<core::Result<TokenPair>> Refresh(std::string refresh_token, RequestMeta meta);
    net::awaitable<core::Result<void>> Logout(auth::Principal who, RequestMeta meta);

    // Bearer access token -> principal. Cheap: signature check plus an in-memory revocation
    // lookup, no database read.
    core::Result<auth::Principal> Authenticate(std::string_view bearer) const;

    net::awaitable<core::Result<std::vector<store::Session>>> Sessions(auth::Principal who);
    net::awaitable<core::Result<void>> RevokeSession(auth::Principal who, std::string id,
                                                     RequestMeta meta);
    net::awaitable<core::Result<store::User>> Me(auth::Principal who);
    net::awaitable<core::Result<store::User>> UpdateMe(auth::Principal who,
                                                       std::optional<std::string> display_name,
                                                       std::optional<std::string> settings_json);
    net::awaitable<core::Result<void>> ChangePassword(auth::Principal who, std::string current,
                                                      std::string next, RequestMeta meta);

    net::awaitable<core::Result<store::Page<store::User>>> ListUsers(auth::Principal who,
                                                                     store::UserQuery query);
    net::awaitable<core::Result<store::User>> AdminUpdateUser(auth::Principal who, std::string id,
                                                              AdminUserPatch patch,
                                                              RequestMeta meta);
    net::awaitable<core::Result<store::Page<store::AuditEntry>>> ListAudit(
        auth::Principal who, store::AuditFilter filter, store::PageRequest page);
    // When each user last signed in (from the audit log); absent = never (users:manage).
    net::awaitable<core::Result<std::map<std::string, std::int64_t>>> LastSignIns(
        auth::Principal who, std::vector<std::string> user_ids);

    const auth::JwtCodec& jwt() const { return jwt_; }
    const auth::RoleTable& roles() const { return roles_; }
    // Locks set by security events (brute force): a locked account's password sign-in is
    // refused with 429 "account_locked". Set once at start-up; null = no locks.
    void SetLocks(const SecurityLocks* locks) { locks_ = locks; }
    // Logins and registrations refused because the hashing queue was full (metrics).
    std::int64_t hashes_refused() const { return hashes_refused_.load(); }
    // Queued hashes not run because their client had gone / the hub was stopping.
    std::int64_t hashes_skipped_client_gone() const { return hashes_skipped_gone_.load(); }
    std::int64_t hashes_skipped_shutdown() const { return hashes_skipped_shutdown_.load(); }

    // Blocking helpers for the command line (no io_context there).
    static core::Result<store::User> CreateUserBlocking(store::Store& store,
                                                        const auth::PasswordHasher& hasher,
                                                        const core::Clock& clock,
                                                        RegisterInput in, std::string role);

private:
    net::awaitable<core::Result<void>> CheckLimit(std::string key, limit::BucketConfig cfg);
    // A place in the bounded hashing queue, held until the request is done with bcrypt. It
    // shares the counter: a login's frame may outlive Accounts at shutdown.
    class HashSlot {
    public:
        explicit HashSlot(std::shared_ptr<std::atomic<std::int64_t>> n) : n_(std::move(n)) {}
        HashSlot(HashSlot&& o) noexcept = default;
        HashSlot(const HashSlot&) = delete;
        HashSlot& operator=(const HashSlot&) = delete;
        HashSlot& operator=(HashSlot&&) = delete;
        ~HashSlot() {
            if (n_) --*n_;
        }

    private:
        std::shared_ptr<std::atomic<std::int64_t>> n_;
    };
    core::Result<HashSlot> TakeHashSlot();
    // On a crypto worker, as a queued hash is about to run: the error to answer instead when
    // running it is pointless (its client has gone, or the hub is stopping).
    std::optional<core::Error> SkipHash(const std::shared_ptr<core::Cancel>& client_gone);
    void Audit(std::optional<std::string> actor, std::string action, std::string target,
               const RequestMeta& meta, std::string detail_json);
    // The one end of every sign-in: a new session (audited auth.login) and its tokens.
    core::Result<TokenPair> IssueTokens(const store::User& user, const store::Session& session,
                                        core::Secret<std::string> refresh);

    store::Store& store_;
    async::WorkerPool& db_;
    async::WorkerPool& crypto_;
    const auth::PasswordHasher& hasher_;
    const auth::JwtCodec& jwt_;
    const auth::RoleTable& roles_;
    const SecurityLocks* locks_ = nullptr;
    auth::RevocationCache& revocations_;
    limit::Limiter& limiter_;
    const core::Clock& clock_;
    AccountsConfig cfg_;
    Mfa* mfa_ = nullptr;
    std::shared_ptr<std::atomic<std::int64_t>> pending_hashes_ =
        std::make_shared<std::atomic<std::int64_t>>(0);
    std::atomic<std::int64_t> hashes_refused_{0};
    std::atomic<std::int64_t> hashes_skipped_gone_{0};
    std::atomic<std::int64_t> hashes_skipped_shutdown_{0};
};

}  // namespace hub::services
