#pragma once
// Small crypto primitives over OpenSSL: random bytes, SHA-256, HMAC, base64/base64url,
// constant-time comparison. OpenSSL headers stay in crypto.cpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hub::crypto {

std::string RandomBytes(std::size_t n);           // CSPRNG; aborts if the RNG fails
std::string RandomToken(std::size_t bytes);       // base64url (no padding) of n random bytes
std::string Sha256(std::string_view data);        // raw 32 bytes
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string Hex(std::string_view raw);

std::string Base64Encode(std::string_view raw);
std::optional<std::string> Base64Decode(std::string_view text);
std::string Base64UrlEncode(std::string_view raw);  // no padding
std::optional<std::string> Base64UrlDecode(std::string_view text);

bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace hub::crypto
