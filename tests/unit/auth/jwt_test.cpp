#include "auth/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <atomic>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "core/id.hpp"
#include "crypto/crypto.hpp"

namespace hub::auth {
namespace {

using json = nlohmann::json;
using std::chrono::seconds;

constexpr std::int64_t kT0 = 1'750'000'000;  // epoch seconds
TimePoint At(std::int64_t s) { return TimePoint(seconds(s)); }

// RS256 over `input` with a PEM private key, for hand-made tokens.
std::string RsaSign(const std::string& private_pem, const std::string& input) {
    BIO* bio = BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    sig.resize(len);
    return sig;
}

std::string B64(const std::string& s) { return crypto::Base64UrlEncode(s); }

struct Parts {
    json header;
    json payload;
    std::string signature_b64;
};

Parts Split(const std::string& token) {
    auto d1 = token.find('.');
    auto d2 = token.find('.', d1 + 1);
    Parts p;
    p.header = json::parse(*crypto::Base64UrlDecode(token.substr(0, d1)));
    p.payload = json::parse(*crypto::Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1)));
    p.signature_b64 = token.substr(d2 + 1);
    return p;
}

std::string Join(const json& header, const json& payload, const std::string& sig_b64) {
    return B64(header.dump()) + "." + B64(payload.dump()) + "." + sig_b64;
}

