#include "auth/password.hpp"

#include <crypt.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

namespace hub::auth {
namespace {

// bcrypt is slow on purpose: one hasher (cost 10) for the whole suite, and few hashes.
class PasswordHasherTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto h = PasswordHasher::Create(10);
        ASSERT_TRUE(h.ok()) << h.error().detail;
        hasher_ = std::make_unique<PasswordHasher>(std::move(h).value());
    }
    static void TearDownTestSuite() { hasher_.reset(); }
    static std::unique_ptr<PasswordHasher> hasher_;
};
std::unique_ptr<PasswordHasher> PasswordHasherTest::hasher_;

TEST_F(PasswordHasherTest, HashesWithBcrypt2bAndVerifies) {
    auto hash = hasher_->Hash("correct horse battery staple");
    ASSERT_TRUE(hash.ok());
    EXPECT_EQ(hash->size(), 60u);
    EXPECT_EQ(hash->substr(0, 7), "$2b$10$");
    EXPECT_EQ(BcryptCost(*hash), 10);
    EXPECT_TRUE(hasher_->Verify("correct horse battery staple", *hash));
    EXPECT_FALSE(hasher_->Verify("correct horse battery stapl", *hash));
    EXPECT_FALSE(hasher_->NeedsRehash(*hash));

    // Salted: the same password hashes differently every time.
    auto again = hasher_->Hash("correct horse battery staple");
    ASSERT_TRUE(again.ok());
    EXPECT_NE(*hash, *again);
}

TEST_F(PasswordHasherTest, DummyAndMalformedHashesAlwaysFail) {
    EXPECT_FALSE(hasher_->VerifyAgainstDummy("whatever password"));
    EXPECT_FALSE(hasher_->Verify("whatever password", "not a hash"));
    EXPECT_FALSE(hasher_->Verify("", ""));
}

// The dummy hash is made without hashing (start-up pays no bcrypt run), yet checking a
// password against it is a full bcrypt run at the configured cost: it is a well-formed "$2b$"
// hash whose salt libxcrypt accepts, and it differs between hashers.
TEST_F(PasswordHasherTest, DummyHashIsAWellFormedHashAtTheConfiguredCost) {
    std::string dummy(hasher_->dummy_hash());
    ASSERT_EQ(dummy.size(), 60u);
    EXPECT_EQ(dummy.substr(0, 7), "$2b$10$");
    EXPECT_EQ(BcryptCost(dummy), 10);
    EXPECT_TRUE(hasher_->NeedsRehash(dummy) == false);

    crypt_data data{};
    const char* out = crypt_rn("whatever password", dummy.c_str(), &data, sizeof data);
    ASSERT_NE(out, nullptr);
    std::string computed(out);
    EXPECT_EQ(computed.size(), 60u) << computed;
    EXPECT_EQ(computed.substr(0, 29), dummy.substr(0, 29));  // same cost and salt: a real run
    EXPECT_NE(computed, dummy);

    auto other = PasswordHasher::Create(10);
    ASSERT_TRUE(other.ok());
    EXPECT_NE(other->dummy_hash(), hasher_->dummy_hash());
}

TEST_F(PasswordHasherTest, RejectsWhatBcryptWouldTruncate) {
    EXPECT_FALSE(hasher_->Hash(std::string(73, 'a')).ok());
    EXPECT_EQ(hasher_->Hash(std::string(73, 'a')).error().api_code, "weak_password");
    EXPECT_FALSE(hasher_->Hash(std::string("abc\0defghij", 11)).ok());
}

TEST(PasswordHasher, CostBelowTenOrAboveThirtyOneIsRejected) {
    for (int cost : {-1, 0, 4, 9, 32}) {
        auto h = PasswordHasher::Create(cost);
        ASSERT_FALSE(h.ok()) << cost;
        EXPECT_EQ(h.error().code, core::ErrorCode::kInvalidArgument);
    }
}

TEST(PasswordHasher, BcryptCostParsing) {
    EXPECT_EQ(BcryptCost("$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"), 12);
    EXPECT_EQ(BcryptCost("$2y$10$x"), 10);
    EXPECT_EQ(BcryptCost("$2a$04$x"), 4);
    EXPECT_EQ(BcryptCost("$2x$10$x"), -1);
    EXPECT_EQ(BcryptCost("$1$abc$"), -1);
    EXPECT_EQ(BcryptCost("$2b$1a$x"), -1);
    EXPECT_EQ(BcryptCost(""), -1);
}

// ---- Policy -------------------------------------------------------------------------------

std::optional<std::string> PolicyError(std::string_view pw, std::string_view user = "alice",
                                       std::string_view email = "alice@example.com") {
    auto r = CheckPasswordPolicy(pw, user, email);
    if (r.ok()) return std::nullopt;
    EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().api_code, "weak_password");
    EXPECT_FALSE(r.error().public_message.empty());
    return r.error().public_message;
}

