#include "auth/totp.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hub::auth::totp {
namespace {

const std::string kRfcKey = "12345678901234567890";  // RFC 6238 appendix B, SHA1

TEST(Base32, Rfc4648Vectors) {
    // RFC 4648 section 10, without the padding.
    EXPECT_EQ(Base32Encode(""), "");
    EXPECT_EQ(Base32Encode("f"), "MY");
    EXPECT_EQ(Base32Encode("fo"), "MZXQ");
    EXPECT_EQ(Base32Encode("foo"), "MZXW6");
    EXPECT_EQ(Base32Encode("foob"), "MZXW6YQ");
    EXPECT_EQ(Base32Encode("fooba"), "MZXW6YTB");
    EXPECT_EQ(Base32Encode("foobar"), "MZXW6YTBOI");
    for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        auto back = Base32Decode(Base32Encode(s));
        ASSERT_TRUE(back.has_value()) << s;
        EXPECT_EQ(*back, s);
    }
}

TEST(Base32, DecodeAcceptsPaddingCaseAndGroups) {
    EXPECT_EQ(Base32Decode("MZXW6YQ=").value(), "foob");
    EXPECT_EQ(Base32Decode("MZXW6YTBOI======").value(), "foobar");
    EXPECT_EQ(Base32Decode("mzxw6ytboi").value(), "foobar");
    EXPECT_EQ(Base32Decode("MZXW 6YTB-OI").value(), "foobar");
    EXPECT_EQ(Base32Encode(kRfcKey), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(Base32, DecodeRefusesBadInput) {
    EXPECT_FALSE(Base32Decode("MZXW1").has_value());   // 1 is not in the alphabet
    EXPECT_FALSE(Base32Decode("MZXW8").has_value());
    EXPECT_FALSE(Base32Decode("M").has_value());       // impossible length
    EXPECT_FALSE(Base32Decode("MZX").has_value());
    EXPECT_FALSE(Base32Decode("MZ=XW").has_value());   // data after padding
}

TEST(Hotp, Rfc4226AppendixD) {
    const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                              "254676", "287922", "162583", "399871", "520489"};
    for (std::uint64_t i = 0; i < 10; ++i) EXPECT_EQ(Hotp(kRfcKey, i), expected[i]) << i;
}

TEST(Totp, Rfc6238AppendixBSha1) {
    struct V {
        std::int64_t t;
        const char* code;
    };
    for (V v : {V{59, "94287082"}, V{1111111109, "07081804"}, V{1111111111, "14050471"},
                V{1234567890, "89005924"}, V{2000000000, "69279037"},
                V{20000000000, "65353130"}}) {
        EXPECT_EQ(CodeAt(kRfcKey, v.t, 8), v.code) << v.t;
        // The six-digit code is the last six digits of the eight-digit one.
        EXPECT_EQ(CodeAt(kRfcKey, v.t), std::string(v.code).substr(2)) << v.t;
    }
}

TEST(Totp, StepsAreThirtySeconds) {
    EXPECT_EQ(StepAt(0), 0);
    EXPECT_EQ(StepAt(29), 0);
    EXPECT_EQ(StepAt(30), 1);
    EXPECT_EQ(StepAt(59), 1);
    EXPECT_EQ(StepAt(1111111109), 37037036);
}

TEST(Totp, WellFormedCodes) {
    EXPECT_TRUE(IsWellFormedCode("000000"));
    EXPECT_TRUE(IsWellFormedCode("123456"));
    EXPECT_FALSE(IsWellFormedCode("12345"));
    EXPECT_FALSE(IsWellFormedCode("1234567"));
    EXPECT_FALSE(IsWellFormedCode("12345a"));
    EXPECT_FALSE(IsWellFormedCode(" 23456"));
    EXPECT_FALSE(IsWellFormedCode(""));
}

TEST(Totp, MatchStepAllowsOneStepOfDriftOnly) {
    const std::int64_t now = 1'800'000'015;
    const std::int64_t step = StepAt(now);
    EXPECT_EQ(MatchStep(kRfcKey, CodeAt(kRfcKey, now), now, 0), step);
    EXPECT_EQ(MatchStep(kRfcKey, CodeAt(kRfcKey, now - 30), now, 0), step - 1);
    EXPECT_EQ(MatchStep(kRfcKey, CodeAt(kRfcKey, now + 30), now, 0), step + 1);
    EXPECT_FALSE(MatchStep(kRfcKey, CodeAt(kRfcKey, now - 60), now, 0).has_value());
    EXPECT_FALSE(MatchStep(kRfcKey, CodeAt(kRfcKey, now + 60), now, 0).has_value());
}

TEST(Totp, MatchStepRefusesStepsAlreadyUsed) {
    const std::int64_t now = 1'800'000'015;
    const std::int64_t step = StepAt(now);
    std::string code = CodeAt(kRfcKey, now);
    EXPECT_FALSE(MatchStep(kRfcKey, code, now, step).has_value());      // the same step again
    EXPECT_FALSE(MatchStep(kRfcKey, code, now, step + 1).has_value());  // a later one was used
    // The previous step's code is refused once the current one was accepted.
    EXPECT_FALSE(MatchStep(kRfcKey, CodeAt(kRfcKey, now - 30), now, step).has_value());
    EXPECT_EQ(MatchStep(kRfcKey, code, now, step - 1), step);
}

TEST(Totp, MatchStepRefusesMalformedAndWrongCodes) {
    const std::int64_t now = 1'800'000'015;
    std::string code = CodeAt(kRfcKey, now);
    EXPECT_FALSE(MatchStep(kRfcKey, code + "0", now, 0).has_value());
    EXPECT_FALSE(MatchStep(kRfcKey, "abcdef", now, 0).has_value());
    EXPECT_FALSE(MatchStep("another key 12345678", code, now, 0).has_value());
}

TEST(Totp, OtpauthUri) {
    EXPECT_EQ(OtpauthUri("Bailian Hub", "alice", "JBSWY3DPEHPK3PXP"),
              "otpauth://totp/Bailian%20Hub:alice?secret=JBSWY3DPEHPK3PXP&issuer=Bailian%20Hub"
              "&algorithm=SHA1&digits=6&period=30");
    EXPECT_EQ(OtpauthUri("A&B", "a:b@c", "AA"),
              "otpauth://totp/A%26B:a%3Ab%40c?secret=AA&issuer=A%26B&algorithm=SHA1&digits=6"
              "&period=30");
}

}  // namespace
}  // namespace hub::auth::totp