// Two RSA-2048 keys for the whole suite (key generation is the slow part).
class JwtTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto a = NewSigningKey(At(kT0 - 1000));
        auto b = NewSigningKey(At(kT0 - 500));
        ASSERT_TRUE(a.ok() && b.ok());
        key_a_ = std::make_unique<SigningKey>(std::move(a).value());
        key_b_ = std::make_unique<SigningKey>(std::move(b).value());
    }
    static void TearDownTestSuite() {
        key_a_.reset();
        key_b_.reset();
    }

    void SetUp() override {
        ASSERT_TRUE(ring_.Add(*key_a_).ok());
        auto codec = JwtCodec::Create(ring_, Options());
        ASSERT_TRUE(codec.ok());
        codec_.emplace(std::move(codec).value());
    }

    static JwtOptions Options(std::string iss = "https://hub.test", std::string aud = "hub") {
        JwtOptions o;
        o.issuer = std::move(iss);
        o.audience = std::move(aud);
        return o;
    }

    static TokenRequest Request() { return TokenRequest{"user-1", "user", "session-1", {}}; }

    std::string SignAt(std::int64_t t) {
        auto s = codec_->Sign(Request(), At(t));
        EXPECT_TRUE(s.ok());
        return s.ok() ? s->token : std::string();
    }

    // The reason Verify gives, or nullopt when it accepts.
    std::optional<JwtError> Reject(const std::string& token, std::int64_t t = kT0) {
        JwtError why{};
        auto r = codec_->Verify(token, At(t), &why);
        if (r.ok()) return std::nullopt;
        EXPECT_EQ(r.error().code, core::ErrorCode::kUnauthenticated);
        return why;
    }

    // A token with these claims, properly RS256-signed with key A.
    std::string Forge(json header, json payload, const SigningKey& key) {
        std::string input = B64(header.dump()) + "." + B64(payload.dump());
        return input + "." + B64(RsaSign(key.private_pem.Reveal(), input));
    }
    json GoodHeader() const { return {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", key_a_->kid}}; }
    json GoodPayload() const {
        return {{"iss", "https://hub.test"},
                {"aud", "hub"},
                {"sub", "user-1"},
                {"role", "user"},
                {"sid", "s-1"},
                {"jti", "j-1"},
                {"iat", kT0},
                {"nbf", kT0},
                {"exp", kT0 + 900}};
    }

    static std::unique_ptr<SigningKey> key_a_;
    static std::unique_ptr<SigningKey> key_b_;
    KeyRing ring_;
    std::optional<JwtCodec> codec_;
};
std::unique_ptr<SigningKey> JwtTest::key_a_;
std::unique_ptr<SigningKey> JwtTest::key_b_;

TEST_F(JwtTest, SignVerifyRoundTrip) {
    auto signed_token = codec_->Sign(Request(), At(kT0));
    ASSERT_TRUE(signed_token.ok());
    EXPECT_EQ(signed_token->kid, key_a_->kid);
    Parts p = Split(signed_token->token);
    EXPECT_EQ(p.header, (json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", key_a_->kid}}));
    EXPECT_EQ(p.payload["exp"].get<std::int64_t>() - p.payload["iat"].get<std::int64_t>(), 900);

    auto claims = codec_->Verify(signed_token->token, At(kT0 + 10));
    ASSERT_TRUE(claims.ok()) << claims.error().detail;
    EXPECT_EQ(claims->iss, "https://hub.test");
    EXPECT_EQ(claims->aud, "hub");
    EXPECT_EQ(claims->sub, "user-1");
    EXPECT_EQ(claims->role, "user");
    EXPECT_EQ(claims->sid, "session-1");
    EXPECT_EQ(claims->jti, signed_token->claims.jti);
    EXPECT_TRUE(core::IsValidId(claims->jti));
    EXPECT_EQ(claims->iat, kT0);
    EXPECT_EQ(claims->nbf, kT0);
    EXPECT_EQ(claims->exp, kT0 + 900);

    // Every token gets its own jti.
    EXPECT_NE(codec_->Sign(Request(), At(kT0))->claims.jti, signed_token->claims.jti);
}

TEST_F(JwtTest, HandForgedTokenWithGoodClaimsVerifies) {
    // Guards the attack tests below: the forging helper itself produces acceptable tokens.
    EXPECT_EQ(Reject(Forge(GoodHeader(), GoodPayload(), *key_a_)), std::nullopt);
    json aud_list = GoodPayload();
    aud_list["aud"] = json::array({"other", "hub"});
    EXPECT_EQ(Reject(Forge(GoodHeader(), aud_list, *key_a_)), std::nullopt);
}

TEST_F(JwtTest, AlgNoneIsRejected) {
    for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
        json h = GoodHeader();
        h["alg"] = alg;
        EXPECT_EQ(Reject(Join(h, GoodPayload(), "")), JwtError::kAlgNotAllowed) << alg;
        std::string real_sig = Split(SignAt(kT0)).signature_b64;
        EXPECT_EQ(Reject(Join(h, GoodPayload(), real_sig)), JwtError::kAlgNotAllowed) << alg;
    }
    json no_alg = GoodHeader();
    no_alg.erase("alg");
    EXPECT_EQ(Reject(Forge(no_alg, GoodPayload(), *key_a_)), JwtError::kMalformed);
}

TEST_F(JwtTest, Hs256WithThePublicKeyAsSecretIsRejected) {
    json h = GoodHeader();
    h["alg"] = "HS256";
    std::string input = B64(h.dump()) + "." + B64(GoodPayload().dump());
    std::string token = input + "." + B64(crypto::HmacSha256(key_a_->public_pem, input));
    EXPECT_EQ(Reject(token), JwtError::kAlgNotAllowed);
    for (const char* alg : {"RS384", "RS512", "PS256", "ES256", "rs256", "EdDSA"}) {
        h["alg"] = alg;
        EXPECT_EQ(Reject(Forge(h, GoodPayload(), *key_a_)), JwtError::kAlgNotAllowed) << alg;
    }
}

TEST_F(JwtTest, UnknownOrMissingKidIsRejected) {
    json h = GoodHeader();
    h["kid"] = "no-such-key";
    EXPECT_EQ(Reject(Forge(h, GoodPayload(), *key_a_)), JwtError::kUnknownKid);
    h.erase("kid");
    EXPECT_EQ(Reject(Forge(h, GoodPayload(), *key_a_)), JwtError::kUnknownKid);
    h["kid"] = 42;
    EXPECT_EQ(Reject(Forge(h, GoodPayload(), *key_a_)), JwtError::kUnknownKid);
    // Key B is not in the ring: its own kid is unknown.
    h["kid"] = key_b_->kid;
    EXPECT_EQ(Reject(Forge(h, GoodPayload(), *key_b_)), JwtError::kUnknownKid);
}

TEST_F(JwtTest, SignedByAnotherKeyUnderAKnownKid) {
    EXPECT_EQ(Reject(Forge(GoodHeader(), GoodPayload(), *key_b_)), JwtError::kBadSignature);
}

TEST_F(JwtTest, ExpiryWithLeeway) {
    std::string token = SignAt(kT0);
    EXPECT_EQ(Reject(token, kT0 + 900 + 29), std::nullopt);
    EXPECT_EQ(Reject(token, kT0 + 900 + 30), JwtError::kExpired);
    EXPECT_EQ(Reject(token, kT0 + 86400), JwtError::kExpired);

    auto r = codec_->Verify(token, At(kT0 + 2000));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "token_expired");

    json no_exp = GoodPayload();
    no_exp.erase("exp");
    EXPECT_EQ(Reject(Forge(GoodHeader(), no_exp, *key_a_)), JwtError::kMalformed);
    json str_exp = GoodPayload();
    str_exp["exp"] = "tomorrow";
    EXPECT_EQ(Reject(Forge(GoodHeader(), str_exp, *key_a_)), JwtError::kMalformed);
}

// Reported by fuzz/jwt: exp + leeway overflowed for an exp near the int64 limit (undefined
// behaviour); the comparison now subtracts from the current time instead.
TEST_F(JwtTest, ExtremeTimesDoNotOverflow) {
    json late = GoodPayload();
    late["exp"] = std::numeric_limits<std::int64_t>::max();
    EXPECT_EQ(Reject(Forge(GoodHeader(), late, *key_a_)), std::nullopt);
    json early = GoodPayload();
    early["exp"] = std::numeric_limits<std::int64_t>::min();
    EXPECT_EQ(Reject(Forge(GoodHeader(), early, *key_a_)), JwtError::kExpired);
    json nbf = GoodPayload();
    nbf["nbf"] = std::numeric_limits<std::int64_t>::max();
    EXPECT_EQ(Reject(Forge(GoodHeader(), nbf, *key_a_)), JwtError::kNotYetValid);

    // A key file's retired_at is any int64 as well.
    ASSERT_TRUE(ring_.Rotate(*key_b_, At(kT0 + 5)).ok());
    json doc = json::parse(ring_.Serialize().Reveal());
    doc["keys"][0]["retired_at"] = std::numeric_limits<std::int64_t>::max();
    auto loaded = KeyRing::Deserialize(doc.dump());
    ASSERT_TRUE(loaded.ok()) << loaded.error().detail;
    EXPECT_TRUE(loaded->IsPublished(loaded->Keys()[0], At(kT0)));
    doc["keys"][0]["retired_at"] = std::numeric_limits<std::int64_t>::min();
    loaded = KeyRing::Deserialize(doc.dump());
    ASSERT_TRUE(loaded.ok()) << loaded.error().detail;
    EXPECT_FALSE(loaded->IsPublished(loaded->Keys()[0], At(kT0)));
}

TEST_F(JwtTest, AVerifiedTokenIsRememberedButNothingElseIs) {
    std::string token = SignAt(kT0);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(Reject(token, kT0 + i), std::nullopt);
    // The same header and payload with any other signature is checked, and fails.
    std::string other = token;
    other.back() = other.back() == 'A' ? 'B' : 'A';
    EXPECT_NE(Reject(other), std::nullopt);
    Parts p = Split(token);
    EXPECT_EQ(Reject(Forge(p.header, p.payload, *key_b_)), JwtError::kBadSignature);
    // Remembered tokens still expire.
    EXPECT_EQ(Reject(token, kT0 + 2000), JwtError::kExpired);
    // And the cache stays bounded while every fresh token still verifies.
    for (std::size_t i = 0; i < JwtCodec::kVerifiedCacheSize + 10; ++i) {
        ASSERT_EQ(Reject(SignAt(kT0)), std::nullopt);
    }
    EXPECT_EQ(Reject(token, kT0 + 1), std::nullopt);
}

TEST_F(JwtTest, NotBeforeInTheFuture) {
    std::string token = SignAt(kT0);
    EXPECT_EQ(Reject(token, kT0 - 30), std::nullopt);  // within the leeway
    EXPECT_EQ(Reject(token, kT0 - 31), JwtError::kNotYetValid);
    json future = GoodPayload();
    future["nbf"] = kT0 + 600;
    EXPECT_EQ(Reject(Forge(GoodHeader(), future, *key_a_)), JwtError::kNotYetValid);

    auto r = codec_->Verify(Forge(GoodHeader(), future, *key_a_), At(kT0));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "invalid_token");
    EXPECT_NE(r.error().detail.find("not_yet_valid"), std::string::npos);
}

