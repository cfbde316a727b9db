#include "crypto/aead.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <climits>
#include <memory>

#include "crypto/crypto.hpp"

namespace hub::crypto {

namespace {

struct CtxDeleter {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const unsigned char* U(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

core::Error BadKey() {
    return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_key",
                             "The encryption key is invalid.", "AEAD key must be 32 bytes");
}

core::Error DecryptFailed(std::string detail) {
    return core::Error::Make(core::ErrorCode::kInternal, "decrypt_failed",
                             "A stored secret could not be decrypted.", std::move(detail));
}

core::Error CipherError(std::string detail) {
    return core::Error::Make(core::ErrorCode::kInternal, "internal_error", "Encryption failed.",
                             std::move(detail));
}

bool TooLong(std::string_view s) { return s.size() > static_cast<std::size_t>(INT_MAX) / 2; }

}  // namespace

core::Result<std::string> AeadEncrypt(std::string_view key, std::string_view plaintext,
                                      std::string_view associated_data) {
    auto raw = AeadSeal(key, plaintext, associated_data);
    if (!raw.ok()) return raw.error();
    return std::string(kAeadPrefixV1) + Base64Encode(raw.value());
}

core::Result<std::string> AeadSeal(std::string_view key, std::string_view plaintext,
                                   std::string_view associated_data) {
    if (key.size() != kAeadKeyBytes) return BadKey();
    if (TooLong(plaintext) || TooLong(associated_data)) return CipherError("input too long");
    const std::string nonce = RandomBytes(kAeadNonceBytes);

    Ctx ctx(EVP_CIPHER_CTX_new());
    if (!ctx) return CipherError("EVP_CIPHER_CTX_new failed");
    int len = 0;
    if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kAeadNonceBytes),
                            nullptr) != 1 ||
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, U(key), U(nonce)) != 1) {
        return CipherError("AES-256-GCM init failed");
    }
    if (!associated_data.empty() &&
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(associated_data),
                          static_cast<int>(associated_data.size())) != 1) {
        return CipherError("AES-256-GCM AAD failed");
    }
    // nonce | ciphertext | tag, assembled in place.
    std::string raw(kAeadNonceBytes + plaintext.size() + kAeadTagBytes, '\0');
    raw.replace(0, kAeadNonceBytes, nonce);
    unsigned char* ct = U(raw) + kAeadNonceBytes;
    int written = 0;
    if (!plaintext.empty()) {
        if (EVP_EncryptUpdate(ctx.get(), ct, &len, U(plaintext),
                              static_cast<int>(plaintext.size())) != 1) {
            return CipherError("AES-256-GCM update failed");
        }
        written = len;
    }
    if (EVP_EncryptFinal_ex(ctx.get(), ct + written, &len) != 1) {
        return CipherError("AES-256-GCM final failed");
    }
    written += len;
    if (static_cast<std::size_t>(written) != plaintext.size() ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kAeadTagBytes),
                            ct + written) != 1) {
        return CipherError("AES-256-GCM tag failed");
    }
    return raw;
}

core::Result<std::string> AeadDecrypt(std::string_view key, std::string_view envelope,
                                      std::string_view associated_data) {
    if (key.size() != kAeadKeyBytes) return BadKey();
    if (envelope.substr(0, kAeadPrefixV1.size()) != kAeadPrefixV1) {
        return DecryptFailed("unknown envelope version");
    }
    const std::string_view b64 = envelope.substr(kAeadPrefixV1.size());
    auto raw = Base64Decode(b64);
    // Only the canonical encoding is accepted, so no character of the envelope can change
    // without the decryption failing (base64 has spare bits in its last character).
    if (!raw || Base64Encode(*raw) != b64) return DecryptFailed("envelope is not canonical base64");
    return AeadOpen(key, *raw, associated_data);
}

core::Result<std::string> AeadOpen(std::string_view key, std::string_view sealed,
                                   std::string_view associated_data) {
    if (key.size() != kAeadKeyBytes) return BadKey();
    if (sealed.size() < kAeadNonceBytes + kAeadTagBytes) return DecryptFailed("envelope too short");
    if (TooLong(sealed) || TooLong(associated_data)) return DecryptFailed("input too long");

    const std::string_view all(sealed);
    const std::string_view nonce = all.substr(0, kAeadNonceBytes);
    const std::string_view ct =
        all.substr(kAeadNonceBytes, all.size() - kAeadNonceBytes - kAeadTagBytes);
    std::string tag(all.substr(all.size() - kAeadTagBytes));

    Ctx ctx(EVP_CIPHER_CTX_new());
    if (!ctx) return DecryptFailed("EVP_CIPHER_CTX_new failed");
    int len = 0;
    if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kAeadNonceBytes),
                            nullptr) != 1 ||
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, U(key), U(nonce)) != 1) {
        return DecryptFailed("AES-256-GCM init failed");
    }
    if (!associated_data.empty() &&
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(associated_data),
                          static_cast<int>(associated_data.size())) != 1) {
        return DecryptFailed("AES-256-GCM AAD failed");
    }
    std::string plain(ct.size(), '\0');
    int written = 0;
    if (!ct.empty()) {
        if (EVP_DecryptUpdate(ctx.get(), U(plain), &len, U(ct), static_cast<int>(ct.size())) != 1) {
            return DecryptFailed("AES-256-GCM update failed");
        }
        written = len;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAeadTagBytes),
                            U(tag)) != 1) {
        return DecryptFailed("AES-256-GCM set tag failed");
    }
    if (EVP_DecryptFinal_ex(ctx.get(), U(plain) + written, &len) != 1) {
        OPENSSL_cleanse(plain.data(), plain.size());  // never hand out unauthenticated bytes
        return DecryptFailed(
            "authentication failed (wrong key, wrong associated data or "
            "tampered ciphertext)");
    }
    plain.resize(static_cast<std::size_t>(written + len));
    return plain;
}

}  // namespace hub::crypto
