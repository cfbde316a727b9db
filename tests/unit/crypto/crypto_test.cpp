#include "crypto/crypto.hpp"

#include <gtest/gtest.h>

#include <set>

namespace hub::crypto {
namespace {

TEST(Crypto, Sha256KnownAnswers) {
    EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(Sha256("abc").size(), 32u);
}

TEST(Crypto, HmacSha256Rfc4231Case2) {
    EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, Hex) { EXPECT_EQ(Hex(std::string("\x00\x01\xab\xff", 4)), "0001abff"); }

TEST(Crypto, Base64RoundTripAllLengths) {
    const std::string data = RandomBytes(64);
    for (std::size_t n = 0; n <= data.size(); ++n) {
        const std::string raw = data.substr(0, n);
        auto std_dec = Base64Decode(Base64Encode(raw));
        ASSERT_TRUE(std_dec.has_value());
        EXPECT_EQ(*std_dec, raw);
        auto url_dec = Base64UrlDecode(Base64UrlEncode(raw));
        ASSERT_TRUE(url_dec.has_value());
        EXPECT_EQ(*url_dec, raw);
        EXPECT_EQ(Base64UrlEncode(raw).find_first_of("+/="), std::string::npos);
    }
}

TEST(Crypto, Base64KnownAnswers) {
    EXPECT_EQ(Base64Encode("f"), "Zg==");
    EXPECT_EQ(Base64Encode("fo"), "Zm8=");
    EXPECT_EQ(Base64Encode("foo"), "Zm9v");
    EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
    EXPECT_EQ(Base64Decode("Zm9vYmE="), "fooba");
    EXPECT_EQ(Base64Decode("Zm9vYmE"), "fooba");  // padding optional
}

TEST(Crypto, Base64RejectsGarbage) {
    EXPECT_FALSE(Base64Decode("Zm9v!").has_value());
    EXPECT_FALSE(Base64Decode("Z").has_value());
    EXPECT_FALSE(Base64Decode("Zm=v").has_value());
    EXPECT_FALSE(Base64Decode("-_8").has_value());     // url alphabet in standard decoding
    EXPECT_FALSE(Base64UrlDecode("+/8").has_value());  // and the other way round
}

TEST(Crypto, RandomBytesAndTokens) {
    EXPECT_EQ(RandomBytes(0), "");
    EXPECT_EQ(RandomBytes(33).size(), 33u);
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) seen.insert(RandomToken(16));
    EXPECT_EQ(seen.size(), 100u);
    EXPECT_EQ(RandomToken(32).size(), 43u);  // base64url, no padding
}

TEST(Crypto, ConstantTimeEquals) {
    EXPECT_TRUE(ConstantTimeEquals("", ""));
    EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
    EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
    EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

}  // namespace
}  // namespace hub::crypto