TEST_F(JwtTest, WrongIssuerOrAudience) {
    std::string token = SignAt(kT0);
    auto other_iss = JwtCodec::Create(ring_, Options("https://evil.test", "hub"));
    auto other_aud = JwtCodec::Create(ring_, Options("https://hub.test", "other-service"));
    ASSERT_TRUE(other_iss.ok() && other_aud.ok());
    JwtError why{};
    EXPECT_FALSE(other_iss->Verify(token, At(kT0), &why).ok());
    EXPECT_EQ(why, JwtError::kWrongIssuer);
    EXPECT_FALSE(other_aud->Verify(token, At(kT0), &why).ok());
    EXPECT_EQ(why, JwtError::kWrongAudience);

    json no_iss = GoodPayload();
    no_iss.erase("iss");
    EXPECT_EQ(Reject(Forge(GoodHeader(), no_iss, *key_a_)), JwtError::kWrongIssuer);
    json aud_list = GoodPayload();
    aud_list["aud"] = json::array({"a", "b"});
    EXPECT_EQ(Reject(Forge(GoodHeader(), aud_list, *key_a_)), JwtError::kWrongAudience);
}

TEST_F(JwtTest, PayloadChangedAfterSigning) {
    Parts p = Split(SignAt(kT0));
    p.payload["role"] = "admin";
    EXPECT_EQ(Reject(Join(p.header, p.payload, p.signature_b64)), JwtError::kBadSignature);
    Parts q = Split(SignAt(kT0));
    q.payload["exp"] = kT0 + 999999;
    EXPECT_EQ(Reject(Join(q.header, q.payload, q.signature_b64)), JwtError::kBadSignature);
    // A flipped signature bit.
    std::string token = SignAt(kT0);
    token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(Reject(token), JwtError::kBadSignature);
}

