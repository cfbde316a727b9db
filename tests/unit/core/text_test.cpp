#include <gtest/gtest.h>

#include "core/text.hpp"

namespace hub::core {
namespace {

// Case folds for ASCII letters only: the neighbours of the letter ranges, whose codes differ
// from a letter's by the same 0x20, stay unequal, and bytes past ASCII compare as they are.
TEST(Text, IEqualsFoldsAsciiLettersOnly) {
    EXPECT_TRUE(IEquals("Content-Length", "content-LENGTH"));
    EXPECT_TRUE(IEquals("", ""));
    EXPECT_FALSE(IEquals("Content-Length", "Content-Lengt"));
    EXPECT_FALSE(IEquals("@[\\]^", "`{|}~"));
    EXPECT_FALSE(IEquals("\xC4", "\xE4"));  // Ä and ä in Latin-1
    EXPECT_TRUE(IEquals("\xC4", "\xC4"));
    EXPECT_FALSE(IEquals("a1", "A2"));
}

}  // namespace
}  // namespace hub::core
