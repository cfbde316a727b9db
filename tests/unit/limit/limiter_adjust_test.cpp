// Settling token charges after the fact: refunds, forced charges and debt, through the bucket
// and through the Limiter interface (LocalLimiter).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <limits>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "limit/token_bucket.hpp"

namespace hub::limit {
namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000;

TEST(TokenBucketAdjust, RefundIsCappedAtCapacity) {
    TokenBucket b({10, 1}, kT0);
    ASSERT_TRUE(b.Take(4, kT0).allowed);
    b.Adjust(+3, kT0);
    EXPECT_DOUBLE_EQ(b.tokens(), 9);
    b.Adjust(+100, kT0);
    EXPECT_DOUBLE_EQ(b.tokens(), 10);
}

TEST(TokenBucketAdjust, ForcedChargeGoesIntoDebtAndIsRepaidByTheRefill) {
    TokenBucket b({10, 1}, kT0);  // 1 token per second
    b.Adjust(-15, kT0);           // used 15 tokens where the bucket held 10
    EXPECT_DOUBLE_EQ(b.tokens(), -5);
    Decision d = b.Take(1, kT0);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.remaining, 0);           // never negative in headers
    EXPECT_EQ(d.retry_after_ms, 6'000);  // 5 of debt + the 1 asked for
    EXPECT_FALSE(b.Take(1, kT0 + 5'999).allowed);
    EXPECT_TRUE(b.Take(1, kT0 + 6'000).allowed);
}

TEST(TokenBucketAdjust, DebtIsAtMostOneCapacity) {
    TokenBucket b({10, 1}, kT0);
    b.Adjust(-1'000'000, kT0);
    EXPECT_DOUBLE_EQ(b.tokens(), -10);
}

TEST(TokenBucketAdjust, NonFiniteDeltasChangeNothing) {
    TokenBucket b({10, 1}, kT0);
    b.Adjust(std::numeric_limits<double>::quiet_NaN(), kT0);
    b.Adjust(std::numeric_limits<double>::infinity(), kT0);
    EXPECT_DOUBLE_EQ(b.tokens(), 10);
}

TEST(TokenBucketAdjust, AClockStepBackRefillsNothing) {
    TokenBucket b({10, 1}, kT0);
    ASSERT_TRUE(b.Take(10, kT0).allowed);
    b.Adjust(-2, kT0 - 3'600'000);  // charged while the clock read an hour earlier
    EXPECT_DOUBLE_EQ(b.tokens(), -2);
    EXPECT_FALSE(b.Take(1, kT0).allowed);  // coming back to kT0 gives nothing either
    EXPECT_TRUE(b.Take(1, kT0 + 3'000).allowed);
}

TEST(LocalLimiterAdjust, ReservationThenSettlementChargesWhatWasUsed) {
    core::ManualClock clock(kT0);
    LocalLimiter limiter(clock, {BucketConfig::PerMinute(60), 1000, 4});
    const BucketConfig tpm{100, 100.0 / 60};
    // Reserve an estimate of 30, then the call reports 50: net 50 charged.
    ASSERT_TRUE(limiter.Check("tpm:user:u1", tpm, 30).allowed);
    limiter.Adjust("tpm:user:u1", tpm, -50);  // usage recorded
    limiter.Adjust("tpm:user:u1", tpm, +30);  // reservation released
    Decision d = limiter.Check("tpm:user:u1", tpm, 0);
    EXPECT_EQ(d.remaining, 50);
    // A bucket never seen is created full before the correction.
    limiter.Adjust("tpm:user:u2", tpm, -40);
    EXPECT_EQ(limiter.Check("tpm:user:u2", tpm, 0).remaining, 60);
}

TEST(LocalLimiterAdjust, ABrokenPolicyIsIgnored) {
    core::ManualClock clock(kT0);
    LocalLimiter limiter(clock, {BucketConfig::PerMinute(60), 1000, 4});
    limiter.Adjust("x", BucketConfig{0, 0}, -5);
    EXPECT_EQ(limiter.size(), 0u);
}

TEST(LocalLimiterAdjust, ConcurrentTakersNeverExceedTheBurst) {
    core::ManualClock clock(kT0);  // time stands still: nothing refills
    LocalLimiter limiter(clock, {BucketConfig::PerMinute(60), 1000, 4});
    const BucketConfig rpm = BucketConfig::PerMinute(20, 20);
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i)
                if (limiter.Check("rpm:user:same", rpm, 1).allowed) ++allowed;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(allowed.load(), 20);
}

}  // namespace
}  // namespace hub::limit

namespace hub::limit {
namespace {

TEST(LocalLimiterTryCheck, AllBucketsOfACallOrNoneAndAlwaysAtOnce) {
    core::ManualClock clock(1'000'000);
    LocalLimiter limiter(clock, {BucketConfig::PerMinute(60), 1000, 4});
    const BucketConfig roomy{10, 0.001};
    const BucketConfig tight{1, 0.001};
    BucketCheck first{"tight", tight, 1, {}};
    ASSERT_TRUE(limiter.TryCheck(std::span<BucketCheck>(&first, 1)));
    ASSERT_TRUE(first.decision.allowed);
    std::array<BucketCheck, 2> checks{BucketCheck{"roomy", roomy, 3, {}},
                                      BucketCheck{"tight", tight, 1, {}}};
    ASSERT_TRUE(limiter.TryCheck(checks));
    EXPECT_EQ(FirstDenied(checks), &checks[1]);
    // The roomy bucket's 3 tokens were given back.
    EXPECT_EQ(limiter.Check("roomy", roomy, 0).remaining, 10);
}

}  // namespace
}  // namespace hub::limit
