#pragma once
// TOTP (RFC 6238) over HOTP (RFC 4226) with HMAC-SHA1, and base32 (RFC 4648) for the secret
// people type or scan. Pure functions: the time is passed in, nothing is stored or logged.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hub::auth::totp {

inline constexpr std::int64_t kStepSeconds = 30;
inline constexpr int kDigits = 6;
inline constexpr std::size_t kSecretBytes = 20;  // 160 bits, RFC 4226's recommendation

// RFC 4648 base32, upper case, without '=' padding (as otpauth:// URIs carry it).
std::string Base32Encode(std::string_view raw);
// Accepts upper or lower case, with or without '=' padding, spaces and '-' ignored (people
// type secrets in groups). nullopt for any other character or a impossible length.
std::optional<std::string> Base32Decode(std::string_view text);

// The time step a Unix time falls in: floor(t / 30).
std::int64_t StepAt(std::int64_t unix_seconds);
// RFC 4226: HMAC-SHA1 of the 8-byte big-endian counter, dynamic truncation, `digits` (6..8)
// decimal digits with leading zeros.
std::string Hotp(std::string_view key, std::uint64_t counter, int digits = kDigits);
// RFC 6238 with T0 = 0 and a 30 s step.
std::string CodeAt(std::string_view key, std::int64_t unix_seconds, int digits = kDigits);
// Exactly six ASCII digits.
bool IsWellFormedCode(std::string_view code);

// The step whose code equals `code`, among the steps within `window` of the one `unix_seconds`
// falls in, and only if it is later than `last_step` (a code is accepted once). Every candidate
// is compared in constant time, whatever matches. nullopt when none does.
std::optional<std::int64_t> MatchStep(std::string_view key, std::string_view code,
                                      std::int64_t unix_seconds, std::int64_t last_step,
                                      int window = 1);

// otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30
// (Key Uri Format), with the label and issuer percent-encoded.
std::string OtpauthUri(std::string_view issuer, std::string_view account,
                       std::string_view secret_base32);

}  // namespace hub::auth::totp
