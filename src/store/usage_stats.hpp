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

// One bucket being summed, its latencies kept for the nearest-rank percentiles.
struct BucketAccumulator {
    UsageBucket bucket;
    std::vector<std::int64_t> latencies;
    void Add(const UsageSample& s);
    UsageBucket Finish(std::string key) &&;
};

class UsageAccumulator {
public:
    // Days are calendar days at UTC + tz_offset_minutes (e.g. 480 for Beijing time).
    explicit UsageAccumulator(UsageGroupBy group_by, int tz_offset_minutes = 0);
    void Add(const UsageSample& s);
    UsageStats Finish() &&;

private:
    using Acc = BucketAccumulator;
    UsageGroupBy group_by_;
    int tz_offset_minutes_;
    Acc totals_;
    std::map<std::string, Acc, std::less<>> groups_;
};

// ---- the statistics page: every grouping of one range from one pass over its rows ----

// Calls, tokens and cost of one model on one day (the stacked charts).
struct DayModelBucket {
    std::string day;
    std::string model;
    std::int64_t calls = 0;
    std::int64_t total_tokens = 0;
    std::int64_t cost_micro_cny = 0;
};

// A user or platform key ranked by cost (admin statistics; no percentiles).
struct RankedBucket {
    std::string key;  // user id, or platform key id ("" = calls without a key)
    std::int64_t calls = 0;
    std::int64_t total_tokens = 0;
    std::int64_t cost_micro_cny = 0;
    std::int64_t errors = 0;
};

struct UsageDashboard {
    UsageBucket totals;
    std::vector<UsageBucket> by_day;           // ascending by day
    std::vector<UsageBucket> by_model;         // descending by calls
    std::vector<DayModelBucket> by_day_model;  // ascending by day, then model
    std::vector<RankedBucket> top_users;       // descending by cost (with_top only)
    std::vector<RankedBucket> top_keys;        // descending by cost (with_top only)
};

// One row as the dashboard reads it (views valid for the duration of Add()).
struct DashboardSample {
    UsageSample usage;
    std::string_view user_id;
    std::string_view api_key_id;
};

class DashboardAccumulator {
public:
    // top_n > 0 also ranks users and platform keys by cost.
    DashboardAccumulator(int tz_offset_minutes, std::size_t top_n);
    void Add(const DashboardSample& s);
    UsageDashboard Finish() &&;

private:
    using Acc = BucketAccumulator;
    struct Lite {
        std::int64_t calls = 0, total_tokens = 0, cost_micro_cny = 0, errors = 0;
        void Add(const UsageSample& s);
    };
    struct Day {
        Acc acc;
        std::vector<Lite> models;  // by model index
    };
    // A ranked map with the last key looked up remembered (rows come in runs).
    struct Ranking {
        std::map<std::string, Lite, std::less<>> items;
        Lite* last = nullptr;
        std::string last_key;
        Lite& At(std::string_view key);
    };
    std::size_t ModelIndex(std::string_view model);
    static std::vector<RankedBucket> Rank(Ranking& from, std::size_t n);

    std::int64_t tz_ms_;
    std::size_t top_n_;
    Acc totals_;
    std::map<std::int64_t, Day> days_;  // day number (UTC + offset) -> figures
    std::vector<std::string> models_;
    std::vector<Acc> model_accs_;
    std::map<std::string, std::size_t, std::less<>> model_index_;
    Ranking users_;
    Ranking keys_;
    // The rows of a range come in time order: most rows hit the previous row's day.
    std::int64_t last_day_ = 0;
    Day* last_day_acc_ = nullptr;
    std::size_t last_model_ = static_cast<std::size_t>(-1);
};

// Nearest-rank percentile (p in (0, 100]) of values sorted ascending; 0 when empty.
std::int64_t NearestRankPercentile(const std::vector<std::int64_t>& sorted, double p);

// "YYYY-MM-DD" of an instant at UTC + tz_offset_minutes.
std::string DayKey(std::int64_t epoch_ms, int tz_offset_minutes);

}  // namespace hub::store
