#include "auth/oidc.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <nlohmann/json.hpp>

#include "crypto/crypto.hpp"

namespace hub::auth::oidc {

struct Jwk::Key {
    EVP_PKEY* pkey = nullptr;
    ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

using json = nlohmann::json;

struct MdCtxFree {
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct CtxFree {
    void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct BldFree {
    void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct BnFree {
    void operator()(BIGNUM* p) const { BN_free(p); }
};
struct SigFree {
    void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

core::Error Refuse(const char* reason, std::string detail) {
    return core::Error::Make(core::ErrorCode::kUnauthenticated, reason,
                             "The provider's ID token was refused.", std::move(detail));
}

std::optional<std::string> B64(const json& j, const char* name) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    auto raw = crypto::Base64UrlDecode(it->get<std::string>());
    if (!raw || raw->empty()) return std::nullopt;
    return raw;
}

std::string Str(const json& j, const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

EVP_PKEY* FromData(const char* type, OSSL_PARAM* params) {
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* pkey = nullptr;
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        ERR_clear_error();
        return nullptr;
    }
    return pkey;
}

EVP_PKEY* RsaKey(const std::string& n, const std::string& e) {
    std::unique_ptr<BIGNUM, BnFree> bn_n(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()),
                  nullptr));
    std::unique_ptr<BIGNUM, BnFree> bn_e(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()),
                  nullptr));
    std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
        return nullptr;
    }
    std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
    if (!params) return nullptr;
    EVP_PKEY* key = FromData("RSA", params.get());
    if (key && EVP_PKEY_get_bits(key) < 2048) {
        EVP_PKEY_free(key);
        return nullptr;
    }
    return key;
}

EVP_PKEY* P256Key(const std::string& x, const std::string& y) {
    if (x.size() != 32 || y.size() != 32) return nullptr;
    std::string point = "\x04" + x + y;
    std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
        return nullptr;
    }
    std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
    if (!params) return nullptr;
    return FromData("EC", params.get());
}

// JWS ES256 signatures are r || s (32 bytes each); OpenSSL verifies DER.
std::optional<std::string> EcdsaRawToDer(std::string_view raw) {
    if (raw.size() != 64) return std::nullopt;
    std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return std::nullopt;
    }
    int len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (len <= 0) return std::nullopt;
    std::string der(static_cast<std::size_t>(len), '\0');
    auto* p = reinterpret_cast<unsigned char*>(der.data());
    i2d_ECDSA_SIG(sig.get(), &p);
    return der;
}

bool VerifySha256(EVP_PKEY* key, std::string_view data, std::string_view sig) {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    bool ok =
        ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    ERR_clear_error();
    return ok;
}

std::optional<json> DecodeSegment(std::string_view seg) {
    auto raw = crypto::Base64UrlDecode(seg);
    if (!raw) return std::nullopt;
    json j = json::parse(*raw, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    return j;
}

std::optional<std::int64_t> NumericDate(const json& j, const char* name) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_number()) return std::nullopt;
    return static_cast<std::int64_t>(it->get<double>());
}

}  // namespace

core::Result<Jwks> Jwks::Parse(std::string_view text) {
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("keys") ||
        !doc["keys"].is_array()) {
        return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_jwks",
                                 "The provider's key set is not valid JSON Web Keys.");
    }
    Jwks out;
    for (const auto& k : doc["keys"]) {
        if (!k.is_object()) continue;
        std::string use = Str(k, "use");
        if (!use.empty() && use != "sig") continue;
        std::string kty = Str(k, "kty");
        std::string alg = Str(k, "alg");
        EVP_PKEY* pkey = nullptr;
        if (kty == "RSA" && (alg.empty() || alg == "RS256")) {
            auto n = B64(k, "n");
            auto e = B64(k, "e");
            if (n && e) pkey = RsaKey(*n, *e);
            alg = "RS256";
        } else if (kty == "EC" && Str(k, "crv") == "P-256" && (alg.empty() || alg == "ES256")) {
            auto x = B64(k, "x");
            auto y = B64(k, "y");
            if (x && y) pkey = P256Key(*x, *y);
            alg = "ES256";
        }
        if (!pkey) continue;
        auto holder = std::make_shared<Jwk::Key>();
        holder->pkey = pkey;
        out.keys_.push_back(Jwk{Str(k, "kid"), alg, std::move(holder)});
    }
    return out;
}

