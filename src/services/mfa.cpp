#include "services/mfa.hpp"

#include <nlohmann/json.hpp>

#include "auth/totp.hpp"
#include "crypto/crypto.hpp"
#include "obs/logging.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

constexpr std::size_t kRecoveryCodeCount = 10;

// 429 once an account's budget of wrong codes is spent.
Error TooManyWrongCodes(const limit::Decision& d) {
    Error e = Error::Make(ErrorCode::kRateLimited, "rate_limited",
                          "Too many wrong codes; try again in " +
                              std::to_string(d.RetryAfterSeconds()) + " s.");
    e.retry_after_s = std::max<std::int64_t>(1, d.RetryAfterSeconds());
    return e;
}
constexpr std::size_t kRecoveryCodeBytes = 10;  // 80 bits -> 16 base32 characters

// The one answer for a wrong, reused, expired or malformed second factor.
Error InvalidCode(MfaContext context) {
    // A signed-in user who mistypes keeps their session: 403 there, 401 at sign-in.
    return Error::Make(context == MfaContext::kSignIn ? ErrorCode::kUnauthenticated
                                                      : ErrorCode::kForbidden,
                       "invalid_mfa_code", "The code is not valid.");
}

Error InvalidToken() {
    return Error::Make(ErrorCode::kUnauthenticated, "invalid_mfa_token",
                       "This sign-in step has expired or was already used; sign in again.");
}

std::string_view ContextName(MfaContext c) {
    switch (c) {
        case MfaContext::kSignIn: return "sign_in";
        case MfaContext::kSettings: return "settings";
        case MfaContext::kDeletion: return "deletion";
    }
    return "sign_in";
}

std::string Aad(const std::string& user_id) { return "mfa:" + user_id; }

std::string HashToken(std::string_view token) { return crypto::Sha256Hex(token); }

std::string NewRecoveryCode() {
    std::string b32 = auth::totp::Base32Encode(crypto::RandomBytes(kRecoveryCodeBytes));
    std::string out;
    for (std::size_t i = 0; i < b32.size(); ++i) {
        if (i > 0 && i % 4 == 0) out.push_back('-');
        char c = b32[i];
        out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    return out;
}

// Ten fresh codes and their hashes.
std::pair<std::vector<std::string>, std::vector<std::string>> NewRecoveryCodes() {
    std::vector<std::string> codes, hashes;
    for (std::size_t i = 0; i < kRecoveryCodeCount; ++i) {
        codes.push_back(NewRecoveryCode());
        hashes.push_back(HashRecoveryCode(*NormalizeRecoveryCode(codes.back())));
    }
    return {std::move(codes), std::move(hashes)};
}

}  // namespace

std::string_view ToString(MfaPurpose p) { return p == MfaPurpose::kEnroll ? "enroll" : "login"; }

