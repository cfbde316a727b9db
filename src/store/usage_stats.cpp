#include "store/usage_stats.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <utility>

namespace hub::store {

namespace {
// 0-based index of the nearest-rank p-th percentile among n > 0 values.
std::size_t NearestRankIndex(std::size_t n, double p) {
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
    return std::clamp<std::size_t>(rank, 1, n) - 1;
}
}  // namespace

std::int64_t NearestRankPercentile(const std::vector<std::int64_t>& sorted, double p) {
    if (sorted.empty()) return 0;
    return sorted[NearestRankIndex(sorted.size(), p)];
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

// ---- DashboardAccumulator ----

namespace {
constexpr std::int64_t kDayMs = 86'400'000;
std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
    return a / b - static_cast<std::int64_t>(a % b != 0 && (a < 0) != (b < 0));
}
}  // namespace

void BucketAccumulator::Add(const UsageSample& s) {
    bucket.calls += 1;
    bucket.input_tokens += s.input_tokens;
    bucket.output_tokens += s.output_tokens;
    bucket.total_tokens += s.input_tokens + s.output_tokens;
    bucket.images += s.image_count;
    bucket.cost_micro_cny += s.cost_micro_cny;
    bucket.errors += s.error ? 1 : 0;
    latencies.push_back(s.latency_ms);
}

UsageBucket BucketAccumulator::Finish(std::string key) && {
    bucket.key = std::move(key);
    // Nearest-rank percentiles by selection, not a full sort (linear in the row count):
    // p99 first, then p95 below it, then p50 below that.
    if (!latencies.empty()) {
        auto at = [&](double p) {
            return latencies.begin() +
                   static_cast<std::ptrdiff_t>(NearestRankIndex(latencies.size(), p));
        };
        auto p99 = at(99), p95 = at(95), p50 = at(50);
        std::nth_element(latencies.begin(), p99, latencies.end());
        std::nth_element(latencies.begin(), p95, p99);
        std::nth_element(latencies.begin(), p50, p95);
        bucket.latency_p99_ms = *p99;
        bucket.latency_p95_ms = *p95;
        bucket.latency_p50_ms = *p50;
    }
    return std::move(bucket);
}

void DashboardAccumulator::Lite::Add(const UsageSample& s) {
    calls += 1;
    total_tokens += s.input_tokens + s.output_tokens;
    cost_micro_cny += s.cost_micro_cny;
    errors += s.error ? 1 : 0;
}

DashboardAccumulator::DashboardAccumulator(int tz_offset_minutes, std::size_t top_n)
    : tz_ms_(std::int64_t{tz_offset_minutes} * 60'000), top_n_(top_n) {}

std::size_t DashboardAccumulator::ModelIndex(std::string_view model) {
    if (last_model_ < models_.size() && models_[last_model_] == model) return last_model_;
    if (models_.size() <= 32) {  // a few models: a scan beats the map
        for (std::size_t i = 0; i < models_.size(); ++i) {
            if (models_[i] == model) return last_model_ = i;
        }
    } else if (auto it = model_index_.find(model); it != model_index_.end()) {
        return last_model_ = it->second;
    }
    model_index_.emplace(std::string(model), models_.size());
    models_.emplace_back(model);
    model_accs_.emplace_back();
    return last_model_ = models_.size() - 1;
}

DashboardAccumulator::Lite& DashboardAccumulator::Ranking::At(std::string_view key) {
    if (last != nullptr && last_key == key) return *last;
    auto it = items.find(key);
    if (it == items.end()) it = items.emplace(std::string(key), Lite{}).first;
    last = &it->second;
    last_key = std::string(key);
    return *last;
}

void DashboardAccumulator::Add(const DashboardSample& s) {
    const UsageSample& u = s.usage;
    totals_.Add(u);
    std::int64_t day = FloorDiv(u.created_at + tz_ms_, kDayMs);
    if (last_day_acc_ == nullptr || day != last_day_) {
        last_day_ = day;
        last_day_acc_ = &days_[day];
    }
    Day& d = *last_day_acc_;
    d.acc.Add(u);
    std::size_t m = ModelIndex(u.model);
    model_accs_[m].Add(u);
    if (d.models.size() <= m) d.models.resize(m + 1);
    d.models[m].Add(u);
    if (top_n_ > 0) {
        users_.At(s.user_id).Add(u);
        keys_.At(s.api_key_id).Add(u);
    }
}

std::vector<RankedBucket> DashboardAccumulator::Rank(Ranking& from, std::size_t n) {
    std::vector<RankedBucket> out;
    out.reserve(from.items.size());
    for (auto& [key, l] : from.items)
        out.push_back({key, l.calls, l.total_tokens, l.cost_micro_cny, l.errors});
    std::sort(out.begin(), out.end(), [](const RankedBucket& a, const RankedBucket& b) {
        if (a.cost_micro_cny != b.cost_micro_cny) return a.cost_micro_cny > b.cost_micro_cny;
        if (a.calls != b.calls) return a.calls > b.calls;
        return a.key < b.key;
    });
    if (out.size() > n) out.resize(n);
    return out;
}

UsageDashboard DashboardAccumulator::Finish() && {
    UsageDashboard out;
    out.totals = std::move(totals_).Finish({});
    for (auto& [day, d] : days_) {
        std::string key = DayKey(day * kDayMs, 0);
        std::size_t first = out.by_day_model.size();
        for (std::size_t m = 0; m < d.models.size(); ++m) {
            const Lite& l = d.models[m];
            if (l.calls == 0) continue;
            out.by_day_model.push_back({key, models_[m], l.calls, l.total_tokens, l.cost_micro_cny});
        }
        std::sort(out.by_day_model.begin() + static_cast<std::ptrdiff_t>(first),
                  out.by_day_model.end(),
                  [](const DayModelBucket& a, const DayModelBucket& b) { return a.model < b.model; });
        out.by_day.push_back(std::move(d.acc).Finish(std::move(key)));
    }
    for (std::size_t i = 0; i < models_.size(); ++i)
        out.by_model.push_back(std::move(model_accs_[i]).Finish(models_[i]));
    std::sort(out.by_model.begin(), out.by_model.end(),
              [](const UsageBucket& a, const UsageBucket& b) {
                  return a.calls != b.calls ? a.calls > b.calls : a.key < b.key;
              });
    if (top_n_ > 0) {
        out.top_users = Rank(users_, top_n_);
        out.top_keys = Rank(keys_, top_n_);
    }
    return out;
}

}  // namespace hub::store
