// WebAuthn verification (auth/webauthn.hpp) with keys made by OpenSSL and ceremonies built by
// hand: registration and assertion for ES256, RS256 and EdDSA, and every refusal.
#include "auth/webauthn.hpp"

#include <gtest/gtest.h>

#include "unit/auth/webauthn_util.hpp"

namespace hub::auth::webauthn {
namespace {

using namespace testing;  // NOLINT

constexpr const char* kRp = "hub.example.com";
constexpr const char* kOrigin = "https://hub.example.com";
const std::string kChallenge(32, '\x5a');
const std::string kCredId = "cred-id-0123456789";

RelyingParty Rp() { return {kRp, {kOrigin, "https://other.example.com"}}; }
Expectation Want(bool uv = true) { return {kChallenge, uv}; }

void ExpectRefused(const core::Error& e, const char* code) {
    EXPECT_EQ(e.api_code, code) << e.public_message << " / " << e.detail;
    EXPECT_FALSE(e.public_message.empty());
}

class WebAuthnAlg : public ::testing::TestWithParam<int> {
protected:
    void SetUp() override { key_ = std::make_unique<TestKey>(TestKey::Make(GetParam())); }

    std::string Attestation(std::uint8_t flags = 0x45, std::uint32_t count = 0) {
        return AttestationObject(AuthData(kRp, flags, count, kCredId, key_->Cose()));
    }
    struct Assertion {
        std::string client_data, auth_data, signature;
    };
    Assertion Assert(std::uint32_t count, std::uint8_t flags = 0x05, const std::string& rp = kRp,
                     const std::string& origin = kOrigin, const std::string& type = "webauthn.get",
                     const std::string& challenge = kChallenge) {
        Assertion a;
        a.client_data = ClientDataJson(type, challenge, origin);
        a.auth_data = AuthData(rp, flags, count);
        a.signature = key_->Sign(a.auth_data + crypto::Sha256(a.client_data));
        return a;
    }
    core::Result<AssertionResult> Verify(const Assertion& a, std::uint32_t stored = 0, bool uv = true) {
        return VerifyAssertion(Rp(), Want(uv), {key_->Cose(), stored}, a.client_data, a.auth_data,
                               a.signature);
    }

