#pragma once
// WebAuthn (Level 2) verification for passkeys, pure: no HTTP, no storage, no clock.
//
// Registration: clientDataJSON (type webauthn.create, the issued challenge, an allowed origin,
// not cross-origin) and the attestation object (CBOR: fmt, attStmt, authData). authData must
// carry SHA-256(rp id), the user-present flag, user verification when required, and attested
// credential data whose COSE key is ES256 (-7, P-256), RS256 (-257, RSA >= 2048 bits) or
// EdDSA (-8, Ed25519). Attestation: the hub asks for "none" and trusts no attestation
// statement. fmt "none" must have an empty attStmt; any other fmt is accepted but its
// statement is ignored (treated as "none"; no authenticator model is ever trusted from it).
//
// Assertion: clientDataJSON (type webauthn.get, ...), authenticatorData (rp id hash, flags,
// sign count) and a signature over authenticatorData || SHA-256(clientDataJSON) made with
// the stored COSE key (ECDSA signatures are DER). A stored sign count > 0 that the assertion
// does not exceed is refused as kSignCountRegressed (a cloned authenticator, possibly).
//
// Every refusal is a core::Error whose api_code names the reason (for logs and audit); the
// caller decides what the client sees. OpenSSL stays in webauthn.cpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace hub::auth::webauthn {

inline constexpr int kAlgEs256 = -7;
inline constexpr int kAlgRs256 = -257;
inline constexpr int kAlgEdDsa = -8;

// Flags of authenticator data.
inline constexpr std::uint8_t kFlagUp = 0x01;
inline constexpr std::uint8_t kFlagUv = 0x04;
inline constexpr std::uint8_t kFlagBe = 0x08;
inline constexpr std::uint8_t kFlagBs = 0x10;
inline constexpr std::uint8_t kFlagAt = 0x40;
inline constexpr std::uint8_t kFlagEd = 0x80;

// api_codes of the refusals (all kInvalidArgument unless noted).
inline constexpr const char* kBadClientData = "webauthn_client_data_invalid";
inline constexpr const char* kWrongType = "webauthn_wrong_type";
inline constexpr const char* kWrongChallenge = "webauthn_wrong_challenge";
inline constexpr const char* kWrongOrigin = "webauthn_wrong_origin";
inline constexpr const char* kCrossOrigin = "webauthn_cross_origin";
inline constexpr const char* kBadAuthData = "webauthn_authenticator_data_invalid";
inline constexpr const char* kWrongRpId = "webauthn_wrong_rp_id";
inline constexpr const char* kNoUserPresence = "webauthn_user_not_present";
inline constexpr const char* kNoUserVerification = "webauthn_user_not_verified";
inline constexpr const char* kBadAttestation = "webauthn_attestation_invalid";
inline constexpr const char* kBadKey = "webauthn_public_key_invalid";
inline constexpr const char* kUnsupportedAlg = "webauthn_unsupported_algorithm";
inline constexpr const char* kBadSignature = "webauthn_bad_signature";
inline constexpr const char* kSignCountRegressed = "webauthn_sign_count_regressed";
// (malformed CBOR comes back as "invalid_cbor" from auth/cbor.hpp)

struct RelyingParty {
    std::string id;                    // e.g. "hub.example.com"
    std::vector<std::string> origins;  // exact scheme://host[:port] values accepted
};

struct ClientData {
    std::string type;
    std::string challenge;  // raw bytes (decoded from base64url)
    std::string origin;
    bool cross_origin = false;
};

// Only the parse (type, base64url challenge, origin): what the caller needs to find the
// challenge it issued before verifying.
core::Result<ClientData> ParseClientData(std::string_view client_data_json);

struct AttestedCredential {
    std::string aaguid;         // 16 bytes
    std::string credential_id;  // raw
    std::string public_key;     // the COSE_Key bytes as sent
    int alg = 0;
};

struct AuthenticatorData {
    std::string rp_id_hash;  // 32 bytes
    std::uint8_t flags = 0;
    std::uint32_t sign_count = 0;
    std::optional<AttestedCredential> credential;  // with AT
};

core::Result<AuthenticatorData> ParseAuthenticatorData(std::string_view bytes);

// Checks a COSE_Key (supported alg, well-formed, a real point / modulus) and returns its alg.
core::Result<int> CheckCoseKey(std::string_view cose_key);

struct Expectation {
    std::string challenge;  // raw bytes issued for this ceremony
    bool require_user_verification = true;
};

struct NewCredential {
    std::string credential_id;
    std::string public_key;  // COSE_Key bytes
    int alg = 0;
    std::uint32_t sign_count = 0;
    std::string fmt;
    std::string aaguid;
    bool user_verified = false;
    bool backup_eligible = false;
};

core::Result<NewCredential> VerifyRegistration(const RelyingParty& rp, const Expectation& want,
                                               std::string_view client_data_json,
                                               std::string_view attestation_object);

struct StoredCredential {
    std::string public_key;  // COSE_Key bytes
    std::uint32_t sign_count = 0;
};

struct AssertionResult {
    std::uint32_t sign_count = 0;
    bool user_verified = false;
};

core::Result<AssertionResult> VerifyAssertion(const RelyingParty& rp, const Expectation& want,
                                              const StoredCredential& stored,
                                              std::string_view client_data_json,
                                              std::string_view authenticator_data,
                                              std::string_view signature);

// Signature check alone: `sig` over `data` with the COSE key (ES256 DER, RS256, EdDSA).
core::Result<void> VerifySignature(std::string_view cose_key, std::string_view data,
                                   std::string_view sig);

}  // namespace hub::auth::webauthn
