#include "limit/token_bucket.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace hub::limit {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kT0 = 1'700'000'000'000;

TEST(TokenBucket, BurstThenDenyWithRetryAfter) {
    TokenBucket b({5, 1}, kT0);  // 5 burst, 1 per second
    for (int i = 0; i < 5; ++i) {
        Decision d = b.Take(1, kT0);
        ASSERT_TRUE(d.allowed) << i;
        EXPECT_EQ(d.limit, 5);
        EXPECT_EQ(d.remaining, 4 - i);
        EXPECT_EQ(d.retry_after_ms, 0);
    }
    Decision denied = b.Take(1, kT0);
    EXPECT_FALSE(denied.allowed);
    EXPECT_EQ(denied.remaining, 0);
    EXPECT_EQ(denied.retry_after_ms, 1000);
    EXPECT_EQ(denied.reset_ms, 5000);
    EXPECT_EQ(denied.RetryAfterSeconds(), 1);
    EXPECT_EQ(denied.ResetSeconds(), 5);

    EXPECT_FALSE(b.Take(1, kT0 + 999).allowed);
    Decision later = b.Take(1, kT0 + 1000);
    EXPECT_TRUE(later.allowed);
    EXPECT_EQ(later.remaining, 0);
}

TEST(TokenBucket, RefillIsCappedAtCapacity) {
    TokenBucket b({3, 2}, kT0);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(b.Take(1, kT0).allowed);
    EXPECT_EQ(b.Peek(kT0 + 500).remaining, 1);  // 2 per second
    EXPECT_EQ(b.Peek(kT0 + 500).reset_ms, 1000);
    Decision full = b.Peek(kT0 + 3'600'000);
    EXPECT_EQ(full.remaining, 3);
    EXPECT_EQ(full.reset_ms, 0);
    EXPECT_TRUE(b.IsFull(kT0 + 3'600'000));
    // After an hour idle the burst is still only 3.
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(b.Take(1, kT0 + 3'600'000).allowed);
    EXPECT_FALSE(b.Take(1, kT0 + 3'600'000).allowed);
}

