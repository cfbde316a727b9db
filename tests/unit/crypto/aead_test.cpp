#include "crypto/aead.hpp"

#include <gtest/gtest.h>

#include <set>

#include "crypto/crypto.hpp"

namespace hub::crypto {
namespace {

const std::string kKey = RandomBytes(kAeadKeyBytes);

std::string Seal(std::string_view plain, std::string_view aad = {}) {
    auto r = AeadEncrypt(kKey, plain, aad);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value() : std::string();
}

TEST(Aead, RoundTrip) {
    for (std::string plain : {std::string(), std::string("x"), std::string("sk-0123456789abcdef"),
                              RandomBytes(1000), std::string("\0\x01\xff", 3)}) {
        const std::string env = Seal(plain, "row-1");
        auto back = AeadDecrypt(kKey, env, "row-1");
        ASSERT_TRUE(back.ok()) << back.error().detail;
        EXPECT_EQ(back.value(), plain);
    }
}

TEST(Aead, VersionedFormat) {
    const std::string plain = "sk-secret";
    const std::string env = Seal(plain);
    ASSERT_EQ(env.substr(0, 3), "v1:");
    auto raw = Base64Decode(env.substr(3));
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(raw->size(), kAeadNonceBytes + plain.size() + kAeadTagBytes);
    EXPECT_EQ(raw->find(plain), std::string::npos);  // not stored in the clear
}

TEST(Aead, FreshNonceEveryTime) {
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) seen.insert(Seal("same plaintext"));
    EXPECT_EQ(seen.size(), 50u);
}

TEST(Aead, WrongKeyFails) {
    const std::string env = Seal("sk-secret");
    auto r = AeadDecrypt(RandomBytes(kAeadKeyBytes), env);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "decrypt_failed");
    EXPECT_EQ(r.error().public_message.find("sk-"), std::string::npos);
}

TEST(Aead, AssociatedDataMustMatch) {
    const std::string env = Seal("sk-secret", "upstream_keys:42");
    EXPECT_TRUE(AeadDecrypt(kKey, env, "upstream_keys:42").ok());
    EXPECT_FALSE(AeadDecrypt(kKey, env, "upstream_keys:43").ok());
    EXPECT_FALSE(AeadDecrypt(kKey, env).ok());
    const std::string no_aad = Seal("sk-secret");
    EXPECT_FALSE(AeadDecrypt(kKey, no_aad, "upstream_keys:42").ok());
}

TEST(Aead, EveryChangedCharacterOfTheEnvelopeIsDetected) {
    const std::string env = Seal("sk-0123456789abcdef0", "id");  // length not a multiple of 3
    ASSERT_TRUE(AeadDecrypt(kKey, env, "id").ok());
    for (std::size_t i = 0; i < env.size(); ++i) {
        for (unsigned char bit : {0x01, 0x02, 0x20, 0x80}) {
            std::string bad = env;
            bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ bit);
            auto r = AeadDecrypt(kKey, bad, "id");
            EXPECT_FALSE(r.ok()) << "char " << i << " bit " << int(bit);
        }
    }
}

TEST(Aead, EveryFlippedBitOfTheCiphertextIsDetected) {
    const std::string env = Seal("sk-0123456789abcdef", "id");
    const std::string raw = *Base64Decode(env.substr(3));
    for (std::size_t i = 0; i < raw.size(); ++i) {  // nonce, ciphertext and tag
        for (int bit = 0; bit < 8; ++bit) {
            std::string bad = raw;
            bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
            auto r = AeadDecrypt(kKey, "v1:" + Base64Encode(bad), "id");
            ASSERT_FALSE(r.ok()) << "byte " << i << " bit " << bit;
            EXPECT_EQ(r.error().api_code, "decrypt_failed");
        }
    }
}

TEST(Aead, TruncatedOrExtendedFails) {
    const std::string env = Seal("sk-secret");
    const std::string raw = *Base64Decode(env.substr(3));
    for (std::size_t n = 0; n < raw.size(); ++n) {
        EXPECT_FALSE(AeadDecrypt(kKey, "v1:" + Base64Encode(raw.substr(0, n))).ok()) << n;
    }
    EXPECT_FALSE(AeadDecrypt(kKey, "v1:" + Base64Encode(raw + "x")).ok());
}

TEST(Aead, MalformedEnvelopes) {
    const std::string env = Seal("sk-secret");
    EXPECT_FALSE(AeadDecrypt(kKey, "").ok());
    EXPECT_FALSE(AeadDecrypt(kKey, "v1:").ok());
    EXPECT_FALSE(AeadDecrypt(kKey, "v1:!!!!").ok());
    EXPECT_FALSE(AeadDecrypt(kKey, "v2:" + env.substr(3)).ok());
    EXPECT_FALSE(AeadDecrypt(kKey, env.substr(3)).ok());  // no version
    EXPECT_FALSE(AeadDecrypt(kKey, env + "=").ok());      // not canonical
    EXPECT_FALSE(AeadDecrypt(kKey, env + "\n").ok());
}

TEST(Aead, KeyMustBe32Bytes) {
    for (std::size_t n : {0, 16, 31, 33}) {
        auto e = AeadEncrypt(RandomBytes(n), "x");
        ASSERT_FALSE(e.ok());
        EXPECT_EQ(e.error().code, core::ErrorCode::kInvalidArgument);
        EXPECT_FALSE(AeadDecrypt(RandomBytes(n), Seal("x")).ok());
    }
}

TEST(Aead, KnownAnswerFromNistVector) {
    // NIST GCM test vector (AES-256, 96-bit IV, empty plaintext, empty AAD): the tag is
    // 530f8afbc74536b9a963b4f1c4cb738b for an all-zero key and IV. Decrypting that envelope
    // proves the format is nonce | ciphertext | tag over standard AES-256-GCM.
    const std::string key(32, '\0');
    const std::string nonce(12, '\0');
    const std::string tag = "\x53\x0f\x8a\xfb\xc7\x45\x36\xb9\xa9\x63\xb4\xf1\xc4\xcb\x73\x8b";
    auto r = AeadDecrypt(key, "v1:" + Base64Encode(nonce + tag));
    ASSERT_TRUE(r.ok()) << r.error().detail;
    EXPECT_EQ(r.value(), "");

    // Test case 14: same key and IV, 16 zero bytes of plaintext.
    const std::string ct = "\xce\xa7\x40\x3d\x4d\x60\x6b\x6e\x07\x4e\xc5\xd3\xba\xf3\x9d\x18";
    const std::string tag14 = "\xd0\xd1\xc8\xa7\x99\x99\x6b\xf0\x26\x5b\x98\xb5\xd4\x8a\xb9\x19";
    auto r14 = AeadDecrypt(key, "v1:" + Base64Encode(nonce + ct + tag14));
    ASSERT_TRUE(r14.ok()) << r14.error().detail;
    EXPECT_EQ(r14.value(), std::string(16, '\0'));
}

}  // namespace
}  // namespace hub::crypto
