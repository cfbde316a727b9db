#pragma once
// Passwords: bcrypt hashing through libxcrypt ($2b$), the password policy and the username /
// email validators used at registration. Everything here is pure except the hashing itself,
// which is CPU-bound (run it on the crypto pool, never on an io thread).
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.hpp"
#include "core/text.hpp"

namespace hub::auth {

inline constexpr int kDefaultBcryptCost = 12;
inline constexpr int kMinBcryptCost = 10;  // lower costs are rejected, not clamped
inline constexpr int kMaxBcryptCost = 31;

inline constexpr std::size_t kMinPasswordChars = 8;   // Unicode code points
inline constexpr std::size_t kMaxPasswordBytes = 72;  // bcrypt reads at most 72 bytes
inline constexpr std::size_t kMinUsernameLength = 3;
inline constexpr std::size_t kMaxUsernameLength = 32;
inline constexpr std::size_t kMaxEmailLength = 254;

// Hashes and verifies passwords with bcrypt. Thread-safe (const methods only after Create).
class PasswordHasher {
public:
    // Fails with kInvalidArgument when cost is outside [kMinBcryptCost, kMaxBcryptCost].
    // Makes the "dummy" hash (a fresh salt at the same cost; no hash is computed, so this is
    // cheap).
    [[nodiscard]] static core::Result<PasswordHasher> Create(int cost = kDefaultBcryptCost);

    // "$2b$<cost>$..." (60 chars). Fails for a password that bcrypt cannot represent
    // faithfully (more than 72 bytes, or a NUL byte) and if libxcrypt fails (kInternal).
    [[nodiscard]] core::Result<std::string> Hash(std::string_view password) const;

    // True when `password` matches `hash`; the result of bcrypt is compared in constant time.
    // A malformed or non-bcrypt `hash` still costs one bcrypt run and answers false.
    [[nodiscard]] bool Verify(std::string_view password, std::string_view hash) const;

    // For "unknown user" logins: spends exactly one bcrypt verification at the configured cost
    // and always answers false, so unknown user and wrong password take about the same time.
    [[nodiscard]] bool VerifyAgainstDummy(std::string_view password) const;

    // True when `hash` is not a bcrypt hash at the configured cost (e.g. the cost was raised):
    // after a successful login the caller may store Hash(password) instead.
    [[nodiscard]] bool NeedsRehash(std::string_view hash) const;

    int cost() const { return cost_; }
    // The dummy hash that VerifyAgainstDummy checks against (tests).
    std::string_view dummy_hash() const { return dummy_hash_; }

private:
    PasswordHasher(int cost, std::string dummy_hash)
        : cost_(cost), dummy_hash_(std::move(dummy_hash)) {}

    int cost_;
    std::string dummy_hash_;
};

// The cost encoded in a "$2a$/$2b$/$2y$NN$..." hash, or -1 when it is not a bcrypt hash.
int BcryptCost(std::string_view hash);

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);
// Number of code points in valid UTF-8 text.
std::size_t Utf8Length(std::string_view text);

// True when `password` (case-insensitive) is in the built-in list of common passwords.
bool IsCommonPassword(std::string_view password);

// The password policy. Errors are kInvalidArgument with api_code "weak_password" and a
// public message that says what to change. Rules, in order: valid UTF-8, no NUL,
// at least 8 characters, at most 72 bytes (never truncated), not the username, the email
// or the email's local part (ASCII case-insensitive), not a common password.
[[nodiscard]] core::Result<void> CheckPasswordPolicy(std::string_view password,
                                                     std::string_view username,
                                                     std::string_view email);

// 3..32 characters of [A-Za-z0-9_.-]. Error api_code "invalid_username".
[[nodiscard]] core::Result<void> ValidateUsername(std::string_view username);

// Pragmatic syntax check (not RFC 5322): local@domain, at most 254 bytes, local part of at
// most 64 bytes of [A-Za-z0-9!#$%&'*+/=?^_`{|}~.-] without leading, trailing or doubled dots,
// a domain of at least two dot-separated labels of [A-Za-z0-9-] (1..63, no leading or
// trailing '-'), a top-level label of at least two characters and not all digits.
// Error api_code "invalid_email".
[[nodiscard]] core::Result<void> ValidateEmail(std::string_view email);

// Lower-cases ASCII letters: the form in which usernames and emails are compared for
// uniqueness and login lookups.
using core::AsciiLower;

}  // namespace hub::auth