TEST_F(JwtTest, SignatureStrippedOrTruncated) {
    std::string token = SignAt(kT0);
    std::string without = token.substr(0, token.rfind('.'));
    EXPECT_EQ(Reject(without + "."), JwtError::kMalformed);
    EXPECT_EQ(Reject(without), JwtError::kMalformed);
    EXPECT_EQ(Reject(without + ".AAAA"), JwtError::kBadSignature);
    EXPECT_EQ(Reject(token + ".extra"), JwtError::kMalformed);
}

TEST_F(JwtTest, GarbageIsMalformed) {
    std::string token = SignAt(kT0);
    auto d1 = token.find('.');
    for (std::string bad :
         {std::string(""), std::string("abc"), std::string("..."), std::string(".."),
          std::string("!!!.???.***"), std::string("e30.e30.e30"),  // {} header: no alg
          B64("not json") + token.substr(d1), B64("[1,2]") + token.substr(d1),
          token.substr(0, d1) + "=" + token.substr(d1),  // padding
          "@@" + token, token + "$", std::string(kMaxJwtLength + 1, 'a')}) {
        EXPECT_EQ(Reject(bad), JwtError::kMalformed) << bad.substr(0, 60);
    }
}

TEST_F(JwtTest, SignedButIncompleteClaimsAreMalformed) {
    for (const char* claim : {"sub", "sid", "role", "jti"}) {
        json p = GoodPayload();
        p.erase(claim);
        EXPECT_EQ(Reject(Forge(GoodHeader(), p, *key_a_)), JwtError::kMalformed) << claim;
    }
    json crit = GoodHeader();
    crit["crit"] = json::array({"exp"});
    EXPECT_EQ(Reject(Forge(crit, GoodPayload(), *key_a_)), JwtError::kMalformed);
    json typ = GoodHeader();
    typ["typ"] = "at+jwt+x";
    EXPECT_EQ(Reject(Forge(typ, GoodPayload(), *key_a_)), JwtError::kMalformed);
}