TEST(TokenBucket, RetryAfterIsExactForSlowRates) {
    // 5 per minute, burst 5: one token every 12 s.
    TokenBucket b(BucketConfig::PerMinute(5), kT0);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(b.Take(1, kT0).allowed);
    Decision d = b.Take(1, kT0);
    ASSERT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after_ms, 12'000);
    EXPECT_EQ(d.RetryAfterSeconds(), 12);
    EXPECT_EQ(d.reset_ms, 60'000);
    EXPECT_FALSE(b.Take(1, kT0 + 11'999).allowed);
    EXPECT_TRUE(b.Take(1, kT0 + 12'000).allowed);

    TokenBucket one_per_minute(BucketConfig::PerMinute(1), kT0);
    ASSERT_TRUE(one_per_minute.Take(1, kT0).allowed);
    Decision w = one_per_minute.Take(1, kT0 + 1);
    EXPECT_EQ(w.retry_after_ms, 59'999);
    EXPECT_TRUE(one_per_minute.Take(1, kT0 + 60'000).allowed);
}

TEST(TokenBucket, WeightedCosts) {
    TokenBucket b({10, 1}, kT0);
    EXPECT_TRUE(b.Take(7, kT0).allowed);
    Decision d = b.Take(5, kT0);
    EXPECT_FALSE(d.allowed);  // a denied request takes nothing
    EXPECT_EQ(d.remaining, 3);
    EXPECT_EQ(d.retry_after_ms, 2000);
    EXPECT_TRUE(b.Take(3, kT0).allowed);

    Decision too_big = b.Take(11, kT0 + 100'000);
    EXPECT_FALSE(too_big.allowed);  // more than the capacity never passes
    EXPECT_GT(too_big.retry_after_ms, 0);
    EXPECT_EQ(b.Peek(kT0 + 100'000).remaining, 10);

    EXPECT_TRUE(b.Take(0, kT0 + 100'000).allowed);
    EXPECT_TRUE(b.Take(-5, kT0 + 100'000).allowed);  // cannot add tokens
    EXPECT_EQ(b.Peek(kT0 + 100'000).remaining, 10);
    EXPECT_TRUE(b.Take(0.5, kT0 + 100'000).allowed);
    EXPECT_EQ(b.Peek(kT0 + 100'000).remaining, 9);  // whole tokens, rounded down
}

TEST(TokenBucket, ClockSteppingBackRefillsNothing) {
    TokenBucket b({2, 1}, kT0);
    ASSERT_TRUE(b.Take(2, kT0).allowed);
    EXPECT_FALSE(b.Take(1, kT0 - 10'000).allowed);
    EXPECT_FALSE(b.Take(1, kT0 + 999).allowed);
    EXPECT_TRUE(b.Take(1, kT0 + 1000).allowed);
}

TEST(TokenBucket, ReconfigureKeepsLevelWithinNewCapacity) {
    TokenBucket b({10, 1}, kT0);
    b.Reconfigure({4, 1}, kT0);
    EXPECT_EQ(b.Peek(kT0).remaining, 4);
    EXPECT_EQ(b.Peek(kT0).limit, 4);
    ASSERT_TRUE(b.Take(4, kT0).allowed);
    b.Reconfigure({100, 10}, kT0);
    EXPECT_EQ(b.Peek(kT0).remaining, 0);  // raising the limit does not grant a burst
    EXPECT_EQ(b.Peek(kT0 + 1000).remaining, 10);
}

TEST(BucketConfig, Validation) {
    EXPECT_TRUE((BucketConfig{1, 0.001}).Validate().ok());
    EXPECT_FALSE((BucketConfig{0, 1}).Validate().ok());
    EXPECT_FALSE((BucketConfig{0.5, 1}).Validate().ok());
    EXPECT_FALSE((BucketConfig{5, 0}).Validate().ok());
    EXPECT_FALSE((BucketConfig{5, -1}).Validate().ok());
    EXPECT_FALSE((BucketConfig{std::numeric_limits<double>::infinity(), 1}).Validate().ok());
    BucketConfig pm = BucketConfig::PerMinute(30, 10);
    EXPECT_DOUBLE_EQ(pm.capacity, 10);
    EXPECT_DOUBLE_EQ(pm.refill_per_second, 0.5);
}

TEST(Decision, HeaderSeconds) {
    Decision ok{true, 10, 9, 0, 1};
    EXPECT_EQ(ok.RetryAfterSeconds(), 0);
    EXPECT_EQ(ok.ResetSeconds(), 1);
    Decision soon{false, 10, 0, 1, 1001};
    EXPECT_EQ(soon.RetryAfterSeconds(), 1);  // never "Retry-After: 0" on a 429
    EXPECT_EQ(soon.ResetSeconds(), 2);
}

// ---- LocalLimiter -------------------------------------------------------------------------

LocalLimiterOptions Options(std::size_t max_buckets = 1000, std::size_t shards = 4) {
    LocalLimiterOptions o;
    o.default_config = {3, 1};
    o.max_buckets = max_buckets;
    o.shards = shards;
    return o;
}

TEST(LocalLimiter, KeysAreIndependent) {
    core::ManualClock clock(kT0);
    LocalLimiter limiter(clock, Options());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.Check("ip:1").allowed);
    Decision d = limiter.Check("ip:1");
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.limit, 3);
    EXPECT_EQ(d.retry_after_ms, 1000);
    EXPECT_TRUE(limiter.Check("ip:2").allowed);
    clock.Advance(milliseconds(1000));
    EXPECT_TRUE(limiter.Check("ip:1").allowed);
    EXPECT_EQ(limiter.size(), 2u);
}

TEST(LocalLimiter, PerCallPolicyAndPolicyChanges) {
    core::ManualClock clock(kT0);
    LocalLimiter limiter(clock, Options());
    BucketConfig strict = BucketConfig::PerMinute(2);
    EXPECT_TRUE(limiter.Check("login:bob", strict, 1).allowed);
    EXPECT_TRUE(limiter.Check("login:bob", strict, 1).allowed);
    Decision d = limiter.Check("login:bob", strict, 1);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after_ms, 30'000);

    // An admin raises the user's rpm: the bucket follows without a refill bonus.
    BucketConfig raised = BucketConfig::PerMinute(120);
    Decision after = limiter.Check("login:bob", raised, 1);
    EXPECT_FALSE(after.allowed);
    EXPECT_EQ(after.limit, 120);
    clock.Advance(milliseconds(500));
    EXPECT_TRUE(limiter.Check("login:bob", raised, 1).allowed);

    // A broken policy fails closed.
    Decision broken = limiter.Check("x", BucketConfig{0, 0}, 1);
    EXPECT_FALSE(broken.allowed);
    EXPECT_GT(broken.RetryAfterSeconds(), 0);
}

TEST(LocalLimiter, EvictsLeastRecentlyUsedWhenFull) {
    core::ManualClock clock(kT0);
    LocalLimiter limiter(clock, Options(3, 1));
    for (const char* k : {"a", "b", "c"}) {
        for (int i = 0; i < 3; ++i) limiter.Check(k);  // drain each
    }
    EXPECT_FALSE(limiter.Check("a").allowed);  // touch a: b is now the least recently used
    EXPECT_TRUE(limiter.Check("d").allowed);   // evicts b
    EXPECT_EQ(limiter.size(), 3u);
    EXPECT_EQ(limiter.evictions(), 1u);
    EXPECT_FALSE(limiter.Check("a").allowed);  // kept
    EXPECT_FALSE(limiter.Check("c").allowed);  // kept; d is now the least recently used
    EXPECT_EQ(limiter.evictions(), 1u);
    EXPECT_TRUE(limiter.Check("b").allowed);  // forgotten, starts full again; evicts d
    EXPECT_EQ(limiter.evictions(), 2u);
    EXPECT_EQ(limiter.size(), 3u);
}

TEST(LocalLimiter, MemoryStaysBoundedUnderKeySpraying) {
    core::ManualClock clock(kT0);
    LocalLimiter limiter(clock, Options(64, 4));
    for (int i = 0; i < 10'000; ++i) limiter.Check("spray:" + std::to_string(i));
    EXPECT_LE(limiter.size(), 64u);
    EXPECT_GE(limiter.evictions(), 10'000u - 64u);
}

TEST(LocalLimiter, SweepIdleDropsOnlyFullBuckets) {
    core::ManualClock clock(kT0);
    LocalLimiter limiter(clock, Options());
    limiter.Check("used-once");
    limiter.Check("drained", {3, 1}, 3);
    limiter.Check("peeked", {3, 1}, 0);
    EXPECT_EQ(limiter.size(), 3u);
    EXPECT_EQ(limiter.SweepIdle(), 1u);  // "peeked" is full
    clock.Advance(milliseconds(1000));
    EXPECT_EQ(limiter.SweepIdle(), 1u);  // "used-once" refilled
    EXPECT_EQ(limiter.size(), 1u);
    EXPECT_FALSE(limiter.Check("drained", {3, 1}, 3).allowed);  // its state survived
    clock.Advance(milliseconds(3000));
    EXPECT_EQ(limiter.SweepIdle(), 1u);
    EXPECT_EQ(limiter.size(), 0u);
}

TEST(LocalLimiter, ConcurrentChecksNeverOverAdmit) {
    core::ManualClock clock(kT0);  // frozen: no refill during the test
    LocalLimiterOptions o = Options();
    o.default_config = {100, 1};
    LocalLimiter limiter(clock, o);
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 60; ++i) {
                if (limiter.Check("shared").allowed) ++allowed;
                limiter.Check("other:" + std::to_string(i));
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(allowed.load(), 100);
}

TEST(LocalLimiter, RejectsBadOptions) {
    core::ManualClock clock(kT0);
    LocalLimiterOptions bad = Options();
    bad.default_config = {0, 1};
    EXPECT_THROW(LocalLimiter(clock, bad), std::invalid_argument);
    EXPECT_THROW(LocalLimiter(clock, Options(0, 4)), std::invalid_argument);
    EXPECT_THROW(LocalLimiter(clock, Options(10, 0)), std::invalid_argument);
}

TEST(LocalLimiter, UsableThroughTheInterface) {
    core::ManualClock clock(kT0);
    LocalLimiter local(clock, Options());
    Limiter& limiter = local;
    EXPECT_EQ(limiter.default_config(), (BucketConfig{3, 1}));
    auto check = [&limiter](double cost) {
        BucketCheck c{"k", limiter.default_config(), cost, {}};
        EXPECT_TRUE(limiter.TryCheck(std::span<BucketCheck>(&c, 1)));  // never waits
        return c.decision;
    };
    EXPECT_TRUE(check(1).allowed);
    EXPECT_TRUE(check(2).allowed);
    EXPECT_FALSE(check(1).allowed);
    EXPECT_FALSE(limiter.CheckBlocking("k", limiter.default_config(), 1).allowed);
}

}  // namespace
}  // namespace hub::limit
