// RedisLimiter against a real redis-server: the script holds to TokenBucket, hubs share
// buckets, and the local fallback takes over (and hands back) when Redis fails.
#include "limit/redis_limiter.hpp"

#include <gtest/gtest.h>

#include <random>

#include "core/clock.hpp"
#include "redis/client.hpp"
#include "support/io_runner.hpp"
#include "support/redis.hpp"

namespace hub::limit {
namespace {

using test::IoRunner;
using test::RedisServer;
using test::WaitUntil;
using namespace std::chrono_literals;

redis::ClientOptions ClientOpts(const std::string& url) {
    redis::ClientOptions o;
    o.url = redis::ParseUrl(url).value();
    o.timeout = 2000ms;
    o.backoff_min = 20ms;
    o.backoff_max = 100ms;
    return o;
}

RedisLimiterOptions LimiterOpts(const std::string& id) {
    RedisLimiterOptions o;
    o.default_config = BucketConfig::PerMinute(60);
    o.instance_id = id;
    o.timeout = 1000ms;
    o.probe_every = 20ms;
    o.heartbeat_every = 50ms;
    return o;
}

net::awaitable<bool> CheckAll(Limiter& l, std::span<BucketCheck> checks) {
    if (!l.TryCheck(checks)) co_await l.CheckAsync(checks);
    co_return FirstDenied(checks) == nullptr;
}

class RedisLimiterTest : public ::testing::Test {
protected:
    void SetUp() override {
        server_.Start();
        client_ = std::make_unique<redis::Client>(runner_.io(), ClientOpts(server_.Url()));
    }
    void TearDown() override {
        for (auto& l : limiters_) l->Stop();
        limiters_.clear();
        client_->Stop();
    }
    RedisLimiter& Make(RedisLimiterOptions o) {
        limiters_.push_back(std::make_unique<RedisLimiter>(runner_.io(), *client_, clock_, o));
        return *limiters_.back();
    }
    RedisLimiter& Make(const std::string& id) { return Make(LimiterOpts(id)); }
    void StartAll() {
        for (auto& l : limiters_) l->Start();
        client_->Start();
        ASSERT_TRUE(WaitUntil([&] {
            for (auto& l : limiters_)
                if (l->fallback_active()) return false;
            return true;
        }));
    }
    bool Take(Limiter& l, const std::string& key, BucketConfig cfg, double cost = 1) {
        BucketCheck c{key, cfg, cost, {}};
        return runner_.Run(CheckAll(l, std::span<BucketCheck>(&c, 1)));
    }

