#pragma once
// Usage statistics over api_calls rows, computed in C++ (same result for every dialect):
// totals and groups by day or by model, with nearest-rank latency percentiles.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hub::store {

enum class UsageGroupBy { kNone, kDay, kModel };

struct UsageBucket {
    std::string key;  // "YYYY-MM-DD" (day), the model name (model), empty for the totals
    std::int64_t calls = 0;
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    std::int64_t total_tokens = 0;
    std::int64_t images = 0;
    std::int64_t cost_micro_cny = 0;
    std::int64_t errors = 0;
    std::int64_t latency_p50_ms = 0;
    std::int64_t latency_p95_ms = 0;
    std::int64_t latency_p99_ms = 0;
};

struct UsageStats {
    UsageBucket totals;
    std::vector<UsageBucket> groups;  // ascending by key; empty for UsageGroupBy::kNone
};

// The fields of one call that the statistics need.
struct UsageSample {
    std::int64_t created_at = 0;
    std::string_view model;
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    std::int64_t image_count = 0;
    std::int64_t cost_micro_cny = 0;
    std::int64_t latency_ms = 0;
    bool error = false;
};

class UsageAccumulator {
public:
    // Days are calendar days at UTC + tz_offset_minutes (e.g. 480 for Beijing time).
    explicit UsageAccumulator(UsageGroupBy group_by, int tz_offset_minutes = 0);
    void Add(const UsageSample& s);
    UsageStats Finish() &&;

private:
    struct Acc {
        UsageBucket bucket;
        std::vector<std::int64_t> latencies;
        void Add(const UsageSample& s);
        UsageBucket Finish(std::string key) &&;
    };
    UsageGroupBy group_by_;
    int tz_offset_minutes_;
    Acc totals_;
    std::map<std::string, Acc, std::less<>> groups_;
};

// Nearest-rank percentile (p in (0, 100]) of values sorted ascending; 0 when empty.
std::int64_t NearestRankPercentile(const std::vector<std::int64_t>& sorted, double p);

// "YYYY-MM-DD" of an instant at UTC + tz_offset_minutes.
std::string DayKey(std::int64_t epoch_ms, int tz_offset_minutes);

}  // namespace hub::store
