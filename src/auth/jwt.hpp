#pragma once
// Access tokens: JWT signed with RS256 (RSA 2048+, PKCS#1 v1.5, SHA-256).
//
// KeyRing holds the signing keys. The newest unretired key with a private half signs; every
// key in the ring verifies. Rotation adds a new key and retires the previous one; a retired
// key stays in the JWKS until every token it may have signed has expired
// (retired_at + max_token_ttl + leeway), after which Prune() drops it.
//
// JwtCodec signs and verifies. Verify accepts only alg RS256 with a known kid, a valid
// signature, the configured iss and aud, and exp / nbf within the leeway. Time is always
// passed in (`now`), never read from the system.
//
// OpenSSL stays in jwt.cpp. KeyRing is internally synchronised: Sign/Verify may run on many
// threads while another rotates or prunes.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace hub::auth {

using TimePoint = std::chrono::system_clock::time_point;

inline constexpr std::chrono::seconds kDefaultAccessTokenTtl{15 * 60};
inline constexpr std::chrono::seconds kDefaultJwtLeeway{30};
inline constexpr int kRsaKeyBits = 2048;            // generated size, and the minimum accepted
inline constexpr std::size_t kMaxJwtLength = 8192;  // longer tokens are rejected unparsed

struct RsaKeyPairPem {
    core::Secret<std::string> private_pem;  // PKCS#8 "BEGIN PRIVATE KEY", unencrypted
    std::string public_pem;                 // SubjectPublicKeyInfo "BEGIN PUBLIC KEY"
};

// Generates an RSA key pair (slow: tens to hundreds of milliseconds; run it off the io threads).
[[nodiscard]] core::Result<RsaKeyPairPem> GenerateRsaKeyPair(int bits = kRsaKeyBits);

struct SigningKey {
    std::string kid;                         // empty: filled with the RFC 7638 thumbprint
    core::Secret<std::string> private_pem;   // empty: a verify-only key
    std::string public_pem;                  // empty: derived from private_pem
    std::int64_t created_at = 0;             // epoch seconds
    std::optional<std::int64_t> retired_at;  // epoch seconds; set when a newer key took over
};

// A fresh key pair as a SigningKey created at `now` (kid = thumbprint).
[[nodiscard]] core::Result<SigningKey> NewSigningKey(TimePoint now, int bits = kRsaKeyBits);

// RFC 7638 JWK thumbprint (base64url SHA-256) of an RSA public key PEM.
[[nodiscard]] core::Result<std::string> RsaThumbprint(std::string_view public_pem);

struct KeyRingOptions {
    // The longest lifetime of any token signed by the ring, and the clock leeway of verifiers:
    // together they decide how long a retired key stays published.
    std::chrono::seconds max_token_ttl = kDefaultAccessTokenTtl;
    std::chrono::seconds leeway = kDefaultJwtLeeway;
};

// Public view of a key, for listings (`jwt rotate`, admin pages). No private material.
struct KeyInfo {
    std::string kid;
    std::string public_pem;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> retired_at;
    bool can_sign = false;  // has a private half
    bool active = false;    // the key Sign() uses now
};

class JwtCodec;

class KeyRing {
public:
    explicit KeyRing(KeyRingOptions options = {});
    ~KeyRing();
    KeyRing(KeyRing&&) noexcept;
    KeyRing& operator=(KeyRing&&) noexcept;
    KeyRing(const KeyRing&) = delete;
    KeyRing& operator=(const KeyRing&) = delete;

    // Adds a key as it is (e.g. loaded from disk) and returns its kid. Checks that the PEMs
    // parse, are RSA of at least 2048 bits, and that both halves match when both are given.
    // A duplicate kid is kConflict; bad key material is kInvalidArgument.
    [[nodiscard]] core::Result<std::string> Add(SigningKey key);

    // Makes `key` the signing key: every other unretired key gets retired_at = now.
    // The key's created_at is set to `now` when it is 0.
    [[nodiscard]] core::Result<std::string> Rotate(SigningKey key, TimePoint now);
    // Same with a freshly generated key (slow; see GenerateRsaKeyPair).
    [[nodiscard]] core::Result<std::string> Rotate(TimePoint now);