std::string Repeat(std::string_view s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

TEST(PasswordPolicy, AcceptsAReasonablePassword) {
    EXPECT_EQ(PolicyError("xk3!Tq9z"), std::nullopt);  // exactly 8
    EXPECT_EQ(PolicyError("blue tiger eats 7 plums"), std::nullopt);
}

TEST(PasswordPolicy, TooShort) {
    auto e = PolicyError("xk3!Tq9");
    ASSERT_TRUE(e);
    EXPECT_NE(e->find("at least 8"), std::string::npos);
    EXPECT_TRUE(PolicyError(""));
    // 4 characters but 12 bytes: still too short, characters are what count.
    EXPECT_TRUE(PolicyError("密码密码"));
}

TEST(PasswordPolicy, SeventyThreeBytesIsRejectedNotTruncated) {
    std::string pw = "Zq" + Repeat("x7", 35) + "!";  // 73 bytes
    ASSERT_EQ(pw.size(), 73u);
    auto e = PolicyError(pw);
    ASSERT_TRUE(e);
    EXPECT_NE(e->find("72 bytes"), std::string::npos);
    EXPECT_EQ(PolicyError(pw.substr(0, 72)), std::nullopt);
}

TEST(PasswordPolicy, ExactlySeventyTwoBytesOfMultiByteUtf8IsAccepted) {
    std::string cjk = Repeat("密", 24);  // 3 bytes each
    ASSERT_EQ(cjk.size(), 72u);
    EXPECT_EQ(PolicyError(cjk), std::nullopt);
    std::string emoji = Repeat("\xF0\x9F\x94\x91", 18);  // U+1F511, 4 bytes each
    ASSERT_EQ(emoji.size(), 72u);
    EXPECT_EQ(PolicyError(emoji), std::nullopt);
    EXPECT_TRUE(PolicyError(cjk + "密"));  // 75 bytes
    EXPECT_TRUE(PolicyError(cjk + "a"));   // 73 bytes
}

TEST(PasswordPolicy, InvalidUtf8IsRejected) {
    for (std::string bad : {std::string("abcdefgh\xFF"), std::string("abcdefgh\xC0\xAF"),
                            std::string("abcdefgh\xED\xA0\x80"),      // surrogate
                            std::string("abcdefgh\xE5\xAF"),          // truncated
                            std::string("abcdefgh\xF4\x90\x80\x80"),  // > U+10FFFF
                            std::string("abcdefgh\x80")}) {
        auto e = PolicyError(bad);
        ASSERT_TRUE(e);
        EXPECT_NE(e->find("UTF-8"), std::string::npos);
    }
    EXPECT_TRUE(PolicyError(std::string("abcd\0efghij", 11)));
}

TEST(PasswordPolicy, MayNotEqualUsernameOrEmail) {
    EXPECT_TRUE(PolicyError("Alice.Smith", "alice.smith", "a@example.com"));
    EXPECT_TRUE(PolicyError("ALICE@EXAMPLE.COM", "bob_builder", "alice@example.com"));
    EXPECT_TRUE(PolicyError("alice.w.smith", "bob_builder", "Alice.W.Smith@example.com"));
    EXPECT_EQ(PolicyError("alice.smith2", "alice.smith", "alice.smith@example.com"), std::nullopt);
}

TEST(PasswordPolicy, CommonPasswordsAreRejectedCaseInsensitively) {
    for (const char* pw : {"password", "Password123", "QWERTYUIOP", "12345678", "iloveyou",
                           "1qaz2wsx", "woaini1314", "P@ssw0rd"}) {
        auto e = PolicyError(pw);
        ASSERT_TRUE(e) << pw;
        EXPECT_NE(e->find("common"), std::string::npos) << pw;
    }
    EXPECT_TRUE(IsCommonPassword("SunShine"));
    EXPECT_FALSE(IsCommonPassword("tangerine-otter-41"));
}

TEST(Utf8, ValidationAndLength) {
    EXPECT_TRUE(IsValidUtf8(""));
    EXPECT_TRUE(IsValidUtf8("héllo 世界 \xF0\x9F\x98\x80"));
    EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));      // overlong
    EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));  // overlong
    EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
    EXPECT_EQ(Utf8Length("héllo 世界"), 8u);
}

// ---- Username and email -------------------------------------------------------------------

TEST(Username, Rules) {
    for (const char* ok :
         {"bob", "alice_01", "a.b-c", "A-Z_0.9", "abcdefghijklmnopqrstuvwxyz012345"}) {
        EXPECT_TRUE(ValidateUsername(ok).ok()) << ok;
    }
    for (const char* bad : {"", "ab", "abcdefghijklmnopqrstuvwxyz0123456", "al ice", "al@ice",
                            "bob!", "ünï", "a/b", "a\tb"}) {
        auto r = ValidateUsername(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().api_code, "invalid_username");
    }
}

TEST(Email, PragmaticSyntax) {
    for (const char* ok : {"a@b.co", "first.last+tag@sub.example.com", "x_y@xn--fiqs8s.cn",
                           "o'brien@example.ie", "USER@EXAMPLE.COM", "a@b-c.d-e.org"}) {
        EXPECT_TRUE(ValidateEmail(ok).ok()) << ok;
    }
    std::string long_local = std::string(65, 'a') + "@example.com";
    std::string long_total = "a@" + Repeat("abcdefghi.", 25) + "com";
    for (std::string bad : {std::string(""),
                            std::string("a"),
                            std::string("a@"),
                            std::string("@b.co"),
                            std::string("a@b"),
                            std::string("a@@b.co"),
                            std::string("a@b@c.co"),
                            std::string("a@b..co"),
                            std::string(".a@b.co"),
                            std::string("a.@b.co"),
                            std::string("a..b@c.co"),
                            std::string("a b@c.co"),
                            std::string("a@-b.co"),
                            std::string("a@b-.co"),
                            std::string("a@b.c"),
                            std::string("a@1.23"),
                            std::string("a@b.co."),
                            std::string("a@.b.co"),
                            std::string("<a>@b.co"),
                            std::string("ä@b.co"),
                            long_local,
                            long_total}) {
        auto r = ValidateEmail(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().api_code, "invalid_email");
    }
}

TEST(AsciiLower, LowersOnlyAscii) { EXPECT_EQ(AsciiLower("AbC-É"), "abc-É"); }

}  // namespace
}  // namespace hub::auth