TEST_F(JwtTest, CodecOptionsAreChecked) {
    EXPECT_FALSE(JwtCodec::Create(ring_, Options("", "hub")).ok());
    EXPECT_FALSE(JwtCodec::Create(ring_, Options("iss", "")).ok());
    JwtOptions long_ttl = Options();
    long_ttl.ttl = seconds(3600);  // more than the ring's max_token_ttl
    EXPECT_FALSE(JwtCodec::Create(ring_, long_ttl).ok());

    TokenRequest too_long = Request();
    too_long.ttl = seconds(901);
    EXPECT_FALSE(codec_->Sign(too_long, At(kT0)).ok());
    TokenRequest shorter = Request();
    shorter.ttl = seconds(60);
    auto s = codec_->Sign(shorter, At(kT0));
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->claims.exp, kT0 + 60);
}

TEST_F(JwtTest, EmptyRingCannotSign) {
    KeyRing empty;
    auto codec = JwtCodec::Create(empty, Options());
    ASSERT_TRUE(codec.ok());
    EXPECT_FALSE(codec->Sign(Request(), At(kT0)).ok());
    JwtError why{};
    EXPECT_FALSE(codec->Verify(SignAt(kT0), At(kT0), &why).ok());
    EXPECT_EQ(why, JwtError::kUnknownKid);
}

// ---- Key ring: JWKS, rotation, pruning, persistence ----------------------------------------

TEST_F(JwtTest, JwksPublishesTheRsaPublicKey) {
    json jwks = json::parse(ring_.JwksJson(At(kT0)));
    ASSERT_EQ(jwks["keys"].size(), 1u);
    const json& k = jwks["keys"][0];
    EXPECT_EQ(k["kty"], "RSA");
    EXPECT_EQ(k["use"], "sig");
    EXPECT_EQ(k["alg"], "RS256");
    EXPECT_EQ(k["kid"], key_a_->kid);
    EXPECT_EQ(k["e"], "AQAB");  // 65537
    auto n = crypto::Base64UrlDecode(k["n"].get<std::string>());
    ASSERT_TRUE(n);
    EXPECT_EQ(n->size(), 256u);  // 2048 bits, no leading zero byte
    EXPECT_EQ(B64(*n), k["n"].get<std::string>());
    EXPECT_EQ(k.size(), 6u);  // nothing private
    EXPECT_EQ(RsaThumbprint(key_a_->public_pem).value(), key_a_->kid);
    EXPECT_EQ(key_a_->kid.size(), 43u);
}

TEST_F(JwtTest, RotationKeepsOldKeyPublishedUntilItsTokensExpire) {
    std::string old_token = SignAt(kT0);
    const std::int64_t t1 = kT0 + 100;
    auto kid_b = ring_.Rotate(*key_b_, At(t1));
    ASSERT_TRUE(kid_b.ok());
    EXPECT_EQ(ring_.ActiveKid(), key_b_->kid);

    auto keys = ring_.Keys();
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0].kid, key_a_->kid);
    EXPECT_EQ(keys[0].retired_at, t1);
    EXPECT_FALSE(keys[0].active);
    EXPECT_TRUE(keys[1].active);
    EXPECT_FALSE(keys[1].retired_at);

    // New tokens use B; the old token still verifies.
    std::string new_token = SignAt(t1);
    EXPECT_EQ(Split(new_token).header["kid"], key_b_->kid);
    EXPECT_EQ(Reject(old_token, t1 + 1), std::nullopt);
    EXPECT_EQ(Reject(new_token, t1 + 1), std::nullopt);

    // A is published until retired_at + max ttl (900) + leeway (30).
    EXPECT_EQ(json::parse(ring_.JwksJson(At(t1 + 929)))["keys"].size(), 2u);
    EXPECT_TRUE(ring_.Prune(At(t1 + 929)).empty());
    auto jwks_after = json::parse(ring_.JwksJson(At(t1 + 930)));
    ASSERT_EQ(jwks_after["keys"].size(), 1u);
    EXPECT_EQ(jwks_after["keys"][0]["kid"], key_b_->kid);

    auto pruned = ring_.Prune(At(t1 + 930));
    ASSERT_EQ(pruned.size(), 1u);
    EXPECT_EQ(pruned[0], key_a_->kid);
    EXPECT_EQ(ring_.size(), 1u);
    EXPECT_EQ(Reject(old_token, t1 + 10), JwtError::kUnknownKid);
    EXPECT_EQ(Reject(new_token, t1 + 10), std::nullopt);

    // The active key is never pruned, however old.
    EXPECT_TRUE(ring_.Prune(At(t1 + 10'000'000)).empty());
    EXPECT_EQ(ring_.ActiveKid(), key_b_->kid);
}

