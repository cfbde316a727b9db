#include "store/usage_stats.hpp"

#include <gtest/gtest.h>

#include "store/models.hpp"

namespace hub::store {
namespace {

TEST(Percentile, NearestRank) {
    std::vector<std::int64_t> v;
    for (int i = 1; i <= 100; ++i) v.push_back(i * 10);
    EXPECT_EQ(NearestRankPercentile(v, 50), 500);
    EXPECT_EQ(NearestRankPercentile(v, 95), 950);
    EXPECT_EQ(NearestRankPercentile(v, 99), 990);
    EXPECT_EQ(NearestRankPercentile(v, 100), 1000);
    EXPECT_EQ(NearestRankPercentile({}, 50), 0);
    EXPECT_EQ(NearestRankPercentile({7}, 99), 7);
    EXPECT_EQ(NearestRankPercentile({1, 2, 3}, 50), 2);
}

TEST(DayKey, UsesTheOffset) {
    // 2023-11-14T22:13:20Z
    std::int64_t t = 1'700'000'000'000;
    EXPECT_EQ(DayKey(t, 0), "2023-11-14");
    EXPECT_EQ(DayKey(t, 480), "2023-11-15");  // Beijing
    EXPECT_EQ(DayKey(0, 0), "1970-01-01");
    EXPECT_EQ(DayKey(-1, 0), "1969-12-31");
}

TEST(IsErrorCall, StatusOrErrorCode) {
    EXPECT_FALSE(IsErrorCall(200, ""));
    EXPECT_TRUE(IsErrorCall(429, ""));
    EXPECT_TRUE(IsErrorCall(200, "stream_interrupted"));
}

UsageSample Sample(std::int64_t t, std::string_view model, std::int64_t latency, bool error) {
    return UsageSample{.created_at = t,
                       .model = model,
                       .input_tokens = 10,
                       .output_tokens = 5,
                       .image_count = model == "wanx" ? 2 : 0,
                       .cost_micro_cny = 100,
                       .latency_ms = latency,
                       .error = error};
}

TEST(UsageAccumulator, GroupsByModel) {
    UsageAccumulator acc(UsageGroupBy::kModel);
    acc.Add(Sample(1, "qwen-plus", 100, false));
    acc.Add(Sample(2, "qwen-plus", 300, true));
    acc.Add(Sample(3, "wanx", 50, false));
    UsageStats s = std::move(acc).Finish();
    EXPECT_EQ(s.totals.key, "");
    EXPECT_EQ(s.totals.calls, 3);
    EXPECT_EQ(s.totals.input_tokens, 30);
    EXPECT_EQ(s.totals.output_tokens, 15);
    EXPECT_EQ(s.totals.total_tokens, 45);
    EXPECT_EQ(s.totals.images, 2);
    EXPECT_EQ(s.totals.cost_micro_cny, 300);
    EXPECT_EQ(s.totals.errors, 1);
    EXPECT_EQ(s.totals.latency_p50_ms, 100);
    EXPECT_EQ(s.totals.latency_p99_ms, 300);
    ASSERT_EQ(s.groups.size(), 2u);
    EXPECT_EQ(s.groups[0].key, "qwen-plus");
    EXPECT_EQ(s.groups[0].calls, 2);
    EXPECT_EQ(s.groups[0].latency_p50_ms, 100);
    EXPECT_EQ(s.groups[0].latency_p95_ms, 300);
    EXPECT_EQ(s.groups[1].key, "wanx");
    EXPECT_EQ(s.groups[1].images, 2);
}

TEST(UsageAccumulator, GroupsByDayAndNone) {
    const std::int64_t day = 86'400'000;
    UsageAccumulator by_day(UsageGroupBy::kDay);
    by_day.Add(Sample(2 * day + 5, "m", 1, false));
    by_day.Add(Sample(0, "m", 1, false));
    by_day.Add(Sample(2 * day + 9, "m", 1, false));
    UsageStats s = std::move(by_day).Finish();
    ASSERT_EQ(s.groups.size(), 2u);
    EXPECT_EQ(s.groups[0].key, "1970-01-01");
    EXPECT_EQ(s.groups[1].key, "1970-01-03");
    EXPECT_EQ(s.groups[1].calls, 2);

    UsageStats none = UsageAccumulator(UsageGroupBy::kNone).Finish();
    EXPECT_EQ(none.totals.calls, 0);
    EXPECT_TRUE(none.groups.empty());
}

}  // namespace
}  // namespace hub::store