const Jwk* Jwks::Find(std::string_view kid, std::string_view alg) const {
    const Jwk* only = nullptr;
    std::size_t of_alg = 0;
    for (const auto& k : keys_) {
        if (!kid.empty()) {
            if (k.kid == kid && k.alg == alg) return &k;
            continue;
        }
        if (k.alg == alg) {
            only = &k;
            ++of_alg;
        }
    }
    return of_alg == 1 ? only : nullptr;
}

core::Result<IdTokenHeader> PeekHeader(std::string_view token) {
    if (token.size() > kMaxIdTokenLength) return Refuse(kMalformed, "too long");
    auto dot = token.find('.');
    if (dot == std::string_view::npos) return Refuse(kMalformed, "not a JWS");
    auto header = DecodeSegment(token.substr(0, dot));
    if (!header) return Refuse(kMalformed, "header");
    IdTokenHeader h{Str(*header, "alg"), Str(*header, "kid")};
    if (h.alg != "RS256" && h.alg != "ES256") return Refuse(kUnsupportedAlg, "alg " + h.alg);
    return h;
}

core::Result<IdTokenClaims> VerifyIdToken(std::string_view token, const Jwks& keys,
                                          const IdTokenExpectations& expect) {
    auto header = PeekHeader(token);
    if (!header.ok()) return header.error();
    auto d1 = token.find('.');
    auto d2 = token.find('.', d1 + 1);
    if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
        return Refuse(kMalformed, "not three segments");
    const Jwk* key = keys.Find(header->kid, header->alg);
    if (!key) return Refuse(kUnknownKey, "kid " + header->kid);
    auto sig = crypto::Base64UrlDecode(token.substr(d2 + 1));
    if (!sig) return Refuse(kMalformed, "signature encoding");
    std::string signature = *sig;
    if (header->alg == "ES256") {
        auto der = EcdsaRawToDer(signature);
        if (!der) return Refuse(kBadSignature, "ES256 signature size");
        signature = *der;
    }
    if (!VerifySha256(key->key->pkey, token.substr(0, d2), signature))
        return Refuse(kBadSignature, "signature does not verify with kid " + key->kid);
    auto payload = DecodeSegment(token.substr(d1 + 1, d2 - d1 - 1));
    if (!payload) return Refuse(kMalformed, "payload");
    const json& p = *payload;
    IdTokenClaims c;
    c.iss = Str(p, "iss");
    c.sub = Str(p, "sub");
    c.azp = Str(p, "azp");
    c.nonce = Str(p, "nonce");
    c.email = Str(p, "email");
    c.name = Str(p, "name");
    c.preferred_username = Str(p, "preferred_username");
    if (auto it = p.find("email_verified"); it != p.end()) {
        // Some providers send "true" as a string.
        c.email_verified = (it->is_boolean() && it->get<bool>()) ||
                           (it->is_string() && it->get<std::string>() == "true");
    }
    if (auto it = p.find("aud"); it != p.end()) {
        if (it->is_string()) c.aud.push_back(it->get<std::string>());
        else if (it->is_array())
            for (const auto& a : *it)
                if (a.is_string()) c.aud.push_back(a.get<std::string>());
    }
    auto exp = NumericDate(p, "exp");
    auto iat = NumericDate(p, "iat");
    if (c.sub.empty() || c.sub.size() > 255 || !exp || !iat)
        return Refuse(kMalformed, "sub, exp or iat missing");
    c.exp = *exp;
    c.iat = *iat;
    if (c.iss != expect.issuer) return Refuse(kWrongIssuer, "iss " + c.iss);
    bool ours = false;
    for (const auto& a : c.aud) ours = ours || a == expect.client_id;
    if (!ours) return Refuse(kWrongAudience, "aud does not contain the client id");
    if (!c.azp.empty() && c.azp != expect.client_id) return Refuse(kWrongAudience, "azp " + c.azp);
    if (c.aud.size() > 1 && c.azp.empty())
        return Refuse(kWrongAudience, "several audiences and no azp");
    if (c.exp + expect.leeway_s <= expect.now_s) return Refuse(kExpired, "exp passed");
    if (c.iat - expect.leeway_s > expect.now_s) return Refuse(kNotYetValid, "iat in the future");
    if (auto nbf = NumericDate(p, "nbf"); nbf && *nbf - expect.leeway_s > expect.now_s)
        return Refuse(kNotYetValid, "nbf in the future");
    if (expect.nonce.empty() || !crypto::ConstantTimeEquals(c.nonce, expect.nonce))
        return Refuse(kWrongNonce, "nonce differs");
    return c;
}

std::string PkceChallengeS256(std::string_view verifier) {
    return crypto::Base64UrlEncode(crypto::Sha256(verifier));
}

}  // namespace hub::auth::oidc
