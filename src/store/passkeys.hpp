#pragma once
// Passkeys (WebAuthn credentials) and the challenges issued for WebAuthn ceremonies.
// Passkeys are scoped to their owner: another user's id is kNotFound "passkey_not_found",
// the same as a missing one. A credential id is unique across the hub (kConflict
// "passkey_exists"). Challenges are stored by hash and consumed at most once.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace hub::store {

struct Passkey {
    std::string id;
    std::string user_id;
    std::string credential_id;  // raw bytes
    std::string public_key;     // COSE_Key bytes
    int alg = 0;
    std::int64_t sign_count = 0;
    std::string name;
    std::string transports = "[]";  // JSON array of strings
    std::int64_t created_at = 0;
    std::optional<std::int64_t> last_used_at;
};

inline constexpr std::string_view kChallengeRegister = "register";
inline constexpr std::string_view kChallengeLogin = "login";
inline constexpr std::string_view kChallengeSecondFactor = "second_factor";

struct WebAuthnChallenge {
    std::string challenge_hash;  // SHA-256 hex of the raw challenge
    std::string purpose;         // register | login | second_factor
    std::optional<std::string> user_id;
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
    std::optional<std::int64_t> used_at;
};

class PasskeyStore {
public:
    virtual ~PasskeyStore() = default;

    // id and created_at filled when empty; kConflict "passkey_exists" for a known credential.
    virtual core::Result<Passkey> Create(Passkey passkey) = 0;
    // The owner's passkeys, oldest first.
    virtual core::Result<std::vector<Passkey>> ListByUser(std::string_view user_id) = 0;
    virtual core::Result<Passkey> Get(std::string_view user_id, std::string_view id) = 0;
    // Any user's passkey by raw credential id (sign-in, where the credential names the user).
    virtual core::Result<Passkey> GetByCredentialId(std::string_view credential_id) = 0;
    virtual core::Result<Passkey> Rename(std::string_view user_id, std::string_view id,
                                         std::string name) = 0;
    virtual core::Result<void> Delete(std::string_view user_id, std::string_view id) = 0;
    // After a verified assertion: the new counter and the time of use. Compare-and-set on the
    // counter read before verifying (`seen_count`): kConflict "sign_count_changed" when another
    // sign-in moved it meanwhile (two uses of one counter value: the later one loses).
    virtual core::Result<void> RecordUse(std::string_view id, std::int64_t seen_count,
                                         std::int64_t new_count, std::int64_t at_ms) = 0;

    virtual core::Result<void> CreateChallenge(WebAuthnChallenge challenge) = 0;
    // Marks the challenge used and returns it, only when it exists with this purpose, has
    // not been used and has not expired at `now_ms`; otherwise kNotFound "challenge_not_found"
    // (one answer for unknown, used, expired and wrong purpose).
    virtual core::Result<WebAuthnChallenge> ConsumeChallenge(std::string_view challenge_hash,
                                                             std::string_view purpose,
                                                             std::int64_t now_ms) = 0;
    // Deletes challenges that expired before `before_ms`; returns how many.
    virtual core::Result<std::int64_t> PruneChallenges(std::int64_t before_ms) = 0;
};

}  // namespace hub::store
