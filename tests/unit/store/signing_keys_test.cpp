// store::SigningKeyStore: one sealed key ring per database; the first of two hubs to store one
// wins and the other reads it; a rotation replaces it only over the version it read.
#include <gtest/gtest.h>

#include "unit/store/store_fixture.hpp"

namespace hub::store::testing {
namespace {

class SigningKeysTest : public DialectStoreTest {};

TEST_P(SigningKeysTest, FirstRingWinsAndRotationsAreOrdered) {
    ASSERT_OK_AND_ASSIGN(auto none, store().SigningKeys().Get());
    EXPECT_FALSE(none.has_value());
    ASSERT_OK_AND_ASSIGN(std::int64_t v0, store().SigningKeys().Version());
    EXPECT_EQ(v0, 0);

    ASSERT_OK_AND_ASSIGN(bool first, store().SigningKeys().CreateFirst("v1:ring-a", kT0));
    EXPECT_TRUE(first);
    ASSERT_OK_AND_ASSIGN(bool second, store().SigningKeys().CreateFirst("v1:ring-b", kT0 + 1));
    EXPECT_FALSE(second);  // another hub was first: nothing overwritten
    ASSERT_OK_AND_ASSIGN(auto stored, store().SigningKeys().Get());
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->sealed, "v1:ring-a");
    EXPECT_EQ(stored->version, 1);
    EXPECT_EQ(stored->updated_at, kT0);

    ASSERT_OK_AND_ASSIGN(bool rotated, store().SigningKeys().Replace("v1:ring-c", 1, kT0 + 5));
    EXPECT_TRUE(rotated);
    ASSERT_OK_AND_ASSIGN(bool stale, store().SigningKeys().Replace("v1:ring-d", 1, kT0 + 6));
    EXPECT_FALSE(stale);  // read at version 1, but another rotation made it 2
    ASSERT_OK_AND_ASSIGN(auto now, store().SigningKeys().Get());
    EXPECT_EQ(now->sealed, "v1:ring-c");
    EXPECT_EQ(now->version, 2);
    EXPECT_EQ(now->updated_at, kT0 + 5);
    ASSERT_OK_AND_ASSIGN(std::int64_t v2, store().SigningKeys().Version());
    EXPECT_EQ(v2, 2);
}

TEST_P(SigningKeysTest, ARingOfManyKeysFitsWhole) {
    // A ring with a dozen 2048-bit keys, sealed and base64'd, is tens of kilobytes.
    std::string big = "v1:" + std::string(200'000, 'A');
    ASSERT_OK_AND_ASSIGN(bool first, store().SigningKeys().CreateFirst(big, kT0));
    EXPECT_TRUE(first);
    ASSERT_OK_AND_ASSIGN(auto stored, store().SigningKeys().Get());
    EXPECT_EQ(stored->sealed, big);
}

HUB_STORE_DIALECTS(SigningKeysTest);

}  // namespace
}  // namespace hub::store::testing
