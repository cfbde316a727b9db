#pragma once
// The master key that encrypts secrets at rest (upstream keys, MFA secrets) with AEAD.
//
// Sources, chosen by the app layer (this module never reads the environment):
//   * FromBase64(text): the value of BAILIAN_HUB_MASTER_KEY, base64 of 32 random bytes
//     (`openssl rand -base64 32`);
//   * LoadOrCreateFile(path): a file holding that base64 text. Created with a fresh random key
//     and mode 0600 if missing (missing parent directories are created 0700); refused if it is
//     not a regular file, if group or others have any permission on it, or if it does not hold
//     exactly 32 bytes.
// CheckValue() is a key-check value (HMAC-SHA256 of a constant) the app stores next to the
// encrypted data, so that start-up can say "the master key does not match" instead of failing
// on the first decryption.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace hub::crypto {

class MasterKey {
public:
    static constexpr std::size_t kBytes = 32;

    [[nodiscard]] static core::Result<MasterKey> FromBase64(std::string_view text);
    // `created` (optional) is set to whether a new key file was written.
    [[nodiscard]] static core::Result<MasterKey> LoadOrCreateFile(const std::filesystem::path& path,
                                                                  bool* created = nullptr);
    static MasterKey Generate();  // 32 bytes from the CSPRNG

    const core::Secret<std::string>& key() const { return key_; }  // raw 32 bytes
    core::Secret<std::string> ToBase64() const;  // the form FromBase64 and key files use

    // "kcv1:" + hex(HMAC-SHA256(key, constant)); safe to store and to log.
    std::string CheckValue() const;
    // OK when `stored` is this key's check value; otherwise a start-up error saying that the
    // master key does not match the one the database was encrypted with.
    [[nodiscard]] core::Result<void> VerifyCheckValue(std::string_view stored) const;

    // AeadEncrypt / AeadDecrypt (aead.hpp) under this key.
    [[nodiscard]] core::Result<std::string> Encrypt(std::string_view plaintext,
                                                    std::string_view associated_data = {}) const;
    [[nodiscard]] core::Result<std::string> Decrypt(std::string_view envelope,
                                                    std::string_view associated_data = {}) const;

private:
    explicit MasterKey(std::string raw) : key_(std::move(raw)) {}
    core::Secret<std::string> key_;
};

}  // namespace hub::crypto