    RedisServer server_;
    IoRunner runner_;
    core::ManualClock clock_{1'700'000'000'000};
    std::unique_ptr<redis::Client> client_;
    std::vector<std::unique_ptr<RedisLimiter>> limiters_;
};

TEST_F(RedisLimiterTest, TheScriptIsTokenBucketOnTheSameSequence) {
    RedisLimiter& l = Make("a");
    StartAll();
    std::mt19937 rng(7);
    const BucketConfig configs[] = {{5, 0.5}, {60, 1}, {3, 1.0 / 12}, {1000, 1000.0 / 60}};
    for (int k = 0; k < 4; ++k) {
        const BucketConfig& cfg = configs[k];
        std::int64_t now = 1'000'000;
        TokenBucket pure(cfg, now);
        const std::string key = "seq:" + std::to_string(k);
        for (int step = 0; step < 150; ++step) {
            now += std::uniform_int_distribution<int>(0, 3000)(rng);
            int what = std::uniform_int_distribution<int>(0, 9)(rng);
            if (what < 2) {
                double delta = std::uniform_int_distribution<int>(-40, 40)(rng) / 4.0;
                if (delta == 0) continue;
                pure.Adjust(delta, now);
                ASSERT_TRUE(runner_.Run(l.EvalAdjust(key, cfg, delta, now)).ok());
                continue;
            }
            double cost = std::uniform_int_distribution<int>(0, 12)(rng) / 2.0;
            Decision want = pure.Take(cost, now);
            BucketCheck c{key, cfg, cost, {}};
            auto r = runner_.Run(l.EvalChecks(std::span<BucketCheck>(&c, 1), now));
            ASSERT_TRUE(r.ok()) << r.error().public_message;
            SCOPED_TRACE("config " + std::to_string(k) + " step " + std::to_string(step));
            EXPECT_EQ(c.decision.allowed, want.allowed);
            EXPECT_EQ(c.decision.limit, want.limit);
            EXPECT_EQ(c.decision.remaining, want.remaining);
            EXPECT_EQ(c.decision.retry_after_ms, want.retry_after_ms);
            EXPECT_EQ(c.decision.reset_ms, want.reset_ms);
        }
    }
}

TEST_F(RedisLimiterTest, TwoHubsShareOneBucketAndTheKeyExpiresWhenFull) {
    RedisLimiter& a = Make("hub-a");
    RedisLimiter& b = Make("hub-b");
    StartAll();
    const BucketConfig cfg{5, 0.001};
    int passed = 0;
    for (int i = 0; i < 4; ++i) passed += Take(a, "rpm:user:u1", cfg);
    for (int i = 0; i < 4; ++i) passed += Take(b, "rpm:user:u1", cfg);
    EXPECT_EQ(passed, 5);
    EXPECT_NE(server_.Cli("EXISTS bh:rl:rpm:user:u1").find("1"), std::string::npos);
    auto ttl = std::stoll(server_.Cli("PTTL bh:rl:rpm:user:u1"));
    EXPECT_GT(ttl, 4'000'000);  // 5 tokens at 1 per 1000 s
    // Both hubs announce themselves.
    EXPECT_TRUE(WaitUntil([&] { return a.state().live_hubs == 2 && b.state().live_hubs == 2; }));
}

TEST_F(RedisLimiterTest, AllBucketsOfACallOrNone) {
    RedisLimiter& l = Make("a");
    StartAll();
    const BucketConfig roomy{10, 0.001};
    const BucketConfig tight{1, 0.001};
    ASSERT_TRUE(Take(l, "tight", tight));
    std::array<BucketCheck, 2> checks{BucketCheck{"roomy", roomy, 1, {}},
                                      BucketCheck{"tight", tight, 1, {}}};
    EXPECT_FALSE(runner_.Run(CheckAll(l, checks)));
    EXPECT_EQ(FirstDenied(checks), &checks[1]);
    EXPECT_GE(checks[1].decision.retry_after_ms, 1);
    // Nothing was taken from the roomy bucket.
    BucketCheck peek{"roomy", roomy, 0, {}};
    ASSERT_TRUE(runner_.Run(CheckAll(l, std::span<BucketCheck>(&peek, 1))));
    EXPECT_EQ(peek.decision.remaining, 10);
}

TEST_F(RedisLimiterTest, FallsBackToItsShareWhenRedisStopsAndComesBack) {
    auto opts = LimiterOpts("a");
    opts.fallback_share = 0.5;
    RedisLimiter& l = Make(opts);
    std::mutex mu;
    std::vector<std::string> transitions;
    l.OnTransition([&](bool fallback, const std::string&) {
        auto st = l.state();  // a handler may read the state (as app/'s log line does)
        std::lock_guard lock(mu);
        transitions.push_back(std::string(fallback ? "local" : "shared") +
                              (st.fallback == fallback ? "" : "?"));
    });
    StartAll();
    const BucketConfig cfg{10, 0.001};
    EXPECT_TRUE(Take(l, "k", cfg));
    server_.Stop();
    ASSERT_TRUE(WaitUntil([&] { return l.fallback_active(); }));
    // The breaker is open: answered at once, on half the capacity.
    int passed = 0;
    for (int i = 0; i < 10; ++i) {
        BucketCheck c{"k", cfg, 1, {}};
        ASSERT_TRUE(l.TryCheck(std::span<BucketCheck>(&c, 1)));
        passed += c.decision.allowed;
        EXPECT_EQ(c.decision.limit, 5);
    }
    EXPECT_EQ(passed, 5);
    EXPECT_FALSE(l.state().last_error.empty());
    server_.Start();
    ASSERT_TRUE(WaitUntil([&] { return !l.fallback_active(); }));
    BucketCheck c{"k", cfg, 1, {}};
    EXPECT_FALSE(l.TryCheck(std::span<BucketCheck>(&c, 1)));  // shared again: a round trip
    EXPECT_TRUE(Take(l, "k", cfg));  // a fresh Redis: a full bucket
    std::lock_guard lock(mu);
    EXPECT_EQ(transitions, (std::vector<std::string>{"shared", "local", "shared"}));
}

TEST_F(RedisLimiterTest, ASlowRedisCostsOneTimeoutThenTheBreakerDecidesLocally) {
    auto opts = LimiterOpts("a");
    opts.timeout = 50ms;
    opts.probe_every = 5000ms;  // no probe during the test
    RedisLimiter& l = Make(opts);
    StartAll();
    const BucketConfig cfg{10, 0.001};
    server_.Pause();
    EXPECT_TRUE(Take(l, "slow", cfg));  // the timeout, then the local share (1 hub: all of it)
    EXPECT_TRUE(l.fallback_active());
    EXPECT_EQ(client_->stats().errors_timeout, 1u);
    BucketCheck c{"slow", cfg, 1, {}};
    EXPECT_TRUE(l.TryCheck(std::span<BucketCheck>(&c, 1)));  // no second timeout
    EXPECT_EQ(client_->stats().errors_timeout, 1u);
    server_.Resume();
}

TEST_F(RedisLimiterTest, FallbackShareFollowsTheLiveHubs) {
    RedisLimiter& a = Make("hub-a");
    Make("hub-b");
    Make("hub-c");
    Make("hub-d");
    StartAll();
    ASSERT_TRUE(WaitUntil([&] { return a.state().live_hubs == 4; }));
    EXPECT_DOUBLE_EQ(a.share(), 0.25);
    server_.Stop();
    ASSERT_TRUE(WaitUntil([&] { return a.fallback_active(); }));
    int passed = 0;
    for (int i = 0; i < 20; ++i) {
        BucketCheck c{"four", BucketConfig{20, 0.001}, 1, {}};
        ASSERT_TRUE(a.TryCheck(std::span<BucketCheck>(&c, 1)));
        passed += c.decision.allowed;
    }
    EXPECT_EQ(passed, 5);
}

TEST_F(RedisLimiterTest, AdjustIsFireAndForgetOnRedis) {
    RedisLimiter& l = Make("a");
    StartAll();
    const BucketConfig cfg{10, 0.001};
    ASSERT_TRUE(Take(l, "adj", cfg, 10));
    EXPECT_FALSE(Take(l, "adj", cfg, 1));
    l.Adjust("adj", cfg, 4);
    ASSERT_TRUE(WaitUntil([&] {
        BucketCheck peek{"adj", cfg, 0, {}};
        runner_.Run(CheckAll(l, std::span<BucketCheck>(&peek, 1)));
        return peek.decision.remaining == 4;
    }));
    // NOSCRIPT (scripts flushed): loaded again, the check still answers from Redis.
    server_.Cli("SCRIPT FLUSH");
    EXPECT_TRUE(Take(l, "adj", cfg, 1));
    EXPECT_FALSE(l.fallback_active());
}

TEST_F(RedisLimiterTest, CheckBlockingFromAWorkerThread) {
    RedisLimiter& l = Make("a");
    StartAll();
    const BucketConfig cfg{2, 0.001};
    EXPECT_TRUE(l.CheckBlocking("blk", cfg, 1).allowed);
    EXPECT_TRUE(l.CheckBlocking("blk", cfg, 1).allowed);
    EXPECT_FALSE(l.CheckBlocking("blk", cfg, 1).allowed);
}

}  // namespace
}  // namespace hub::limit
