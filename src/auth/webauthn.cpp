#include "auth/webauthn.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "auth/cbor.hpp"
#include "crypto/crypto.hpp"

namespace hub::auth::webauthn {

namespace {

using core::Error;
using core::ErrorCode;
using core::Result;

constexpr std::size_t kMaxClientDataJson = 16 * 1024;
constexpr std::size_t kMaxCredentialId = 1023;  // WebAuthn L2 §7.1 step 6 (L3: 1023 bytes)
constexpr std::size_t kMaxAuthData = 16 * 1024;

Error Refuse(const char* code, std::string message, std::string detail = {}) {
    return Error::Make(ErrorCode::kInvalidArgument, code, std::move(message), std::move(detail));
}

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BnFree {
    void operator()(BIGNUM* p) const { BN_free(p); }
};
struct BldFree {
    void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

const std::string* BytesOf(const cbor::Value* v) {
    return v && v->type == cbor::Type::kBytes ? &v->bytes : nullptr;
}

PkeyPtr FromData(const char* type, OSSL_PARAM* params) {
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) return nullptr;
    return PkeyPtr(raw);
}

bool PublicCheck(EVP_PKEY* key) {
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    return ctx && EVP_PKEY_public_check(ctx.get()) == 1;
}

struct Key {
    PkeyPtr pkey;
    int alg = 0;
};

// COSE_Key (RFC 9052/9053) -> EVP_PKEY. Labels: 1 kty, 3 alg, -1 crv / n, -2 x / e, -3 y.
Result<Key> KeyFromCose(std::string_view cose_bytes) {
    auto decoded = cbor::Decode(cose_bytes);
    if (!decoded.ok()) return decoded.error();
    const cbor::Value& m = decoded.value();
    if (m.type != cbor::Type::kMap) return Refuse(kBadKey, "The public key is not a COSE key.");
    const cbor::Value* kty_v = m.Find(1);
    const cbor::Value* alg_v = m.Find(3);
    // Plain integers (0 = absent: no COSE kty or alg is 0), not optionals: g++ 12 -O2 warns
    // about optionals read in the branches below.
    const std::int64_t kty_n = kty_v && kty_v->AsInt() ? *kty_v->AsInt() : 0;
    const std::int64_t alg_n = alg_v && alg_v->AsInt() ? *alg_v->AsInt() : 0;
    if (kty_n == 0 || alg_n == 0) return Refuse(kBadKey, "The COSE key has no kty or alg.");
    const std::int64_t* kty = &kty_n;
    const std::int64_t* alg = &alg_n;
    Key out;
    out.alg = static_cast<int>(*alg);
    if (*alg == kAlgEs256) {
        const std::int64_t crv = m.Find(-1) && m.Find(-1)->AsInt() ? *m.Find(-1)->AsInt() : 0;
        const std::string* x = BytesOf(m.Find(-2));
        const std::string* y = BytesOf(m.Find(-3));
        if (*kty != 2 || crv != 1 || !x || !y || x->size() != 32 || y->size() != 32)
            return Refuse(kBadKey, "The ES256 key is not a P-256 EC2 key.");
        std::string point = "\x04" + *x + *y;
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                             const_cast<char*>("prime256v1"), 0),
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
            OSSL_PARAM_construct_end()};
        out.pkey = FromData("EC", params);
    } else if (*alg == kAlgRs256) {
        const std::string* n = BytesOf(m.Find(-1));
        const std::string* e = BytesOf(m.Find(-2));
        if (*kty != 3 || !n || !e || n->empty() || e->empty() || e->size() > 8)
            return Refuse(kBadKey, "The RS256 key is not an RSA key.");
        std::unique_ptr<BIGNUM, BnFree> bn_n(
            BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
        std::unique_ptr<BIGNUM, BnFree> bn_e(
            BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
        if (!bn_n || !bn_e) return Refuse(kBadKey, "The RS256 key is not an RSA key.");
        if (BN_num_bits(bn_n.get()) < 2048 || BN_num_bits(bn_n.get()) > 8192)
            return Refuse(kBadKey, "The RSA key must have 2048 to 8192 bits.");
        if (!BN_is_odd(bn_e.get()) || BN_num_bits(bn_e.get()) < 2)
            return Refuse(kBadKey, "The RSA public exponent is invalid.");
        std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
        if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
            return Error::Make(ErrorCode::kInternal, "internal", "Internal error.", "param build");
        std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
        if (!params) return Error::Make(ErrorCode::kInternal, "internal", "Internal error.", "param build");
        out.pkey = FromData("RSA", params.get());
        return out.pkey ? Result<Key>(std::move(out)) : Refuse(kBadKey, "The RSA key is invalid.");
    } else if (*alg == kAlgEdDsa) {
        const std::int64_t crv = m.Find(-1) && m.Find(-1)->AsInt() ? *m.Find(-1)->AsInt() : 0;
        const std::string* x = BytesOf(m.Find(-2));
        if (*kty != 1 || crv != 6 || !x || x->size() != 32)
            return Refuse(kBadKey, "The EdDSA key is not an Ed25519 OKP key.");
        out.pkey.reset(EVP_PKEY_new_raw_public_key(
            EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size()));
    } else {
        return Refuse(kUnsupportedAlg,
                      "Unsupported key algorithm; use ES256, RS256 or EdDSA (Ed25519).",
                      "alg " + std::to_string(*alg));
    }
    if (!out.pkey || !PublicCheck(out.pkey.get()))
        return Refuse(kBadKey, "The public key is invalid.");
    return out;
}

bool Verify(const Key& key, std::string_view data, std::string_view sig) {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
    if (!md) return false;
    const EVP_MD* digest = key.alg == kAlgEdDsa ? nullptr : EVP_sha256();
    EVP_PKEY_CTX* pctx = nullptr;
    if (EVP_DigestVerifyInit(md.get(), &pctx, digest, nullptr, key.pkey.get()) != 1) return false;
    if (key.alg == kAlgRs256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        return false;
    return EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                            reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

std::uint32_t Be32(std::string_view b) {
    return (std::uint32_t{static_cast<std::uint8_t>(b[0])} << 24) |
           (std::uint32_t{static_cast<std::uint8_t>(b[1])} << 16) |
           (std::uint32_t{static_cast<std::uint8_t>(b[2])} << 8) |
           std::uint32_t{static_cast<std::uint8_t>(b[3])};
}

Result<ClientData> CheckClientData(const RelyingParty& rp, const Expectation& want,
                                   std::string_view json, const char* type) {
    auto cd = ParseClientData(json);
    if (!cd.ok()) return cd.error();
    if (cd->type != type)
        return Refuse(kWrongType, "The credential was made for another ceremony.", cd->type);
    if (want.challenge.empty() || !crypto::ConstantTimeEquals(cd->challenge, want.challenge))
        return Refuse(kWrongChallenge, "The challenge does not match.");
    bool origin_ok = false;
    for (const auto& o : rp.origins) origin_ok = origin_ok || o == cd->origin;
    if (!origin_ok)
        return Refuse(kWrongOrigin, "The credential was used from an origin this hub does not allow.",
                      cd->origin.substr(0, 200));
    if (cd->cross_origin)
        return Refuse(kCrossOrigin, "Cross-origin use of a passkey is not allowed.");
    return cd;
}

Result<void> CheckAuthData(const RelyingParty& rp, const Expectation& want,
                           const AuthenticatorData& ad) {
    std::string expected = crypto::Sha256(rp.id);
    if (!crypto::ConstantTimeEquals(ad.rp_id_hash, expected))
        return Refuse(kWrongRpId, "The credential belongs to another site (RP ID).");
    if (!(ad.flags & kFlagUp)) return Refuse(kNoUserPresence, "The user was not present.");
    if (want.require_user_verification && !(ad.flags & kFlagUv))
        return Refuse(kNoUserVerification, "The authenticator did not verify the user.");
    // BS (backed up) without BE (backup eligible) is invalid (WebAuthn L3 §6.1).
    if ((ad.flags & kFlagBs) && !(ad.flags & kFlagBe))
        return Refuse(kBadAuthData, "The authenticator data flags are inconsistent.");
    return core::Ok();
}

}  // namespace

Result<ClientData> ParseClientData(std::string_view json_text) {
    if (json_text.empty() || json_text.size() > kMaxClientDataJson)
        return Refuse(kBadClientData, "clientDataJSON is empty or too large.");
    auto j = nlohmann::json::parse(json_text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return Refuse(kBadClientData, "clientDataJSON is not a JSON object.");
    ClientData cd;
    auto text = [&](const char* k, std::string* out) {
        auto it = j.find(k);
        if (it == j.end() || !it->is_string()) return false;
        *out = it->get<std::string>();
        return true;
    };
    std::string challenge_b64;
    if (!text("type", &cd.type) || !text("challenge", &challenge_b64) || !text("origin", &cd.origin))
        return Refuse(kBadClientData, "clientDataJSON lacks type, challenge or origin.");
    auto raw = crypto::Base64UrlDecode(challenge_b64);
    if (!raw || raw->empty()) return Refuse(kBadClientData, "The challenge is not base64url.");
    cd.challenge = std::move(*raw);
    if (auto it = j.find("crossOrigin"); it != j.end()) {
        if (!it->is_boolean()) return Refuse(kBadClientData, "crossOrigin must be a boolean.");
        cd.cross_origin = it->get<bool>();
    }
    return cd;
}

Result<AuthenticatorData> ParseAuthenticatorData(std::string_view b) {
    if (b.size() < 37 || b.size() > kMaxAuthData)
        return Refuse(kBadAuthData, "The authenticator data is too short or too long.");
    AuthenticatorData ad;
    ad.rp_id_hash.assign(b.substr(0, 32));
    ad.flags = static_cast<std::uint8_t>(b[32]);
    ad.sign_count = Be32(b.substr(33, 4));
    std::size_t pos = 37;
    if (ad.flags & kFlagAt) {
        if (b.size() - pos < 18) return Refuse(kBadAuthData, "The attested credential data is cut short.");
        AttestedCredential c;
        c.aaguid.assign(b.substr(pos, 16));
        std::size_t id_len = (std::size_t{static_cast<std::uint8_t>(b[pos + 16])} << 8) |
                             static_cast<std::uint8_t>(b[pos + 17]);
        pos += 18;
        if (id_len == 0 || id_len > kMaxCredentialId || id_len > b.size() - pos)
            return Refuse(kBadAuthData, "The credential id length is invalid.");
        c.credential_id.assign(b.substr(pos, id_len));
        pos += id_len;
        auto key = cbor::DecodePrefix(b.substr(pos));
        if (!key.ok()) return key.error();
        c.public_key.assign(b.substr(pos, key->consumed));
        pos += key->consumed;
        if (key->value.type != cbor::Type::kMap)
            return Refuse(kBadKey, "The credential public key is not a COSE key.");
        ad.credential = std::move(c);
    }
    if (ad.flags & kFlagEd) {
        auto ext = cbor::Decode(b.substr(pos));
        if (!ext.ok()) return ext.error();
        if (ext->type != cbor::Type::kMap) return Refuse(kBadAuthData, "Extensions must be a map.");
        pos = b.size();
    }
    if (pos != b.size()) return Refuse(kBadAuthData, "Trailing bytes after the authenticator data.");
    return ad;
}

Result<int> CheckCoseKey(std::string_view cose_key) {
    auto k = KeyFromCose(cose_key);
    if (!k.ok()) return k.error();
    return k->alg;
}

Result<void> VerifySignature(std::string_view cose_key, std::string_view data,
                             std::string_view sig) {
    auto k = KeyFromCose(cose_key);
    if (!k.ok()) return k.error();
    if (sig.empty() || sig.size() > 1024 || !Verify(k.value(), data, sig))
        return Refuse(kBadSignature, "The signature does not verify.");
    return core::Ok();
}

Result<NewCredential> VerifyRegistration(const RelyingParty& rp, const Expectation& want,
                                         std::string_view client_data_json,
                                         std::string_view attestation_object) {
    auto cd = CheckClientData(rp, want, client_data_json, "webauthn.create");
    if (!cd.ok()) return cd.error();
    cbor::Limits limits;
    limits.max_string = kMaxAuthData;
    auto att = cbor::Decode(attestation_object, limits);
    if (!att.ok()) return att.error();
    if (att->type != cbor::Type::kMap)
        return Refuse(kBadAttestation, "The attestation object is not a map.");
    const cbor::Value* fmt = att->Find(std::string_view("fmt"));
    const cbor::Value* stmt = att->Find(std::string_view("attStmt"));
    const std::string* auth_data = BytesOf(att->Find(std::string_view("authData")));
    if (!fmt || fmt->type != cbor::Type::kText || !stmt || stmt->type != cbor::Type::kMap ||
        !auth_data)
        return Refuse(kBadAttestation, "The attestation object lacks fmt, attStmt or authData.");
    if (fmt->bytes == "none" && !stmt->entries.empty())
        return Refuse(kBadAttestation, "Attestation \"none\" must have an empty statement.");
    auto ad = ParseAuthenticatorData(*auth_data);
    if (!ad.ok()) return ad.error();
    if (auto c = CheckAuthData(rp, want, ad.value()); !c.ok()) return c.error();
    if (!ad->credential)
        return Refuse(kBadAuthData, "The authenticator data carries no credential.");
    auto alg = CheckCoseKey(ad->credential->public_key);
    if (!alg.ok()) return alg.error();
    NewCredential out;
    out.credential_id = ad->credential->credential_id;
    out.public_key = ad->credential->public_key;
    out.alg = alg.value();
    out.sign_count = ad->sign_count;
    out.fmt = fmt->bytes;
    out.aaguid = ad->credential->aaguid;
    out.user_verified = (ad->flags & kFlagUv) != 0;
    out.backup_eligible = (ad->flags & kFlagBe) != 0;
    return out;
}

Result<AssertionResult> VerifyAssertion(const RelyingParty& rp, const Expectation& want,
                                        const StoredCredential& stored,
                                        std::string_view client_data_json,
                                        std::string_view authenticator_data,
                                        std::string_view signature) {
    auto cd = CheckClientData(rp, want, client_data_json, "webauthn.get");
    if (!cd.ok()) return cd.error();
    auto ad = ParseAuthenticatorData(authenticator_data);
    if (!ad.ok()) return ad.error();
    if (ad->credential) return Refuse(kBadAuthData, "An assertion carries no attested credential.");
    if (auto c = CheckAuthData(rp, want, ad.value()); !c.ok()) return c.error();
    std::string signed_data(authenticator_data);
    signed_data += crypto::Sha256(client_data_json);
    if (auto v = VerifySignature(stored.public_key, signed_data, signature); !v.ok())
        return v.error();
    // Only after the signature: an unsigned count proves nothing.
    if (stored.sign_count > 0 && ad->sign_count <= stored.sign_count) {
        return Refuse(kSignCountRegressed, "The authenticator's signature counter went backwards.",
                      "stored " + std::to_string(stored.sign_count) + ", got " +
                          std::to_string(ad->sign_count));
    }
    AssertionResult r;
    r.sign_count = ad->sign_count;
    r.user_verified = (ad->flags & kFlagUv) != 0;
    return r;
}

}  // namespace hub::auth::webauthn