TEST_F(JwtTest, DuplicateAndBadKeysAreRejected) {
    auto dup = ring_.Add(*key_a_);
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().code, core::ErrorCode::kConflict);
    EXPECT_FALSE(ring_.Rotate(*key_a_, At(kT0)).ok());
    EXPECT_EQ(ring_.ActiveKid(), key_a_->kid);  // a failed rotation retires nothing

    SigningKey mismatched;
    mismatched.private_pem = key_a_->private_pem;
    mismatched.public_pem = key_b_->public_pem;
    EXPECT_FALSE(KeyRing().Add(mismatched).ok());

    SigningKey garbage;
    garbage.private_pem = core::Secret<std::string>("-----BEGIN PRIVATE KEY-----\nAAAA\n");
    EXPECT_FALSE(KeyRing().Add(garbage).ok());
    EXPECT_FALSE(KeyRing().Add(SigningKey{}).ok());

    // RSA-1024 is below the minimum.
    EVP_PKEY* small = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(1024));
    ASSERT_NE(small, nullptr);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, small, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    SigningKey weak;
    weak.private_pem = core::Secret<std::string>(std::string(data, static_cast<std::size_t>(len)));
    BIO_free(bio);
    EVP_PKEY_free(small);
    auto r = KeyRing().Add(weak);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_FALSE(GenerateRsaKeyPair(1024).ok());
}

TEST_F(JwtTest, VerifyOnlyKeyVerifiesButCannotSign) {
    std::string token = SignAt(kT0);
    KeyRing verifier;
    SigningKey pub_only;
    pub_only.public_pem = key_a_->public_pem;
    auto kid = verifier.Add(pub_only);
    ASSERT_TRUE(kid.ok());
    EXPECT_EQ(*kid, key_a_->kid);  // the thumbprint, as for the full key
    EXPECT_FALSE(verifier.ActiveKid());
    auto codec = JwtCodec::Create(verifier, Options());
    ASSERT_TRUE(codec.ok());
    EXPECT_TRUE(codec->Verify(token, At(kT0)).ok());
    EXPECT_FALSE(codec->Sign(Request(), At(kT0)).ok());
}

