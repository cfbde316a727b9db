// The strict CBOR decoder (auth/cbor.hpp): what WebAuthn needs decodes; everything else is
// refused with invalid_cbor and never read out of bounds.
#include "auth/cbor.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hub::auth::cbor {
namespace {

std::string B(std::initializer_list<int> bytes) {
    std::string s;
    for (int b : bytes) s.push_back(static_cast<char>(b));
    return s;
}

void ExpectInvalid(const std::string& in) {
    auto r = Decode(in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "invalid_cbor");
    EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument);
}

TEST(Cbor, Integers) {
    EXPECT_EQ(Decode(B({0x00}))->AsInt(), 0);
    EXPECT_EQ(Decode(B({0x17}))->AsInt(), 23);
    EXPECT_EQ(Decode(B({0x18, 0x18}))->AsInt(), 24);
    EXPECT_EQ(Decode(B({0x19, 0x01, 0x00}))->AsInt(), 256);
    EXPECT_EQ(Decode(B({0x1a, 0x00, 0x01, 0x00, 0x00}))->AsInt(), 65536);
    EXPECT_EQ(Decode(B({0x20}))->AsInt(), -1);
    EXPECT_EQ(Decode(B({0x26}))->AsInt(), -7);
    EXPECT_EQ(Decode(B({0x39, 0x01, 0x00}))->AsInt(), -257);
    auto big = Decode(B({0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
    ASSERT_TRUE(big.ok());
    EXPECT_EQ(big->type, Type::kUnsigned);
    EXPECT_FALSE(big->AsInt().has_value());  // does not fit an int64
}

TEST(Cbor, StringsArraysMapsAndSimpleValues) {
    auto bytes = Decode(B({0x43, 0x01, 0x02, 0x03}));
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(bytes->type, Type::kBytes);
    EXPECT_EQ(bytes->bytes, B({1, 2, 3}));
    auto text = Decode(B({0x63, 'f', 'm', 't'}));
    ASSERT_TRUE(text.ok());
    EXPECT_TRUE(text->IsText("fmt"));
    // {1: 2, 3: -7, "a": [true, false, null, undefined]}
    auto map = Decode(B({0xa3, 0x01, 0x02, 0x03, 0x26, 0x61, 'a', 0x84, 0xf5, 0xf4, 0xf6, 0xf7}));
    ASSERT_TRUE(map.ok()) << map.error().public_message;
    ASSERT_NE(map->Find(1), nullptr);
    EXPECT_EQ(map->Find(1)->AsInt(), 2);
    EXPECT_EQ(map->Find(3)->AsInt(), -7);
    const Value* a = map->Find(std::string_view("a"));
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(a->items.size(), 4u);
    EXPECT_EQ(a->items[0].type, Type::kTrue);
    EXPECT_EQ(a->items[1].type, Type::kFalse);
    EXPECT_EQ(a->items[2].type, Type::kNull);
    EXPECT_EQ(a->items[3].type, Type::kUndefined);
    EXPECT_EQ(map->Find(99), nullptr);
    EXPECT_EQ(map->Find(std::string_view("b")), nullptr);
    EXPECT_TRUE(Decode(B({0xa0})).ok());  // {}
    EXPECT_TRUE(Decode(B({0x80})).ok());  // []
    EXPECT_TRUE(Decode(B({0x60})).ok());  // ""
}

TEST(Cbor, PrefixLeavesTheRest) {
    auto p = DecodePrefix(B({0xa1, 0x01, 0x02, 0xff, 0xee}));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->consumed, 3u);
    ExpectInvalid(B({0xa1, 0x01, 0x02, 0xff}));  // the same with trailing bytes: refused whole
}

TEST(Cbor, RefusesTruncatedData) {
    ExpectInvalid("");
    ExpectInvalid(B({0x18}));                    // argument missing
    ExpectInvalid(B({0x19, 0x01}));              // argument cut short
    ExpectInvalid(B({0x43, 0x01, 0x02}));        // string cut short
    ExpectInvalid(B({0x82, 0x01}));              // array cut short
    ExpectInvalid(B({0xa2, 0x01, 0x02, 0x03}));  // map cut short
    // A length of 2^64-1 must not be trusted to allocate or to index.
    ExpectInvalid(B({0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}));
    ExpectInvalid(B({0x9b, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00}));
}

TEST(Cbor, RefusesWhatWebAuthnNeverUses) {
    ExpectInvalid(B({0x5f, 0x41, 0x00, 0xff}));        // indefinite byte string
    ExpectInvalid(B({0x9f, 0x01, 0xff}));              // indefinite array
    ExpectInvalid(B({0xbf, 0x01, 0x02, 0xff}));        // indefinite map
    ExpectInvalid(B({0xc0, 0x60}));                    // tag 0
    ExpectInvalid(B({0xf9, 0x3c, 0x00}));              // half float
    ExpectInvalid(B({0xfb, 0, 0, 0, 0, 0, 0, 0, 0}));  // double
    ExpectInvalid(B({0xf0}));                          // unassigned simple value
    ExpectInvalid(B({0xf8, 0x20}));                    // simple value in the next byte
    ExpectInvalid(B({0x1c}));                          // reserved additional information
    ExpectInvalid(B({0xff}));                          // a lone break
}

TEST(Cbor, RefusesBadTextAndBadMaps) {
    ExpectInvalid(B({0x62, 0xc3, 0x28}));               // invalid UTF-8
    ExpectInvalid(B({0x62, 0xc0, 0x80}));               // overlong NUL
    ExpectInvalid(B({0x63, 0xed, 0xa0, 0x80}));         // a surrogate
    ExpectInvalid(B({0x61, 0xc3}));                     // a sequence cut by the string's end
    ExpectInvalid(B({0xa2, 0x01, 0x02, 0x01, 0x03}));   // duplicate key
    ExpectInvalid(B({0xa1, 0x41, 0x00, 0x01}));         // byte-string key
    ExpectInvalid(B({0xa1, 0x80, 0x01}));               // array key
    EXPECT_TRUE(Decode(B({0x62, 0xc3, 0xa9})).ok());    // "é"
}

TEST(Cbor, EnforcesLimits) {
    std::string deep(20, static_cast<char>(0x81));
    deep.push_back(0x00);
    ExpectInvalid(deep);
    Limits small;
    small.max_items = 2;
    small.max_string = 3;
    EXPECT_FALSE(Decode(B({0x83, 0x01, 0x02, 0x03}), small).ok());
    EXPECT_TRUE(Decode(B({0x82, 0x01, 0x02}), small).ok());
    EXPECT_FALSE(Decode(B({0x44, 1, 2, 3, 4}), small).ok());
    EXPECT_TRUE(Decode(B({0x43, 1, 2, 3}), small).ok());
}

}  // namespace
}  // namespace hub::auth::cbor
