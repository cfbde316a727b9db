// RevocationCache across hubs: two caches ("hub A" and "hub B") joined by an in-process bus.
#include <gtest/gtest.h>

#include "auth/session_tokens.hpp"
#include "cache/topics.hpp"
#include "support/linked_bus.hpp"

namespace hub::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct TwoHubs : ::testing::Test {
    core::ManualClock clock;
    testing::LinkedBuses buses;
    RevocationCache a{clock, seconds(930)};
    RevocationCache b{clock, seconds(930)};
    TwoHubs() {
        a.Connect(buses.a());
        b.Connect(buses.b());
    }
};

TEST_F(TwoHubs, LogoutOnARefusedOnB) {
    a.RevokeSession("s1");
    EXPECT_FALSE(a.IsAllowed("u1", "s1"));  // the publisher applies it itself
    buses.Drain();
    EXPECT_FALSE(b.IsAllowed("u1", "s1"));
    EXPECT_TRUE(b.IsAllowed("u1", "s2"));
    // Kept as long as the cache keeps the entry: an access token cannot outlive it.
    auto log = buses.b().log();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0], (cache::BusEvent{cache::topic::kSessionRevoked, "s1"}));
}

TEST_F(TwoHubs, DisableAndEnableReachTheOtherHub) {
    a.DisableUser("u1");
    buses.Drain();
    EXPECT_FALSE(b.IsAllowed("u1", "any"));
    EXPECT_TRUE(b.IsUserDisabled("u1"));
    b.EnableUser("u1");
    buses.Drain();
    EXPECT_TRUE(a.IsAllowed("u1", "any"));
    EXPECT_TRUE(b.IsAllowed("u1", "any"));
}

TEST_F(TwoHubs, RoleChangeMarksTheUserChangedOnB) {
    std::int64_t before = clock.NowMs();
    clock.Advance(milliseconds(5));
    a.NoteUserChanged("u1");
    buses.Drain();
    EXPECT_TRUE(b.ChangedSince("u1", before));
    EXPECT_FALSE(b.ChangedSince("u2", before));
}

TEST_F(TwoHubs, HandlersDoNotPublishAgain) {
    a.RevokeSession("s1");
    a.DisableUser("u1");
    buses.Drain();
    EXPECT_EQ(buses.b().received(), 2u);
    EXPECT_EQ(buses.a().received(), 0u);  // no echo back to A
}

TEST_F(TwoHubs, AHubCutOffReplaysWhatItMissedOnReconnect) {
    buses.Disconnect(buses.b());
    a.RevokeSession("s1");
    a.DisableUser("u2");
    buses.Drain();
    EXPECT_TRUE(b.IsAllowed("u1", "s1"));  // cut off: not seen yet
    buses.Reconnect(buses.b());
    buses.Drain();
    EXPECT_FALSE(b.IsAllowed("u1", "s1"));
    EXPECT_FALSE(b.IsAllowed("u2", ""));
    auto log = buses.b().log();
    ASSERT_FALSE(log.empty());
    EXPECT_EQ(log.back().topic, cache::kBusResynced);
}

TEST_F(TwoHubs, WhatACutOffHubPublishedReachesTheOthersWhenItIsBack) {
    buses.Disconnect(buses.a());
    a.RevokeSession("s9");
    buses.Drain();
    EXPECT_TRUE(b.IsAllowed("u1", "s9"));
    buses.Reconnect(buses.a());
    buses.Drain();
    EXPECT_FALSE(b.IsAllowed("u1", "s9"));
}

TEST_F(TwoHubs, ReplayIsIdempotentAndKeepsTheOrder) {
    a.DisableUser("u1");
    a.EnableUser("u1");
    buses.Drain();
    EXPECT_TRUE(b.IsAllowed("u1", ""));
    buses.Disconnect(buses.b());
    buses.Reconnect(buses.b());  // both replayed again, in order: still enabled
    buses.Drain();
    EXPECT_TRUE(b.IsAllowed("u1", ""));
}

TEST(RevocationCacheBus, EventsCarryIdsOnlyAndUnknownOnesAreIgnored) {
    core::ManualClock clock;
    RevocationCache c(clock, seconds(930));
    c.Apply({"something.else", "s1"});
    c.Apply({cache::topic::kSessionRevoked, ""});
    c.Apply({cache::kBusResynced, ""});
    EXPECT_EQ(c.size(), 0u);
    c.Apply({cache::topic::kSessionRevoked, "s1"});
    EXPECT_TRUE(c.IsSessionRevoked("s1"));
    clock.Advance(seconds(930));  // the handler's entry lives as long as a local one
    EXPECT_FALSE(c.IsSessionRevoked("s1"));
}

TEST(RevocationCacheBus, WithoutABusNothingIsPublished) {
    core::ManualClock clock;
    RevocationCache c(clock, seconds(930));
    c.RevokeSession("s1");  // no bus connected: a single hub, as before
    EXPECT_TRUE(c.IsSessionRevoked("s1"));
}

}  // namespace
}  // namespace hub::auth
