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
// HMAC-SHA1 only where a standard demands it (TOTP, RFC 6238); raw 20 bytes.
std::string HmacSha1(std::string_view key, std::string_view data);
std::string Hex(std::string_view raw);

std::string Base64Encode(std::string_view raw);
std::optional<std::string> Base64Decode(std::string_view text);
std::string Base64UrlEncode(std::string_view raw);  // no padding
std::optional<std::string> Base64UrlDecode(std::string_view text);

bool ConstantTimeEquals(std::string_view a, std::string_view b);

// SHA-256 fed piece by piece (files and streams too large to hold at once).
class Sha256Stream {
public:
    Sha256Stream();
    ~Sha256Stream();
    Sha256Stream(const Sha256Stream&) = delete;
    Sha256Stream& operator=(const Sha256Stream&) = delete;
    void Update(std::string_view data);
    std::string Final();  // raw 32 bytes; the object is then spent
    std::string FinalHex() { return Hex(Final()); }

private:
    void* ctx_;  // EVP_MD_CTX
};

// scrypt (RFC 7914) key derivation for passphrases: `bytes` bytes from the passphrase and
// salt with cost 2^log2_n, block size r, parallelism p. nullopt when the parameters are out
// of range or the memory they need cannot be had (the caller reports it).
std::optional<std::string> Scrypt(std::string_view passphrase, std::string_view salt,
                                  int log2_n, int r, int p, std::size_t bytes);

}  // namespace hub::crypto
