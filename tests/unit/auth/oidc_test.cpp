// auth/oidc: JWKS parsing and ID-token verification with keys made here (RSA 2048, P-256),
// tokens signed here, including the ones a real provider will not produce: another key,
// another audience, expired, a wrong nonce.
#include "auth/oidc.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "crypto/crypto.hpp"

namespace hub::auth::oidc {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kNow = 1'750'000'000;

struct TestKey {
    EVP_PKEY* pkey = nullptr;
    std::string alg;
    std::string kid;
    ~TestKey() { EVP_PKEY_free(pkey); }

    static std::unique_ptr<TestKey> Rsa(std::string kid, int bits = 2048) {
        auto k = std::make_unique<TestKey>();
        k->pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
        k->alg = "RS256";
        k->kid = std::move(kid);
        return k;
    }
    static std::unique_ptr<TestKey> P256(std::string kid) {
        auto k = std::make_unique<TestKey>();
        k->pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        k->alg = "ES256";
        k->kid = std::move(kid);
        return k;
    }

    std::string Bn(const char* name) const {
        BIGNUM* bn = nullptr;
        EVP_PKEY_get_bn_param(pkey, name, &bn);
        std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
        BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
        BN_free(bn);
        return out;
    }

    json Jwk() const {
        if (alg == "RS256") {
            return {{"kty", "RSA"}, {"kid", kid}, {"use", "sig"}, {"alg", "RS256"},
                    {"n", crypto::Base64UrlEncode(Bn(OSSL_PKEY_PARAM_RSA_N))},
                    {"e", crypto::Base64UrlEncode(Bn(OSSL_PKEY_PARAM_RSA_E))}};
        }
        unsigned char buf[65];
        std::size_t len = 0;
        EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof buf, &len);
        std::string point(reinterpret_cast<char*>(buf), len);  // 04 || x || y
        return {{"kty", "EC"}, {"kid", kid}, {"crv", "P-256"}, {"alg", "ES256"},
                {"x", crypto::Base64UrlEncode(point.substr(1, 32))},
                {"y", crypto::Base64UrlEncode(point.substr(33, 32))}};
    }

    std::string Sign(const std::string& input) const {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        std::size_t len = 0;
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey);
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size());
        std::string sig(len, '\0');
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size());
        EVP_MD_CTX_free(ctx);
        sig.resize(len);
        if (alg == "RS256") return sig;
        // DER -> r || s
        const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
        ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
        std::string raw(64, '\0');
        BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
        ECDSA_SIG_free(es);
        return raw;
    }

    std::string Token(const json& claims, std::string header_kid = "-") const {
        json header = {{"alg", alg}, {"typ", "JWT"}};
        std::string k = header_kid == "-" ? kid : header_kid;
        if (!k.empty()) header["kid"] = k;
        std::string input = crypto::Base64UrlEncode(header.dump()) + "." +
                            crypto::Base64UrlEncode(claims.dump());
        return input + "." + crypto::Base64UrlEncode(Sign(input));
    }
};

json GoodClaims() {
    return {{"iss", "https://id.example.test"},
            {"sub", "user-123"},
            {"aud", "hub-client"},
            {"nonce", "n-0S6_WzA2Mj"},
            {"iat", kNow - 5},
            {"exp", kNow + 300},
            {"email", "alice@example.test"},
            {"email_verified", true},
            {"name", "Alice"},
            {"preferred_username", "alice"}};
}

IdTokenExpectations Expect() {
    IdTokenExpectations e;
    e.issuer = "https://id.example.test";
    e.client_id = "hub-client";
    e.nonce = "n-0S6_WzA2Mj";
    e.now_s = kNow;
    return e;
}

class OidcTest : public ::testing::Test {
protected:
    void SetUp() override {
        rsa_ = TestKey::Rsa("rsa-1");
        ec_ = TestKey::P256("ec-1");
        json doc = {{"keys", {rsa_->Jwk(), ec_->Jwk()}}};
        auto parsed = Jwks::Parse(doc.dump());
        ASSERT_TRUE(parsed.ok());
        jwks_ = std::move(parsed.value());
    }
    std::string Reason(const std::string& token, IdTokenExpectations e = Expect()) {
        auto r = VerifyIdToken(token, jwks_, e);
        return r.ok() ? "ok" : r.error().api_code;
    }
    std::unique_ptr<TestKey> rsa_, ec_;
    Jwks jwks_;
};

TEST_F(OidcTest, AcceptsRs256AndEs256TokensAndReadsTheClaims) {
    auto r = VerifyIdToken(rsa_->Token(GoodClaims()), jwks_, Expect());
    ASSERT_TRUE(r.ok()) << r.error().detail;
    EXPECT_EQ(r->sub, "user-123");
    EXPECT_EQ(r->email, "alice@example.test");
    EXPECT_TRUE(r->email_verified);
    EXPECT_EQ(r->name, "Alice");
    EXPECT_EQ(r->preferred_username, "alice");
    EXPECT_EQ(Reason(ec_->Token(GoodClaims())), "ok");
    json c = GoodClaims();
    c["email_verified"] = false;
    auto unverified = VerifyIdToken(ec_->Token(c), jwks_, Expect());
    ASSERT_TRUE(unverified.ok());
    EXPECT_FALSE(unverified->email_verified);
}

TEST_F(OidcTest, RefusesATokenSignedByAnotherKey) {
    auto other = TestKey::Rsa("rsa-1");  // same kid, different key
    EXPECT_EQ(Reason(other->Token(GoodClaims())), kBadSignature);
    auto other_ec = TestKey::P256("ec-1");
    EXPECT_EQ(Reason(other_ec->Token(GoodClaims())), kBadSignature);
    // A changed payload under the original signature.
    std::string t = rsa_->Token(GoodClaims());
    json c = GoodClaims();
    c["sub"] = "admin";
    auto d1 = t.find('.');
    auto d2 = t.find('.', d1 + 1);
    std::string forged = t.substr(0, d1 + 1) + crypto::Base64UrlEncode(c.dump()) + t.substr(d2);
    EXPECT_EQ(Reason(forged), kBadSignature);
}

