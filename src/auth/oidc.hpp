#pragma once
// OpenID Connect, the pure part: a provider's JWKS turned into public keys (RSA for RS256,
// P-256 for ES256), ID-token verification (signature by one of those keys, iss, aud, azp,
// exp / iat with a leeway, nonce, sub) and the PKCE S256 challenge. No I/O and no clock:
// `now` is passed in. The network side (discovery, JWKS fetch and refresh, the code
// exchange) is services/sso.cpp. OpenSSL stays in oidc.cpp.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace hub::auth::oidc {

inline constexpr std::size_t kMaxIdTokenLength = 16 * 1024;
inline constexpr std::int64_t kDefaultLeewaySeconds = 60;

// One usable signing key of a provider.
struct Jwk {
    std::string kid;  // may be empty when the set has one key
    std::string alg;  // "RS256" or "ES256"
    struct Key;
    std::shared_ptr<const Key> key;  // the EVP_PKEY, opaque here
};

class Jwks {
public:
    // {"keys":[...]}: RSA keys (n, e; at least 2048 bits) and EC P-256 keys (x, y) marked for
    // signatures (use absent or "sig"); other keys (encryption, other curves, symmetric) are
    // skipped. kInvalidArgument "invalid_jwks" when the document is not a key set.
    [[nodiscard]] static core::Result<Jwks> Parse(std::string_view json);

    // The key for a token header: by kid when the token names one, else the only key of `alg`.
    const Jwk* Find(std::string_view kid, std::string_view alg) const;
    std::size_t size() const { return keys_.size(); }
    const std::vector<Jwk>& keys() const { return keys_; }

private:
    std::vector<Jwk> keys_;
};

struct IdTokenExpectations {
    std::string issuer;     // must equal `iss` exactly
    std::string client_id;  // must be in `aud`; `azp`, when present, must equal it
    std::string nonce;      // must equal `nonce`
    std::int64_t now_s = 0;
    std::int64_t leeway_s = kDefaultLeewaySeconds;
};

struct IdTokenClaims {
    std::string iss;
    std::string sub;
    std::vector<std::string> aud;
    std::string azp;
    std::string nonce;
    std::int64_t iat = 0;
    std::int64_t exp = 0;
    std::string email;
    bool email_verified = false;
    std::string name;
    std::string preferred_username;
};

struct IdTokenHeader {
    std::string alg;
    std::string kid;
};

// The reasons VerifyIdToken refuses a token: the Error's api_code is one of these.
inline constexpr const char* kMalformed = "id_token_malformed";
inline constexpr const char* kUnsupportedAlg = "id_token_alg_unsupported";
inline constexpr const char* kUnknownKey = "id_token_unknown_key";
inline constexpr const char* kBadSignature = "id_token_bad_signature";
inline constexpr const char* kWrongIssuer = "id_token_wrong_issuer";
inline constexpr const char* kWrongAudience = "id_token_wrong_audience";
inline constexpr const char* kExpired = "id_token_expired";
inline constexpr const char* kNotYetValid = "id_token_not_yet_valid";
inline constexpr const char* kWrongNonce = "id_token_wrong_nonce";

// The header of a compact JWS, unverified (to pick the key). kMalformed on anything odd.
[[nodiscard]] core::Result<IdTokenHeader> PeekHeader(std::string_view token);

// Verifies an ID token. Errors are kUnauthenticated with one of the reasons above as api_code.
[[nodiscard]] core::Result<IdTokenClaims> VerifyIdToken(std::string_view token, const Jwks& keys,
                                                        const IdTokenExpectations& expect);

// BASE64URL(SHA-256(verifier)) (RFC 7636 S256).
std::string PkceChallengeS256(std::string_view verifier);

}  // namespace hub::auth::oidc
