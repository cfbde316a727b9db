#pragma once
// MFA (TOTP): a user's enrollment state, their recovery codes and the second-step sign-in
// tokens. The confirmed secret is users.mfa_secret_enc; the rest is in user_mfa,
// mfa_recovery_codes and mfa_tokens (migration 0009). Secrets arrive here encrypted and codes
// and tokens hashed: this layer never sees a plaintext.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace hub::store {

struct MfaState {
    std::optional<std::string> secret_enc;          // confirmed TOTP secret: MFA is on
    std::optional<std::string> pending_secret_enc;  // enrollment begun, not confirmed
    std::optional<std::int64_t> pending_created_at;
    std::optional<std::int64_t> enrolled_at;
    std::int64_t last_step = -1;  // the last TOTP step accepted (replay guard)
    std::int64_t recovery_codes_left = 0;
};

struct MfaToken {
    std::string token_hash;  // SHA-256 hex of the token
    std::string user_id;
    std::string purpose;  // "login" | "enroll"
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
    std::optional<std::int64_t> used_at;
    std::int64_t failures = 0;
};

class MfaStore {
public:
    virtual ~MfaStore() = default;

    // kNotFound "user_not_found" for a missing user; a user who never enrolled has an empty
    // state.
    virtual core::Result<MfaState> Get(std::string_view user_id) = 0;
    // Stores (replaces) the pending secret. kConflict "mfa_already_enabled" when TOTP is on.
    virtual core::Result<void> SetPending(std::string_view user_id, std::string_view secret_enc,
                                          std::int64_t now_ms) = 0;
    // In one transaction: the pending secret becomes users.mfa_secret_enc, enrolled_at = now,
    // last_step = step, and the recovery codes are replaced by `code_hashes`. kConflict
    // "no_pending_enrollment" when nothing is pending, "mfa_already_enabled" when TOTP is on.
    virtual core::Result<void> Confirm(std::string_view user_id, std::int64_t step,
                                       const std::vector<std::string>& code_hashes,
                                       std::int64_t now_ms) = 0;
    // last_step = step, only if step > last_step (atomic): false when it is not (a replay, or
    // another request took this step first).
    virtual core::Result<bool> AdvanceStep(std::string_view user_id, std::int64_t step) = 0;
    // Marks an unused code of this user used: false when there is none with this hash.
    virtual core::Result<bool> UseRecoveryCode(std::string_view user_id,
                                               std::string_view code_hash, std::int64_t now_ms) = 0;
    // Every code of the user (used or not) is replaced by these.
    virtual core::Result<void> ReplaceRecoveryCodes(std::string_view user_id,
                                                    const std::vector<std::string>& code_hashes,
                                                    std::int64_t now_ms) = 0;
    // TOTP off: the secret, the pending secret, the recovery codes and the user's open
    // sign-in tokens are removed.
    virtual core::Result<void> Disable(std::string_view user_id) = 0;

    virtual core::Result<void> CreateToken(const MfaToken& token) = 0;
    // kNotFound "mfa_token_not_found".
    virtual core::Result<MfaToken> GetToken(std::string_view token_hash) = 0;
    // Sets used_at if the token is unused and unexpired at `now_ms`: false otherwise.
    virtual core::Result<bool> ConsumeToken(std::string_view token_hash, std::int64_t now_ms) = 0;
    // One more wrong code on this token; the new count.
    virtual core::Result<std::int64_t> AddTokenFailure(std::string_view token_hash) = 0;
    // Removes tokens that expired before `now_ms`; how many.
    virtual core::Result<std::int64_t> DeleteExpiredTokens(std::int64_t now_ms) = 0;
};

}  // namespace hub::store
