#include "store/models.hpp"

#include <gtest/gtest.h>

namespace hub::store {
namespace {

TEST(Models, EnumsRoundTripThroughText) {
    for (auto v : {UserStatus::kActive, UserStatus::kDisabled}) {
        EXPECT_EQ(ParseUserStatus(ToString(v)), v);
    }
    for (auto v : {MessageRole::kSystem, MessageRole::kUser, MessageRole::kAssistant}) {
        EXPECT_EQ(ParseMessageRole(ToString(v)), v);
    }
    for (auto v : {MessageStatus::kComplete, MessageStatus::kStreaming, MessageStatus::kInterrupted,
                   MessageStatus::kError}) {
        EXPECT_EQ(ParseMessageStatus(ToString(v)), v);
    }
    for (auto v :
         {UpstreamKeyStatus::kActive, UpstreamKeyStatus::kRetiring, UpstreamKeyStatus::kDisabled}) {
        EXPECT_EQ(ParseUpstreamKeyStatus(ToString(v)), v);
    }
    for (auto v : {GenerationStatus::kPending, GenerationStatus::kRunning,
                   GenerationStatus::kSucceeded, GenerationStatus::kFailed,
                   GenerationStatus::kCanceled}) {
        EXPECT_EQ(ParseGenerationStatus(ToString(v)), v);
    }
    EXPECT_EQ(ToString(MessageStatus::kInterrupted), "interrupted");
    EXPECT_FALSE(ParseUserStatus("Active"));
    EXPECT_FALSE(ParseGenerationStatus(""));
}

TEST(Models, SessionAndKeyLiveness) {
    Session s;
    s.expires_at = 100;
    EXPECT_TRUE(s.IsActive(99));
    EXPECT_FALSE(s.IsActive(100));
    s.revoked_at = 50;
    EXPECT_FALSE(s.IsActive(10));

    ApiKey k;
    EXPECT_TRUE(k.IsUsable(1));
    k.expires_at = 10;
    EXPECT_FALSE(k.IsUsable(10));
    k.expires_at.reset();
    k.revoked_at = 5;
    EXPECT_FALSE(k.IsUsable(1));
}

}  // namespace
}  // namespace hub::store
