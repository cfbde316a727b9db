#pragma once
// A software authenticator for the unit tests: OpenSSL keys (P-256, RSA, Ed25519), COSE keys,
// a tiny CBOR encoder, authenticator data, attestation objects ("none") and assertions, all
// built by hand from the WebAuthn spec (not from the code under test).
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "crypto/crypto.hpp"

namespace hub::auth::webauthn::testing {

// ---- CBOR encoding (definite lengths, shortest form) ----
inline std::string Head(int major, std::uint64_t n) {
    std::string s;
    auto m = static_cast<char>(major << 5);
    if (n < 24) {
        s.push_back(static_cast<char>(m | static_cast<char>(n)));
    } else if (n < 0x100) {
        s.push_back(static_cast<char>(m | 24));
        s.push_back(static_cast<char>(n));
    } else if (n < 0x10000) {
        s.push_back(static_cast<char>(m | 25));
        for (int i = 1; i >= 0; --i) s.push_back(static_cast<char>(n >> (8 * i)));
    } else {
        s.push_back(static_cast<char>(m | 26));
        for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>(n >> (8 * i)));
    }
    return s;
}
inline std::string Int(std::int64_t v) {
    return v >= 0 ? Head(0, static_cast<std::uint64_t>(v)) : Head(1, static_cast<std::uint64_t>(-1 - v));
}
inline std::string Bytes(const std::string& b) { return Head(2, b.size()) + b; }
inline std::string Text(const std::string& t) { return Head(3, t.size()) + t; }
inline std::string Map(const std::vector<std::pair<std::string, std::string>>& kv) {
    std::string s = Head(5, kv.size());
    for (const auto& [k, v] : kv) s += k + v;
    return s;
}

// ---- keys ----
struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

class TestKey {
public:
    static TestKey Make(int alg) {
        TestKey k;
        k.alg_ = alg;
        if (alg == -7) {
            k.key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
        } else if (alg == -257) {
            k.key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
        } else if (alg == -8) {
            k.key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
        }
        if (!k.key_) throw std::runtime_error("keygen failed");
        return k;
    }
    static TestKey Rsa(int bits) {
        TestKey k;
        k.alg_ = -257;
        k.key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
        return k;
    }

    int alg() const { return alg_; }

    std::string Cose() const {
        if (alg_ == -7) {
            unsigned char pt[65];
            size_t len = 0;
            EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &len);
            std::string p(reinterpret_cast<char*>(pt), len);
            return Map({{Int(1), Int(2)}, {Int(3), Int(-7)}, {Int(-1), Int(1)},
                        {Int(-2), Bytes(p.substr(1, 32))}, {Int(-3), Bytes(p.substr(33, 32))}});
        }
        if (alg_ == -257) {
            return Map({{Int(1), Int(3)}, {Int(3), Int(-257)}, {Int(-1), Bytes(Bn(OSSL_PKEY_PARAM_RSA_N))},
                        {Int(-2), Bytes(Bn(OSSL_PKEY_PARAM_RSA_E))}});
        }
        unsigned char raw[32];
        size_t len = sizeof raw;
        EVP_PKEY_get_raw_public_key(key_.get(), raw, &len);
        return Map({{Int(1), Int(1)}, {Int(3), Int(-8)}, {Int(-1), Int(6)},
                    {Int(-2), Bytes(std::string(reinterpret_cast<char*>(raw), len))}});
    }

    std::string Sign(const std::string& data) const {
        EVP_MD_CTX* md = EVP_MD_CTX_new();
        EVP_DigestSignInit(md, nullptr, alg_ == -8 ? nullptr : EVP_sha256(), nullptr, key_.get());
        size_t len = 0;
        EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                       data.size());
        std::string sig(len, '\0');
        EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size());
        EVP_MD_CTX_free(md);
        sig.resize(len);
        return sig;
    }

private:
    std::string Bn(const char* name) const {
        BIGNUM* bn = nullptr;
        EVP_PKEY_get_bn_param(key_.get(), name, &bn);
        std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
        BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
        BN_free(bn);
        return out;
    }
    int alg_ = 0;
    std::unique_ptr<EVP_PKEY, PkeyFree> key_;
};

// ---- ceremonies ----
inline std::string ClientDataJson(const std::string& type, const std::string& challenge_raw,
                                  const std::string& origin, bool cross_origin = false) {
    return std::string("{\"type\":\"") + type + "\",\"challenge\":\"" +
           crypto::Base64UrlEncode(challenge_raw) + "\",\"origin\":\"" + origin +
           "\",\"crossOrigin\":" + (cross_origin ? "true" : "false") + "}";
}

inline std::string Be32(std::uint32_t n) {
    std::string s;
    for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>(n >> (8 * i)));
    return s;
}

inline std::string AuthData(const std::string& rp_id, std::uint8_t flags, std::uint32_t count,
                            const std::string& credential_id = {}, const std::string& cose = {}) {
    std::string ad = crypto::Sha256(rp_id);
    ad.push_back(static_cast<char>(flags));
    ad += Be32(count);
    if (flags & 0x40) {
        ad += std::string(16, '\x11');  // aaguid
        ad.push_back(static_cast<char>(credential_id.size() >> 8));
        ad.push_back(static_cast<char>(credential_id.size() & 0xff));
        ad += credential_id + cose;
    }
    return ad;
}

inline std::string AttestationObject(const std::string& auth_data, const std::string& fmt = "none",
                                     const std::string& stmt = Map({})) {
    return Map({{Text("fmt"), Text(fmt)}, {Text("attStmt"), stmt}, {Text("authData"), Bytes(auth_data)}});
}

}  // namespace hub::auth::webauthn::testing