    std::unique_ptr<TestKey> key_;
};

TEST_P(WebAuthnAlg, RegistersAndSignsIn) {
    auto cd = ClientDataJson("webauthn.create", kChallenge, kOrigin);
    auto reg = VerifyRegistration(Rp(), Want(), cd, Attestation(0x45, 0));
    ASSERT_TRUE(reg.ok()) << reg.error().api_code << " " << reg.error().detail;
    EXPECT_EQ(reg->credential_id, kCredId);
    EXPECT_EQ(reg->alg, GetParam());
    EXPECT_EQ(reg->public_key, key_->Cose());
    EXPECT_EQ(reg->fmt, "none");
    EXPECT_TRUE(reg->user_verified);

    auto ok = Verify(Assert(1));
    ASSERT_TRUE(ok.ok()) << ok.error().api_code << " " << ok.error().detail;
    EXPECT_EQ(ok->sign_count, 1u);
    EXPECT_TRUE(ok->user_verified);
    // The second allowed origin works too; a counter that stays 0 on both sides is fine.
    EXPECT_TRUE(Verify(Assert(0, 0x05, kRp, "https://other.example.com")).ok());
    EXPECT_TRUE(Verify(Assert(8), 7).ok());
}

TEST_P(WebAuthnAlg, RefusesBadSignatures) {
    auto a = Assert(3);
    a.signature[a.signature.size() / 2] ^= 0x01;
    ExpectRefused(Verify(a).error(), kBadSignature);
    auto b = Assert(3);
    b.auth_data[36] = 4;  // the counter changed after signing
    ExpectRefused(Verify(b).error(), kBadSignature);
    auto c = Assert(3);
    c.client_data.back() = ' ';  // the signed hash covers clientDataJSON
    c.client_data += "}";
    ExpectRefused(Verify(c).error(), kBadSignature);
    auto d = Assert(3);
    d.signature.clear();
    ExpectRefused(Verify(d).error(), kBadSignature);
    // Signed by another key of the same kind.
    auto other = TestKey::Make(GetParam());
    auto e = Assert(3);
    e.signature = other.Sign(e.auth_data + crypto::Sha256(e.client_data));
    ExpectRefused(Verify(e).error(), kBadSignature);
}

TEST_P(WebAuthnAlg, RefusesALowerOrEqualSignCount) {
    ExpectRefused(Verify(Assert(5), 5).error(), kSignCountRegressed);
    ExpectRefused(Verify(Assert(4), 5).error(), kSignCountRegressed);
    ExpectRefused(Verify(Assert(0), 5).error(), kSignCountRegressed);
    EXPECT_TRUE(Verify(Assert(6), 5).ok());
}

TEST_P(WebAuthnAlg, RefusesAnotherOriginRpTypeOrChallenge) {
    ExpectRefused(Verify(Assert(1, 0x05, kRp, "https://evil.example.net")).error(), kWrongOrigin);
    ExpectRefused(Verify(Assert(1, 0x05, "evil.example.net")).error(), kWrongRpId);
    ExpectRefused(Verify(Assert(1, 0x05, kRp, kOrigin, "webauthn.create")).error(), kWrongType);
    ExpectRefused(Verify(Assert(1, 0x05, kRp, kOrigin, "webauthn.get", std::string(32, 'x'))).error(),
                  kWrongChallenge);
}

TEST_P(WebAuthnAlg, UserPresenceAlwaysAndVerificationWhenAsked) {
    ExpectRefused(Verify(Assert(1, 0x04)).error(), kNoUserPresence);
    ExpectRefused(Verify(Assert(1, 0x01)).error(), kNoUserVerification);
    EXPECT_TRUE(Verify(Assert(1, 0x01), 0, false).ok());
    auto r = Verify(Assert(1, 0x01), 0, false);
    EXPECT_FALSE(r->user_verified);
}

INSTANTIATE_TEST_SUITE_P(Algs, WebAuthnAlg, ::testing::Values(-7, -257, -8),
                         [](const auto& info) {
                             return info.param == -7 ? std::string("ES256")
                                    : info.param == -257 ? std::string("RS256")
                                                         : std::string("EdDSA");
                         });

class WebAuthnRegistration : public ::testing::Test {
protected:
    core::Result<NewCredential> Register(const std::string& att, const std::string& cd = "",
                                         bool uv = true) {
        return VerifyRegistration(Rp(), Want(uv),
                                  cd.empty() ? ClientDataJson("webauthn.create", kChallenge, kOrigin) : cd,
                                  att);
    }
    TestKey key_ = TestKey::Make(-7);
};

TEST_F(WebAuthnRegistration, ChecksClientData) {
    auto att = AttestationObject(AuthData(kRp, 0x45, 0, kCredId, key_.Cose()));
    ExpectRefused(Register(att, ClientDataJson("webauthn.get", kChallenge, kOrigin)).error(), kWrongType);
    ExpectRefused(Register(att, ClientDataJson("webauthn.create", "other", kOrigin)).error(),
                  kWrongChallenge);
    ExpectRefused(Register(att, ClientDataJson("webauthn.create", kChallenge, "http://hub.example.com")).error(),
                  kWrongOrigin);
    ExpectRefused(Register(att, ClientDataJson("webauthn.create", kChallenge, kOrigin, true)).error(),
                  kCrossOrigin);
    ExpectRefused(Register(att, "not json").error(), kBadClientData);
    ExpectRefused(Register(att, "[1]").error(), kBadClientData);
    ExpectRefused(Register(att, R"({"type":"webauthn.create","origin":"x"})").error(), kBadClientData);
    ExpectRefused(Register(att, R"({"type":"webauthn.create","challenge":"!!!","origin":"x"})").error(),
                  kBadClientData);
}

TEST_F(WebAuthnRegistration, ChecksAuthenticatorData) {
    ExpectRefused(Register(AttestationObject(AuthData("evil.test", 0x45, 0, kCredId, key_.Cose()))).error(),
                  kWrongRpId);
    ExpectRefused(Register(AttestationObject(AuthData(kRp, 0x44, 0, kCredId, key_.Cose()))).error(),
                  kNoUserPresence);
    ExpectRefused(Register(AttestationObject(AuthData(kRp, 0x41, 0, kCredId, key_.Cose()))).error(),
                  kNoUserVerification);
    EXPECT_TRUE(Register(AttestationObject(AuthData(kRp, 0x41, 0, kCredId, key_.Cose())), "", false).ok());
    // No attested credential data.
    ExpectRefused(Register(AttestationObject(AuthData(kRp, 0x05, 0))).error(), kBadAuthData);
    // Trailing garbage after the COSE key without the ED flag.
    ExpectRefused(Register(AttestationObject(AuthData(kRp, 0x45, 0, kCredId, key_.Cose()) + "x")).error(),
                  kBadAuthData);
    // With ED, the rest must be one CBOR map.
    EXPECT_TRUE(Register(AttestationObject(AuthData(kRp, 0xc5, 0, kCredId, key_.Cose()) +
                                           Map({{Text("credProtect"), Int(2)}})))
                    .ok());
    EXPECT_EQ(Register(AttestationObject(AuthData(kRp, 0xc5, 0, kCredId, key_.Cose()) + "\xff"))
                  .error()
                  .api_code,
              "invalid_cbor");
    // BS without BE.
    ExpectRefused(Register(AttestationObject(AuthData(kRp, 0x55, 0, kCredId, key_.Cose()))).error(),
                  kBadAuthData);
    // Cut short.
    ExpectRefused(Register(AttestationObject(AuthData(kRp, 0x45, 0, kCredId, key_.Cose()).substr(0, 40)))
                      .error(),
                  kBadAuthData);
    // A credential id length past the data.
    auto ad = AuthData(kRp, 0x45, 0, kCredId, key_.Cose());
    ad[37 + 16] = '\x7f';
    ExpectRefused(Register(AttestationObject(ad)).error(), kBadAuthData);
}

TEST_F(WebAuthnRegistration, AttestationFormats) {
    auto ad = AuthData(kRp, 0x45, 0, kCredId, key_.Cose());
    ExpectRefused(Register(AttestationObject(ad, "none", Map({{Text("sig"), Bytes("x")}}))).error(),
                  kBadAttestation);
    // Another format: accepted, its statement ignored (treated as "none").
    auto packed = Register(AttestationObject(ad, "packed", Map({{Text("alg"), Int(-7)}})));
    ASSERT_TRUE(packed.ok());
    EXPECT_EQ(packed->fmt, "packed");
    ExpectRefused(Register(Map({{Text("fmt"), Text("none")}, {Text("authData"), Bytes(ad)}})).error(),
                  kBadAttestation);
    ExpectRefused(Register(Int(3)).error(), kBadAttestation);
    EXPECT_EQ(Register("\xa3\x63").error().api_code, "invalid_cbor");
    EXPECT_EQ(Register(AttestationObject(ad) + std::string(1, '\0')).error().api_code, "invalid_cbor");
}

TEST_F(WebAuthnRegistration, ChecksTheKey) {
    // ES384 (-35) is not offered.
    auto es384 = Map({{Int(1), Int(2)}, {Int(3), Int(-35)}, {Int(-1), Int(2)}});
    ExpectRefused(Register(AttestationObject(AuthData(kRp, 0x45, 0, kCredId, es384))).error(),
                  kUnsupportedAlg);
    // A P-256 point that is not on the curve.
    auto off_curve = Map({{Int(1), Int(2)}, {Int(3), Int(-7)}, {Int(-1), Int(1)},
                          {Int(-2), Bytes(std::string(32, '\x01'))}, {Int(-3), Bytes(std::string(32, '\x02'))}});
    ExpectRefused(Register(AttestationObject(AuthData(kRp, 0x45, 0, kCredId, off_curve))).error(), kBadKey);
    // Wrong curve, wrong kty for the alg, short coordinates.
    auto wrong_crv = Map({{Int(1), Int(2)}, {Int(3), Int(-7)}, {Int(-1), Int(2)},
                          {Int(-2), Bytes(std::string(32, '\x01'))}, {Int(-3), Bytes(std::string(32, '\x02'))}});
    ExpectRefused(Register(AttestationObject(AuthData(kRp, 0x45, 0, kCredId, wrong_crv))).error(), kBadKey);
    auto ed_as_ec = Map({{Int(1), Int(2)}, {Int(3), Int(-8)}, {Int(-1), Int(6)},
                         {Int(-2), Bytes(std::string(32, '\x01'))}});
    ExpectRefused(Register(AttestationObject(AuthData(kRp, 0x45, 0, kCredId, ed_as_ec))).error(), kBadKey);
    // RSA below 2048 bits.
    auto small = TestKey::Rsa(1024);
    ExpectRefused(Register(AttestationObject(AuthData(kRp, 0x45, 0, kCredId, small.Cose()))).error(), kBadKey);
    // Not a map.
    ExpectRefused(Register(AttestationObject(AuthData(kRp, 0x45, 0, kCredId, Int(1)))).error(), kBadKey);
    EXPECT_FALSE(CheckCoseKey("\x01").ok());
    EXPECT_EQ(CheckCoseKey(key_.Cose()).value(), -7);
}

TEST(WebAuthn, AssertionWithAttestedDataIsRefused) {
    auto key = TestKey::Make(-8);
    auto cd = ClientDataJson("webauthn.get", kChallenge, kOrigin);
    auto ad = AuthData(kRp, 0x45, 1, kCredId, key.Cose());
    auto sig = key.Sign(ad + crypto::Sha256(cd));
    auto r = VerifyAssertion(Rp(), Want(), {key.Cose(), 0}, cd, ad, sig);
    ExpectRefused(r.error(), kBadAuthData);
}

}  // namespace
}  // namespace hub::auth::webauthn
