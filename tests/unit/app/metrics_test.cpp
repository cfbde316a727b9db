#include "app/metrics.hpp"

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "obs/metrics.hpp"

namespace hub::app {
namespace {

TEST(MeteredLimiter, BucketIsThePolicyNeverTheClient) {
    EXPECT_EQ(MeteredLimiter::BucketOf("login:ip:203.0.113.7"), "login:ip");
    EXPECT_EQ(MeteredLimiter::BucketOf("login:account:alice"), "login:account");
    EXPECT_EQ(MeteredLimiter::BucketOf("register:ip:::1"), "register:ip");
    EXPECT_EQ(MeteredLimiter::BucketOf("user:"), "user:");
    EXPECT_EQ(MeteredLimiter::BucketOf("plain"), "plain");
}

TEST(MeteredLimiter, CountsDenialsOnlyAndPassesDecisionsThrough) {
    core::ManualClock clock(1'000'000);
    limit::LocalLimiter inner(clock, {});
    obs::Registry registry;
    MeteredLimiter limiter(inner, registry);
    limit::BucketConfig two{2, 0.001};
    auto check = [&limiter](std::string_view key, limit::BucketConfig cfg, double cost) {
        limit::BucketCheck c{key, cfg, cost, {}};
        EXPECT_TRUE(limiter.TryCheck(std::span<limit::BucketCheck>(&c, 1)));
        return c.decision;
    };
    EXPECT_TRUE(check("login:ip:10.0.0.1", two, 1).allowed);
    EXPECT_TRUE(check("login:ip:10.0.0.1", two, 1).allowed);
    auto denied = check("login:ip:10.0.0.1", two, 1);
    EXPECT_FALSE(denied.allowed);
    EXPECT_GT(denied.retry_after_ms, 0);
    EXPECT_FALSE(check("login:ip:10.0.0.2", {1, 0.001}, 5).allowed);
    // The blocking form (worker threads) counts too.
    EXPECT_FALSE(limiter.CheckBlocking("login:ip:10.0.0.2", {1, 0.001}, 5).allowed);
    auto text = registry.Render();
    EXPECT_NE(text.find("bailian_hub_rate_limit_rejections_total{bucket=\"login:ip\"} 3\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("10.0.0."), std::string::npos);
}

}  // namespace
}  // namespace hub::app
