#include "store/usage_stats.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <utility>

namespace hub::store {

std::int64_t NearestRankPercentile(const std::vector<std::int64_t>& sorted, double p) {
    if (sorted.empty()) return 0;
    auto n = static_cast<double>(sorted.size());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

std::string DayKey(std::int64_t epoch_ms, int tz_offset_minutes) {
    using namespace std::chrono;
    auto local = sys_time<milliseconds>(milliseconds(epoch_ms)) + minutes(tz_offset_minutes);
    year_month_day ymd{floor<days>(local)};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return buf;
}

UsageAccumulator::UsageAccumulator(UsageGroupBy group_by, int tz_offset_minutes)
    : group_by_(group_by), tz_offset_minutes_(tz_offset_minutes) {}

void UsageAccumulator::Acc::Add(const UsageSample& s) {
    bucket.calls += 1;
    bucket.input_tokens += s.input_tokens;
    bucket.output_tokens += s.output_tokens;
    bucket.total_tokens += s.input_tokens + s.output_tokens;
    bucket.images += s.image_count;
    bucket.cost_micro_cny += s.cost_micro_cny;
    bucket.errors += s.error ? 1 : 0;
    latencies.push_back(s.latency_ms);
}

UsageBucket UsageAccumulator::Acc::Finish(std::string key) && {
    std::sort(latencies.begin(), latencies.end());
    bucket.key = std::move(key);
    bucket.latency_p50_ms = NearestRankPercentile(latencies, 50);
    bucket.latency_p95_ms = NearestRankPercentile(latencies, 95);
    bucket.latency_p99_ms = NearestRankPercentile(latencies, 99);
    return std::move(bucket);
}

void UsageAccumulator::Add(const UsageSample& s) {
    totals_.Add(s);
    switch (group_by_) {
        case UsageGroupBy::kNone:
            break;
        case UsageGroupBy::kDay:
            groups_[DayKey(s.created_at, tz_offset_minutes_)].Add(s);
            break;
        case UsageGroupBy::kModel: {
            auto it = groups_.find(s.model);
            if (it == groups_.end()) it = groups_.emplace(std::string(s.model), Acc{}).first;
            it->second.Add(s);
            break;
        }
    }
}

UsageStats UsageAccumulator::Finish() && {
    UsageStats out;
    out.totals = std::move(totals_).Finish({});
    out.groups.reserve(groups_.size());
    for (auto& [key, acc] : groups_) out.groups.push_back(std::move(acc).Finish(key));
    return out;
}

}  // namespace hub::store
