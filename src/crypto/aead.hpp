#pragma once
// Secrets at rest: AES-256-GCM with a random 96-bit nonce per message.
//
// Output format, version 1:  "v1:" + base64( nonce[12] | ciphertext | tag[16] )
// Optional associated data (e.g. the row id) is authenticated but not stored: decrypting
// with different associated data fails, so a ciphertext cannot be moved to another row.
// Any changed byte, a wrong key or a different associated data gives an error, never garbage.
// OpenSSL stays in aead.cpp.
#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace hub::crypto {

inline constexpr std::size_t kAeadKeyBytes = 32;
inline constexpr std::size_t kAeadNonceBytes = 12;
inline constexpr std::size_t kAeadTagBytes = 16;
inline constexpr std::string_view kAeadPrefixV1 = "v1:";

// `key` must be exactly 32 raw bytes (kInvalidArgument otherwise).
[[nodiscard]] core::Result<std::string> AeadEncrypt(std::string_view key,
                                                    std::string_view plaintext,
                                                    std::string_view associated_data = {});

// kInternal "decrypt_failed" for a wrong key, wrong associated data, tampering, an unknown
// version or a malformed envelope (the detail says which, for logs).
[[nodiscard]] core::Result<std::string> AeadDecrypt(std::string_view key, std::string_view envelope,
                                                    std::string_view associated_data = {});

// The same without the text envelope, for binary containers (backups): the raw bytes
// nonce[12] | ciphertext | tag[16]. Errors as above.
[[nodiscard]] core::Result<std::string> AeadSeal(std::string_view key, std::string_view plaintext,
                                                 std::string_view associated_data = {});
[[nodiscard]] core::Result<std::string> AeadOpen(std::string_view key, std::string_view sealed,
                                                 std::string_view associated_data = {});

}  // namespace hub::crypto
