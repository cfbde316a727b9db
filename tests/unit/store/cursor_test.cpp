#include "store/cursor.hpp"

#include <gtest/gtest.h>

namespace hub::store {
namespace {

TEST(Base64Url, KnownVectors) {
    EXPECT_EQ(Base64UrlEncode(""), "");
    EXPECT_EQ(Base64UrlEncode("f"), "Zg");
    EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
    EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
    EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
    EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
    EXPECT_EQ(Base64UrlDecode("Zm9vYg").value(), "foob");
    EXPECT_EQ(Base64UrlDecode("-_8").value(), "\xfb\xff");
}

TEST(Base64Url, RefusesNonCanonicalInput) {
    EXPECT_FALSE(Base64UrlDecode("Zm9v="));  // padding
    EXPECT_FALSE(Base64UrlDecode("Zm+v"));   // standard alphabet
    EXPECT_FALSE(Base64UrlDecode("Z"));      // impossible length
    EXPECT_FALSE(Base64UrlDecode("Zh"));     // non-zero leftover bits
}

TEST(Cursor, RoundTrips) {
    CursorKey key{{1, 1'700'000'000'123, -5}, "0190a0b0-0000-7000-8000-000000000001"};
    std::string text = EncodeCursor("conversations", key);
    EXPECT_EQ(
        text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    auto back = DecodeCursor("conversations", text, 3);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back.value(), key);
}

TEST(Cursor, RefusesCursorOfAnotherListOrShape) {
    std::string text = EncodeCursor("messages", CursorKey{{42}, "id-1"});
    auto other = DecodeCursor("api_calls", text, 1);
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_EQ(other.error().api_code, "invalid_cursor");
    EXPECT_FALSE(DecodeCursor("messages", text, 2).ok());
}

TEST(Cursor, RefusesGarbage) {
    for (const std::string& bad :
         std::vector<std::string>{"", "!!!", Base64UrlEncode("messages|x|id"),
                                  Base64UrlEncode("messages|1"), Base64UrlEncode("messages|1|"),
                                  Base64UrlEncode("messages|1x|id"), std::string(600, 'A')}) {
        EXPECT_FALSE(DecodeCursor("messages", bad, 1).ok()) << bad;
    }
}

TEST(Page, ClampLimit) {
    EXPECT_EQ(ClampLimit(0), kDefaultPageSize);
    EXPECT_EQ(ClampLimit(-3), kDefaultPageSize);
    EXPECT_EQ(ClampLimit(7), 7);
    EXPECT_EQ(ClampLimit(100000), kMaxPageSize);
}

TEST(Page, MakePageSetsCursorOnlyWhenMoreRowsExist) {
    auto key = [](int v) { return CursorKey{{v}, std::to_string(v)}; };
    auto full = MakePage(std::vector<int>{5, 4, 3}, 2, "n", key);
    EXPECT_EQ(full.items, (std::vector<int>{5, 4}));
    ASSERT_TRUE(full.next_cursor);
    EXPECT_EQ(DecodeCursor("n", *full.next_cursor, 1).value(), key(4));

    auto last = MakePage(std::vector<int>{5, 4}, 2, "n", key);
    EXPECT_EQ(last.items.size(), 2u);
    EXPECT_FALSE(last.next_cursor);
}

}  // namespace
}  // namespace hub::store