    // The kid Sign() uses: the newest unretired key with a private half.
    std::optional<std::string> ActiveKid() const;
    std::vector<KeyInfo> Keys() const;  // in insertion order
    std::size_t size() const;
    bool empty() const { return size() == 0; }

    // A key's tokens may still be alive at `now` unless it was retired more than
    // max_token_ttl + leeway ago.
    bool IsPublished(const KeyInfo& key, TimePoint now) const;

    // {"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":…,"n":…,"e":…}, …]} for every
    // published key (what GET /auth/jwks serves).
    std::string JwksJson(TimePoint now) const;

    // Removes keys that are no longer published (never the active key); returns their kids.
    std::vector<std::string> Prune(TimePoint now);

    // File content, JSON with the private keys: the caller writes it with mode 0600.
    // {"version":1,"keys":[{"kid","private_pem","public_pem","created_at","retired_at"}]}
    core::Secret<std::string> Serialize() const;
    [[nodiscard]] static core::Result<KeyRing> Deserialize(std::string_view json,
                                                           KeyRingOptions options = {});
    // Replaces every key with those of `json` (the file after `jwt rotate` rewrote it), in
    // place, so codecs holding this ring see the new keys. Nothing changes on error.
    [[nodiscard]] core::Result<void> Reload(std::string_view json);

    const KeyRingOptions& options() const;

private:
    friend class JwtCodec;
    struct Impl;
    struct LoadedKey;
    std::shared_ptr<const LoadedKey> Find(std::string_view kid) const;
    std::shared_ptr<const LoadedKey> Active() const;

    std::unique_ptr<Impl> impl_;
};

// The claims of an access token issued by JwtCodec.
struct AccessClaims {
    std::string iss;
    std::string aud;
    std::string sub;   // user id
    std::string role;  // role name at issue time
    std::string sid;   // session id
    std::string jti;   // token id (UUIDv7)
    std::int64_t iat = 0;
    std::int64_t nbf = 0;
    std::int64_t exp = 0;
};

struct TokenRequest {
    std::string sub;
    std::string role;
    std::string sid;
    std::optional<std::chrono::seconds> ttl;  // default JwtOptions::ttl; at most max_token_ttl
};

struct SignedToken {
    std::string token;
    std::string kid;
    AccessClaims claims;  // expires_in = claims.exp - claims.iat
};

struct JwtOptions {
    std::string issuer;    // e.g. "https://hub.example.com"
    std::string audience;  // e.g. "bailian-hub"
    std::chrono::seconds ttl = kDefaultAccessTokenTtl;
};

// Why a token was rejected. Every one maps to kUnauthenticated; the public api_code is
// "token_expired" for kExpired and "invalid_token" for all others (detail names the reason).
enum class JwtError {
    kMalformed,
    kBadSignature,
    kUnknownKid,
    kExpired,
    kNotYetValid,
    kWrongIssuer,
    kWrongAudience,
    kAlgNotAllowed,
};
std::string_view JwtErrorName(JwtError e);  // "malformed", "bad_signature", …

class JwtCodec {
public:
    // `ring` must outlive the codec and stay where it is (do not move it). Fails when issuer or
    // audience is empty or when the ttl is not in (0, ring.options().max_token_ttl].
    [[nodiscard]] static core::Result<JwtCodec> Create(const KeyRing& ring, JwtOptions options);

    // Header {alg:RS256, typ:JWT, kid}; claims iss, aud, sub, role, sid, jti, iat, nbf, exp.
    [[nodiscard]] core::Result<SignedToken> Sign(const TokenRequest& request, TimePoint now) const;

    // On failure, `reason` (when given) receives the typed cause.
    [[nodiscard]] core::Result<AccessClaims> Verify(std::string_view token, TimePoint now,
                                                    JwtError* reason = nullptr) const;

    const JwtOptions& options() const { return options_; }

    // Tokens whose signature this codec has verified, remembered so that the RSA check runs
    // once per token rather than once per request (every other check still runs each time:
    // kid still in the ring, iss, aud, exp, nbf). Bounded; oldest forgotten first.
    static constexpr std::size_t kVerifiedCacheSize = 4096;
    class VerifiedCache;

private:
    JwtCodec(const KeyRing& ring, JwtOptions options);

    const KeyRing* ring_;
    JwtOptions options_;
    std::shared_ptr<VerifiedCache> verified_;
};

}  // namespace hub::auth