TEST_F(JwtTest, SerializeAndReload) {
    std::string old_token = SignAt(kT0);
    ASSERT_TRUE(ring_.Rotate(*key_b_, At(kT0 + 5)).ok());
    core::Secret<std::string> file = ring_.Serialize();
    std::ostringstream printed;
    printed << file;
    EXPECT_EQ(printed.str(), "***");

    json doc = json::parse(file.Reveal());
    EXPECT_EQ(doc["version"], 1);
    ASSERT_EQ(doc["keys"].size(), 2u);
    EXPECT_EQ(doc["keys"][0]["retired_at"], kT0 + 5);
    EXPECT_TRUE(doc["keys"][1]["retired_at"].is_null());
    EXPECT_NE(doc["keys"][1]["private_pem"].get<std::string>().find("PRIVATE KEY"),
              std::string::npos);

    auto loaded = KeyRing::Deserialize(file.Reveal());
    ASSERT_TRUE(loaded.ok()) << loaded.error().detail;
    EXPECT_EQ(loaded->ActiveKid(), key_b_->kid);
    EXPECT_EQ(loaded->Keys().size(), 2u);
    EXPECT_EQ(loaded->Keys()[0].retired_at, kT0 + 5);
    EXPECT_EQ(loaded->JwksJson(At(kT0 + 10)), ring_.JwksJson(At(kT0 + 10)));
    auto codec = JwtCodec::Create(*loaded, Options());
    ASSERT_TRUE(codec.ok());
    EXPECT_TRUE(codec->Verify(old_token, At(kT0 + 10)).ok());
    auto fresh = codec->Sign(Request(), At(kT0 + 10));
    ASSERT_TRUE(fresh.ok());
    EXPECT_TRUE(codec_->Verify(fresh->token, At(kT0 + 10)).ok());  // the original ring agrees
}

TEST_F(JwtTest, ReloadSwapsKeysInPlaceForExistingCodecs) {
    std::string old_token = SignAt(kT0);
    KeyRing other;
    ASSERT_TRUE(other.Add(*key_a_).ok());
    ASSERT_TRUE(other.Rotate(*key_b_, At(kT0 + 1)).ok());
    ASSERT_TRUE(ring_.Reload(other.Serialize().Reveal()).ok());
    EXPECT_EQ(ring_.ActiveKid(), key_b_->kid);
    EXPECT_EQ(Split(SignAt(kT0 + 2)).header["kid"], key_b_->kid);  // the same codec_
    EXPECT_EQ(Reject(old_token, kT0 + 2), std::nullopt);

    EXPECT_FALSE(ring_.Reload("{broken").ok());
    EXPECT_EQ(ring_.ActiveKid(), key_b_->kid);  // unchanged on error
    EXPECT_EQ(ring_.size(), 2u);
}

TEST_F(JwtTest, DeserializeRejectsBadFiles) {
    for (const char* bad :
         {"", "not json", "[]", R"({"version":2,"keys":[]})", R"({"version":1})",
          R"({"version":1,"keys":[1]})",
          R"({"version":1,"keys":[{"kid":"x","public_pem":"nope","created_at":1}]})",
          R"({"version":1,"keys":[{"kid":"x","public_pem":7,"created_at":1}]})"}) {
        auto r = KeyRing::Deserialize(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().api_code, "invalid_key_ring") << bad;
    }
    auto empty = KeyRing::Deserialize(R"({"version":1,"keys":[]})");
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->empty());
}

TEST_F(JwtTest, VerifyWhileRotatingFromOtherThreads) {
    std::string token = SignAt(kT0);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                if (!codec_->Verify(token, At(kT0)).ok()) ++failures;
                if (!codec_->Sign(Request(), At(kT0)).ok()) ++failures;
            }
        });
    }
    ASSERT_TRUE(ring_.Rotate(*key_b_, At(kT0)).ok());
    (void)ring_.JwksJson(At(kT0));
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(ring_.ActiveKid(), key_b_->kid);
}

TEST(JwtErrorName, Names) {
    EXPECT_EQ(JwtErrorName(JwtError::kMalformed), "malformed");
    EXPECT_EQ(JwtErrorName(JwtError::kBadSignature), "bad_signature");
    EXPECT_EQ(JwtErrorName(JwtError::kUnknownKid), "unknown_kid");
    EXPECT_EQ(JwtErrorName(JwtError::kExpired), "expired");
    EXPECT_EQ(JwtErrorName(JwtError::kNotYetValid), "not_yet_valid");
    EXPECT_EQ(JwtErrorName(JwtError::kWrongIssuer), "wrong_issuer");
    EXPECT_EQ(JwtErrorName(JwtError::kWrongAudience), "wrong_audience");
    EXPECT_EQ(JwtErrorName(JwtError::kAlgNotAllowed), "alg_not_allowed");
}

}  // namespace
}  // namespace hub::auth
