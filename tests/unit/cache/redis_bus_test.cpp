// RedisBus between two "hubs" (two buses, each with its own two connections) on one
// redis-server.
#include "cache/redis_bus.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "redis/client.hpp"
#include "support/io_runner.hpp"
#include "support/redis.hpp"

namespace hub::cache {
namespace {

using test::IoRunner;
using test::RedisServer;
using test::WaitUntil;
using namespace std::chrono_literals;

TEST(RedisBusCodec, RoundTripsAnyPayloadAndRejectsGarbage) {
    BusEvent e{"session.revoked", "a:b\nc|d 5:x"};
    std::string sender;
    BusEvent back;
    ASSERT_TRUE(RedisBus::Decode(RedisBus::Encode("hub-1", e), &sender, &back));
    EXPECT_EQ(sender, "hub-1");
    EXPECT_EQ(back, e);
    BusEvent empty_payload{"catalog.changed", ""};
    ASSERT_TRUE(RedisBus::Decode(RedisBus::Encode("h", empty_payload), &sender, &back));
    EXPECT_EQ(back, empty_payload);
    for (const char* bad : {"", "x", "5:ab", "2:ab0:", "99999999999:a", "2:ab3:to"}) {
        EXPECT_FALSE(RedisBus::Decode(bad, &sender, &back)) << bad;
    }
}

// One hub's side: its connections and its bus, recording what arrives.
struct Hub {
    Hub(net::io_context& io, const std::string& url, const std::string& id)
        : commands(io, Opts(url, {})), subscriber(io, Opts(url, {"bailian-hub:bus"})),
          bus(io, commands, subscriber, RedisBusOptions{id}) {
        bus.Subscribe([this](const BusEvent& e) {
            std::lock_guard lock(mu);
            got.push_back(e);
        });
        bus.Start();
        subscriber.Start();
        commands.Start();
    }
    ~Hub() {
        bus.Stop();
        subscriber.Stop();
        commands.Stop();
    }
    static redis::ClientOptions Opts(const std::string& url, std::vector<std::string> sub) {
        redis::ClientOptions o;
        o.url = redis::ParseUrl(url).value();
        o.timeout = 2000ms;
        o.backoff_min = 20ms;
        o.backoff_max = 100ms;
        o.subscribe = std::move(sub);
        return o;
    }
    std::vector<BusEvent> Got() {
        std::lock_guard lock(mu);
        return got;
    }
    std::size_t Count(const std::string& topic) {
        std::size_t n = 0;
        for (const auto& e : Got()) n += e.topic == topic;
        return n;
    }
    redis::Client commands;
    redis::Client subscriber;
    RedisBus bus;
    std::mutex mu;
    std::vector<BusEvent> got;
};

TEST(RedisBus, OtherHubsGetTheEventsTheSenderDoesNot) {
    RedisServer server;
    server.Start();
    IoRunner runner;
    Hub a(runner.io(), server.Url(), "hub-a");
    Hub b(runner.io(), server.Url(), "hub-b");
    ASSERT_TRUE(WaitUntil([&] {
        return a.Count(kBusResynced) == 1 && b.Count(kBusResynced) == 1 && a.commands.up();
    }));
    a.bus.Publish({"catalog.changed", ""}, 0ms);
    a.bus.Publish({"key.revoked", "k1"}, 0ms);
    ASSERT_TRUE(WaitUntil([&] { return b.Count("key.revoked") == 1; }));
    EXPECT_EQ(b.Count("catalog.changed"), 1u);
    b.bus.Publish({"user.disabled", "u9"}, 0ms);
    ASSERT_TRUE(WaitUntil([&] { return a.Count("user.disabled") == 1; }));
    EXPECT_EQ(a.Count("catalog.changed"), 0u);  // never its own
    EXPECT_EQ(a.Count("key.revoked"), 0u);
}

TEST(RedisBus, KeptEventsAreReplayedToAHubThatWasNotThere) {
    RedisServer server;
    server.Start();
    IoRunner runner;
    Hub a(runner.io(), server.Url(), "hub-a");
    ASSERT_TRUE(WaitUntil([&] { return a.commands.up() && a.Count(kBusResynced) == 1; }));
    a.bus.Publish({"session.revoked", "s1"}, 60s);
    a.bus.Publish({"catalog.changed", ""}, 0ms);  // not kept
    ASSERT_TRUE(WaitUntil(
        [&] { return server.Cli("EXISTS bh:kept:session.revoked:s1").find("1") != std::string::npos; }));
    auto pttl = std::stoll(server.Cli("PTTL bh:kept:session.revoked:s1"));
    EXPECT_GT(pttl, 50'000);
    Hub late(runner.io(), server.Url(), "hub-late");
    ASSERT_TRUE(WaitUntil([&] { return late.Count(kBusResynced) == 1; }));
    auto got = late.Got();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], (BusEvent{"session.revoked", "s1"}));
    EXPECT_EQ(got[1].topic, kBusResynced);
    EXPECT_EQ(a.Count("session.revoked"), 0u);  // its own kept event is not replayed to it
}

TEST(RedisBus, AfterARedisRestartKeptEventsSentMeanwhileArriveThenResynced) {
    RedisServer server;
    server.Start();
    IoRunner runner;
    Hub a(runner.io(), server.Url(), "hub-a");
    Hub b(runner.io(), server.Url(), "hub-b");
    ASSERT_TRUE(WaitUntil([&] {
        return a.commands.up() && a.Count(kBusResynced) == 1 && b.Count(kBusResynced) == 1;
    }));
    server.Stop();
    ASSERT_TRUE(WaitUntil([&] { return !a.commands.up() && !b.subscriber.up(); }));
    a.bus.Publish({"session.revoked", "while-down"}, 60s);  // waits for Redis
    a.bus.Publish({"catalog.changed", ""}, 0ms);            // dropped
    EXPECT_EQ(a.bus.stats().dropped, 1u);
    server.Start();
    // b re-subscribes, replays what is kept and says it resynced; a's kept event was written
    // when its connection came back, so b gets it live or from the replay (idempotent).
    ASSERT_TRUE(WaitUntil([&] {
        return b.Count(kBusResynced) >= 2 && b.Count("session.revoked") >= 1;
    }));
    EXPECT_EQ(b.Count("catalog.changed"), 0u);
    ASSERT_TRUE(WaitUntil([&] {
        return server.Cli("EXISTS bh:kept:session.revoked:while-down").find("1") !=
               std::string::npos;
    }));
}

}  // namespace
}  // namespace hub::cache