TEST_F(OidcTest, AnUnknownKidIsReportedSoTheCallerCanRefreshTheKeys) {
    auto fresh = TestKey::Rsa("rsa-2");
    EXPECT_EQ(Reason(fresh->Token(GoodClaims())), kUnknownKey);
    // An RS256 header naming the EC key's kid does not pick the EC key.
    EXPECT_EQ(Reason(rsa_->Token(GoodClaims(), "ec-1")), kUnknownKey);
}

TEST_F(OidcTest, RefusesAnotherAudienceOrAuthorizedParty) {
    json c = GoodClaims();
    c["aud"] = "someone-else";
    EXPECT_EQ(Reason(rsa_->Token(c)), kWrongAudience);
    c["aud"] = json::array({"someone-else", "hub-client"});
    EXPECT_EQ(Reason(rsa_->Token(c)), kWrongAudience);  // several audiences need azp
    c["azp"] = "someone-else";
    EXPECT_EQ(Reason(rsa_->Token(c)), kWrongAudience);
    c["azp"] = "hub-client";
    EXPECT_EQ(Reason(rsa_->Token(c)), "ok");
}

TEST_F(OidcTest, RefusesAnotherIssuer) {
    json c = GoodClaims();
    c["iss"] = "https://id.example.test/";  // exact match only
    EXPECT_EQ(Reason(rsa_->Token(c)), kWrongIssuer);
}

TEST_F(OidcTest, ChecksExpiryAndIssueTimeWithTheLeeway) {
    json c = GoodClaims();
    c["exp"] = kNow - 30;  // within the 60 s leeway
    EXPECT_EQ(Reason(rsa_->Token(c)), "ok");
    c["exp"] = kNow - 60;
    EXPECT_EQ(Reason(rsa_->Token(c)), kExpired);
    c = GoodClaims();
    c["iat"] = kNow + 120;
    EXPECT_EQ(Reason(rsa_->Token(c)), kNotYetValid);
    c = GoodClaims();
    c["nbf"] = kNow + 120;
    EXPECT_EQ(Reason(rsa_->Token(c)), kNotYetValid);
}

TEST_F(OidcTest, RefusesAWrongOrMissingNonce) {
    json c = GoodClaims();
    c["nonce"] = "another";
    EXPECT_EQ(Reason(rsa_->Token(c)), kWrongNonce);
    c.erase("nonce");
    EXPECT_EQ(Reason(rsa_->Token(c)), kWrongNonce);
    auto e = Expect();
    e.nonce = "";  // an empty expectation never matches an empty claim
    EXPECT_EQ(Reason(rsa_->Token(c), e), kWrongNonce);
}

TEST_F(OidcTest, RefusesOtherAlgorithmsAndMalformedTokens) {
    auto b64 = [](const json& j) { return crypto::Base64UrlEncode(j.dump()); };
    EXPECT_EQ(Reason(b64({{"alg", "none"}}) + "." + b64(GoodClaims()) + "."), kUnsupportedAlg);
    EXPECT_EQ(Reason(b64({{"alg", "HS256"}, {"kid", "rsa-1"}}) + "." + b64(GoodClaims()) + ".AAAA"),
              kUnsupportedAlg);
    EXPECT_EQ(Reason("garbage"), kMalformed);
    EXPECT_EQ(Reason(""), kMalformed);
    EXPECT_EQ(Reason(b64({{"alg", "RS256"}, {"kid", "rsa-1"}}) + "." + b64(GoodClaims())),
              kMalformed);
    json c = GoodClaims();
    c.erase("sub");
    EXPECT_EQ(Reason(rsa_->Token(c)), kMalformed);
    EXPECT_EQ(Reason(std::string(kMaxIdTokenLength + 1, 'a')), kMalformed);
}

TEST(Jwks, SkipsKeysItCannotUseAndRefusesNonKeySets) {
    auto rsa = TestKey::Rsa("ok");
    auto small = TestKey::Rsa("small", 1024);
    json enc = rsa->Jwk();
    enc["use"] = "enc";
    enc["kid"] = "enc";
    json doc = {{"keys",
                 {rsa->Jwk(), small->Jwk(), enc,
                  {{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}},
                  {{"kty", "EC"}, {"crv", "P-384"}, {"x", "AA"}, {"y", "AA"}, {"kid", "p384"}},
                  {{"kty", "RSA"}, {"n", "!!"}, {"e", "AQAB"}, {"kid", "broken"}}}}};
    auto set = Jwks::Parse(doc.dump());
    ASSERT_TRUE(set.ok());
    ASSERT_EQ(set->size(), 1u);
    EXPECT_EQ(set->keys()[0].kid, "ok");
    EXPECT_NE(set->Find("ok", "RS256"), nullptr);
    EXPECT_NE(set->Find("", "RS256"), nullptr);  // no kid: the only key of that alg
    EXPECT_EQ(set->Find("", "ES256"), nullptr);
    EXPECT_FALSE(Jwks::Parse("[]").ok());
    EXPECT_FALSE(Jwks::Parse("{\"keys\":{}}").ok());
    EXPECT_FALSE(Jwks::Parse("not json").ok());
}

TEST(Pkce, MatchesRfc7636AppendixB) {
    EXPECT_EQ(PkceChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
              "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

}  // namespace
}  // namespace hub::auth::oidc