std::optional<std::string> NormalizeRecoveryCode(std::string_view text) {
    std::string n;
    for (char c : text) {
        if (c == '-' || c == ' ') continue;
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        bool ok = (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
        if (!ok) return std::nullopt;
        n.push_back(c);
        if (n.size() > 16) return std::nullopt;
    }
    if (n.size() != 16) return std::nullopt;
    return n;
}

std::string HashRecoveryCode(std::string_view normalized) {
    return crypto::Sha256Hex("bailian-hub recovery code v1:" + std::string(normalized));
}

Mfa::Mfa(store::Store& store, async::WorkerPool& db, async::WorkerPool& crypto,
         const auth::PasswordHasher& hasher, const crypto::MasterKey& master,
         auth::RevocationCache& revocations, limit::Limiter& limiter, const core::Clock& clock,
         MfaConfig cfg)
    : store_(store), db_(db), crypto_(crypto), hasher_(hasher), master_(master),
      revocations_(revocations), limiter_(limiter), clock_(clock), cfg_(std::move(cfg)) {}

void Mfa::Audit(std::optional<std::string> actor, std::string action, std::string target,
                const RequestMeta& meta, std::string detail_json) {
    AppendAudit(store_, clock_, std::move(actor), std::move(action), std::move(target), meta,
                std::move(detail_json));
}

Result<std::string> Mfa::DecryptSecret(const std::string& user_id,
                                       const std::string& envelope) const {
    auto plain = master_.Decrypt(envelope, Aad(user_id));
    if (!plain.ok()) {
        obs::Error("mfa_secret_decrypt_failed", {{"user_id", user_id}});
        return Error::Make(ErrorCode::kInternal, "internal", "The MFA secret cannot be read.",
                           plain.error().detail);
    }
    return plain.value();
}

std::vector<std::string> Mfa::EndOtherSessions(const std::string& user_id,
                                               const std::string& keep) {
    std::vector<std::string> ids;
    if (auto active = store_.Sessions().ListActive(user_id); active.ok()) {
        for (const auto& s : *active)
            if (s.id != keep) ids.push_back(s.id);
    }
    std::optional<std::string> keep_opt;
    if (!keep.empty()) keep_opt = keep;
    (void)store_.Sessions().RevokeAllOfUser(user_id, keep_opt);
    for (const auto& id : ids) revocations_.RevokeSession(id);
    return ids;
}

Result<void> Mfa::VerifyBlocking(const std::string& user_id, const SecondFactor& factor,
                                 MfaContext context, const RequestMeta& meta) {
    std::string bucket = "mfa:account:" + user_id;
    auto failed = [&](std::string_view reason) -> Error {
        Audit(user_id, "auth.mfa_failed", "user:" + user_id, meta,
              nlohmann::json({{"reason", reason}, {"context", ContextName(context)}}).dump());
        auto d = limiter_.CheckBlocking(bucket, cfg_.failures_per_account, 1);
        (void)d;  // charged; the next attempt sees the empty bucket
        return InvalidCode(context);
    };
    // Refused before any work once this account's wrong codes ran out.
    auto d = limiter_.CheckBlocking(bucket, cfg_.failures_per_account, 1);
    if (!d.allowed) {
        Audit(user_id, "auth.mfa_failed", "user:" + user_id, meta,
              nlohmann::json({{"reason", "rate_limited"}, {"context", ContextName(context)}})
                  .dump());
        return TooManyWrongCodes(d);
    }
    // Only failures are charged: the probe above is given back.
    limiter_.Adjust(bucket, cfg_.failures_per_account, 1);

    auto state = store_.Mfa().Get(user_id);
    if (!state.ok()) return state.error();
    if (!state->secret_enc) return failed("mfa_not_enabled");
    if (factor.code) {
        if (!auth::totp::IsWellFormedCode(*factor.code)) return failed("malformed");
        auto secret = DecryptSecret(user_id, *state->secret_enc);
        if (!secret.ok()) return secret.error();
        std::int64_t now_s = clock_.NowSeconds();
        auto step = auth::totp::MatchStep(secret.value(), *factor.code, now_s, state->last_step,
                                          cfg_.drift_steps);
        if (!step) {
            bool replay = auth::totp::MatchStep(secret.value(), *factor.code, now_s, -1,
                                                cfg_.drift_steps)
                              .has_value();
            return failed(replay ? "replayed" : "wrong_code");
        }
        auto advanced = store_.Mfa().AdvanceStep(user_id, *step);
        if (!advanced.ok()) return advanced.error();
        if (!advanced.value()) return failed("replayed");  // another request took this step
        Audit(user_id, "auth.mfa_ok", "user:" + user_id, meta,
              nlohmann::json({{"method", "totp"}, {"context", ContextName(context)}}).dump());
        return core::Ok();
    }
    if (factor.recovery_code) {
        auto normalized = NormalizeRecoveryCode(*factor.recovery_code);
        if (!normalized) return failed("malformed");
        auto used = store_.Mfa().UseRecoveryCode(user_id, HashRecoveryCode(*normalized),
                                                 clock_.NowMs());
        if (!used.ok()) return used.error();
        if (!used.value()) return failed("wrong_recovery_code");
        std::int64_t left = 0;
        if (auto after = store_.Mfa().Get(user_id); after.ok()) left = after->recovery_codes_left;
        Audit(user_id, "auth.recovery_code_used", "user:" + user_id, meta,
              nlohmann::json({{"remaining", left}, {"context", ContextName(context)}}).dump());
        Audit(user_id, "auth.mfa_ok", "user:" + user_id, meta,
              nlohmann::json({{"method", "recovery_code"}, {"context", ContextName(context)}})
                  .dump());
        return core::Ok();
    }
    return failed("missing");
}

Result<TotpEnrollment> Mfa::BeginBlocking(const std::string& user_id, const std::string& username,
                                          const RequestMeta& meta) {
    std::string raw = crypto::RandomBytes(auth::totp::kSecretBytes);
    auto enc = master_.Encrypt(raw, Aad(user_id));
    if (!enc.ok()) return enc.error();
    if (auto r = store_.Mfa().SetPending(user_id, enc.value(), clock_.NowMs()); !r.ok())
        return r.error();
    Audit(user_id, "user.mfa_enrollment_started", "user:" + user_id, meta, "{}");
    std::string b32 = auth::totp::Base32Encode(raw);
    TotpEnrollment out;
    out.otpauth_uri = core::Secret<std::string>(auth::totp::OtpauthUri(cfg_.issuer, username, b32));
    out.secret = core::Secret<std::string>(std::move(b32));
    return out;
}

Result<RecoveryCodes> Mfa::ConfirmBlocking(const std::string& user_id, const std::string& code,
                                           MfaContext context, const std::string& keep_session,
                                           const RequestMeta& meta) {
    std::string bucket = "mfa:account:" + user_id;
    auto d = limiter_.CheckBlocking(bucket, cfg_.failures_per_account, 1);
    if (!d.allowed) {
        return TooManyWrongCodes(d);
    }
    limiter_.Adjust(bucket, cfg_.failures_per_account, 1);
    auto state = store_.Mfa().Get(user_id);
    if (!state.ok()) return state.error();
    if (state->secret_enc) {
        return Error::Make(ErrorCode::kConflict, "mfa_already_enabled",
                           "TOTP is already on; disable it first to enroll again.");
    }
    if (!state->pending_secret_enc) {
        return Error::Make(ErrorCode::kConflict, "no_pending_enrollment",
                           "Start the TOTP enrollment first.");
    }
    auto secret = DecryptSecret(user_id, *state->pending_secret_enc);
    if (!secret.ok()) return secret.error();
    std::optional<std::int64_t> step;
    if (auth::totp::IsWellFormedCode(code)) {
        step = auth::totp::MatchStep(secret.value(), code, clock_.NowSeconds(), -1,
                                     cfg_.drift_steps);
    }
    if (!step) {
        Audit(user_id, "auth.mfa_failed", "user:" + user_id, meta,
              nlohmann::json({{"reason", auth::totp::IsWellFormedCode(code) ? "wrong_code"
                                                                              : "malformed"},
                              {"context", "enrollment"}})
                  .dump());
        (void)limiter_.CheckBlocking(bucket, cfg_.failures_per_account, 1);
        return InvalidCode(context);
    }
    auto [codes, hashes] = NewRecoveryCodes();
    if (auto r = store_.Mfa().Confirm(user_id, *step, hashes, clock_.NowMs()); !r.ok())
        return r.error();
    auto ended = EndOtherSessions(user_id, keep_session);
    Audit(user_id, "user.mfa_enabled", "user:" + user_id, meta,
          nlohmann::json({{"method", "totp"}, {"ended_sessions", ended.size()}}).dump());
    return RecoveryCodes(std::move(codes));
}

Result<MfaChallenge> Mfa::IssueTokenBlocking(const std::string& user_id, MfaPurpose purpose) {
    std::string token = "mfa_" + crypto::RandomToken(32);
    store::MfaToken t;
    t.token_hash = HashToken(token);
    t.user_id = user_id;
    t.purpose = std::string(ToString(purpose));
    t.created_at = clock_.NowMs();
    t.expires_at = t.created_at + cfg_.token_ttl.count() * 1000;
    (void)store_.Mfa().DeleteExpiredTokens(t.created_at);
    if (auto r = store_.Mfa().CreateToken(t); !r.ok()) return r.error();
    MfaChallenge c;
    c.purpose = purpose;
    c.token = core::Secret<std::string>(std::move(token));
    c.expires_in = cfg_.token_ttl.count();
    return c;
}

Result<store::MfaToken> Mfa::OpenTokenBlocking(const std::string& token, MfaPurpose purpose) {
    if (token.size() < 8 || token.size() > 128 || token.rfind("mfa_", 0) != 0) return InvalidToken();
    auto t = store_.Mfa().GetToken(HashToken(token));
    if (!t.ok()) {
        if (t.error().code == ErrorCode::kNotFound) return InvalidToken();
        return t.error();
    }
    if (t->used_at || t->expires_at <= clock_.NowMs() || t->purpose != ToString(purpose) ||
        t->failures >= cfg_.max_token_failures) {
        return InvalidToken();
    }
    return t;
}

Result<void> Mfa::ConsumeTokenBlocking(const std::string& token) {
    auto used = store_.Mfa().ConsumeToken(HashToken(token), clock_.NowMs());
    if (!used.ok()) return used.error();
    if (!used.value()) return InvalidToken();
    return core::Ok();
}

void Mfa::TokenFailedBlocking(const std::string& token) {
    (void)store_.Mfa().AddTokenFailure(HashToken(token));
}

net::awaitable<Result<MfaStatus>> Mfa::Status(auth::Principal who) {
    auto state = co_await db_.Run([this](std::string uid) { return store_.Mfa().Get(uid); },
                                  who.user_id);
    if (!state.ok()) co_return state.error();
    MfaStatus s;
    s.totp_enabled = state->secret_enc.has_value();
    s.enrollment_pending = !s.totp_enabled && state->pending_secret_enc.has_value();
    s.required = RequiredFor(who.role);
    s.recovery_codes_left = s.totp_enabled ? state->recovery_codes_left : 0;
    if (s.totp_enabled) s.enrolled_at = state->enrolled_at;
    co_return s;
}

net::awaitable<Result<TotpEnrollment>> Mfa::BeginEnrollment(auth::Principal who,
                                                            RequestMeta meta) {
    co_return co_await db_.Run(
        [this](std::string uid, RequestMeta meta) -> Result<TotpEnrollment> {
            auto user = store_.Users().Get(uid);
            if (!user.ok()) return user.error();
            if (user->mfa_secret_enc) {
                return Error::Make(ErrorCode::kConflict, "mfa_already_enabled",
                                   "TOTP is already on; disable it first to enroll again.");
            }
            return BeginBlocking(uid, user->username, meta);
        },
        who.user_id, std::move(meta));
}

net::awaitable<Result<RecoveryCodes>> Mfa::ConfirmEnrollment(auth::Principal who, std::string code,
                                                             RequestMeta meta) {
    co_return co_await db_.Run(
        [this](std::string uid, std::string code, std::string sid, RequestMeta meta) {
            return ConfirmBlocking(uid, code, MfaContext::kSettings, sid, meta);
        },
        who.user_id, std::move(code), who.session_id, std::move(meta));
}

net::awaitable<Result<void>> Mfa::CheckPassword(auth::Principal who, std::string password,
                                                std::string action, RequestMeta meta) {
    auto user = co_await db_.Run([this](std::string uid) { return store_.Users().Get(uid); },
                                 who.user_id);
    if (!user.ok()) co_return user.error();
    bool ok = co_await crypto_.Run(
        [this](std::string pw, std::string hash) { return hasher_.Verify(pw, hash); },
        std::move(password), user->password_hash);
    if (ok) co_return core::Ok();
    co_await db_.Run(
        [this](std::string uid, std::string action, RequestMeta m) {
            Audit(uid, action, "user:" + uid, m,
                  nlohmann::json({{"reason", "bad_password"}}).dump());
            return 0;
        },
        who.user_id, std::move(action), std::move(meta));
    co_return Error::Make(ErrorCode::kForbidden, "invalid_credentials", "The password is wrong.");
}

net::awaitable<Result<RecoveryCodes>> Mfa::RegenerateRecoveryCodes(auth::Principal who,
                                                                   std::string password,
                                                                   SecondFactor factor,
                                                                   RequestMeta meta) {
    std::string action = "user.recovery_codes_failed";
    auto pw = co_await CheckPassword(who, std::move(password), action, meta);
    if (!pw.ok()) co_return pw.error();
    co_return co_await db_.Run(
        [this](std::string uid, SecondFactor f, RequestMeta meta) -> Result<RecoveryCodes> {
            if (auto v = VerifyBlocking(uid, f, MfaContext::kSettings, meta); !v.ok())
                return v.error();
            auto [codes, hashes] = NewRecoveryCodes();
            if (auto r = store_.Mfa().ReplaceRecoveryCodes(uid, hashes, clock_.NowMs()); !r.ok())
                return r.error();
            Audit(uid, "user.recovery_codes_regenerated", "user:" + uid, meta,
                  nlohmann::json({{"count", codes.size()}}).dump());
            return RecoveryCodes(std::move(codes));
        },
        who.user_id, std::move(factor), std::move(meta));
}

net::awaitable<Result<void>> Mfa::Disable(auth::Principal who, std::string password,
                                          SecondFactor factor, RequestMeta meta) {
    std::string action = "user.mfa_disable_failed";
    auto pw = co_await CheckPassword(who, std::move(password), action, meta);
    if (!pw.ok()) co_return pw.error();
    co_return co_await db_.Run(
        [this](std::string uid, std::string sid, SecondFactor f, RequestMeta meta) -> Result<void> {
            if (auto v = VerifyBlocking(uid, f, MfaContext::kSettings, meta); !v.ok())
                return v.error();
            if (auto r = store_.Mfa().Disable(uid); !r.ok()) return r.error();
            auto ended = EndOtherSessions(uid, sid);
            Audit(uid, "user.mfa_disabled", "user:" + uid, meta,
                  nlohmann::json({{"method", "totp"}, {"ended_sessions", ended.size()}}).dump());
            return core::Ok();
        },
        who.user_id, who.session_id, std::move(factor), std::move(meta));
}

}  // namespace hub::services
