#pragma once
// Metrics in the Prometheus text exposition format (version 0.0.4).
//
// A Registry owns labelled families of counters, gauges and histograms, and collectors that
// read state kept elsewhere at scrape time (pool depth, key pool, cache statistics). Recording
// is a family lookup under a short lock plus a few relaxed atomics; callers on hot paths may
// keep the reference `With()` returns, which stays valid as long as the registry.
//
// Cardinality is bounded: label values must come from closed sets (route patterns, status
// codes, catalog models), and a family still refuses to grow past `max_series` label sets:
// later new ones all land in one series whose label values are "_other" (and are counted in
// bailian_hub_metrics_series_overflow_total), so no input can make the registry grow without
// bound.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hub::obs {

enum class MetricType { kCounter, kGauge, kHistogram };

// Writes the text format: HELP/TYPE headers, samples, escaped label values, numbers.
class Exposition {
public:
    using Label = std::pair<std::string_view, std::string_view>;

    void Header(std::string_view name, std::string_view help, MetricType type);
    void Sample(std::string_view name, std::initializer_list<Label> labels, double value);
    void Sample(std::string_view name, const std::vector<Label>& labels, double value);
    // A sample whose label block (`a="x",b="y"`, escaped) is already rendered; `extra` is one
    // more rendered pair (a histogram's le) or empty.
    void SampleRendered(std::string_view name, std::string_view block, std::string_view extra,
                        double value);
    // A whole family of one unlabelled sample: HELP, TYPE and the value.
    void Single(std::string_view name, std::string_view help, MetricType type, double value);

    // Appends `name="value"` with the value escaped (backslash, quote, newline).
    static void AppendLabel(std::string& out, std::string_view name, std::string_view value);

    const std::string& text() const { return out_; }
    std::string Take() { return std::move(out_); }

    static std::string FormatNumber(double v);  // 3, 0.25, 1e+300, +Inf, NaN

private:
    std::string out_;
};

class Counter {
public:
    void Inc(double v = 1) {
        if (v > 0) value_.fetch_add(v, std::memory_order_relaxed);
    }
    double Value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

class Gauge {
public:
    void Set(double v) { value_.store(v, std::memory_order_relaxed); }
    void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
    void Sub(double v) { value_.fetch_sub(v, std::memory_order_relaxed); }
    double Value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

// Upper bounds (le) in increasing order; +Inf is implicit.
using Buckets = std::vector<double>;
// Seconds: request latency from 0.5 ms to 2 minutes.
const Buckets& LatencyBuckets();
// Seconds: time to first token and other slow upstream waits, 50 ms to 2 minutes.
const Buckets& SlowBuckets();

class Histogram {
public:
    explicit Histogram(std::shared_ptr<const Buckets> bounds);
    void Observe(double v);

    struct Snapshot {
        std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (= count)
        double sum = 0;
        std::uint64_t count = 0;
    };
    Snapshot Read() const;
    const Buckets& bounds() const { return *bounds_; }

private:
    std::shared_ptr<const Buckets> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, +Inf last
    std::atomic<double> sum_{0};
};

class Registry;

// The part of a family that does not depend on the metric kind.
class FamilyBase {
public:
    FamilyBase(std::string name, std::string help, std::vector<std::string> label_names,
               std::size_t max_series, Registry* owner);
    virtual ~FamilyBase() = default;
    FamilyBase(const FamilyBase&) = delete;
    FamilyBase& operator=(const FamilyBase&) = delete;

    const std::string& name() const { return name_; }
    virtual void Render(Exposition& out) const = 0;

protected:
    // The key of a label set is its rendered label block. When the family is full and the set
    // is new, the key of the overflow series. `values` must have one value per label name
    // (a mismatch is a bug: std::invalid_argument). Called with mu_ held.
    template <class Map>
    std::string KeyFor(std::initializer_list<std::string_view> values, const Map& series) const {
        std::string key = LabelBlock(values);
        if (series.size() < max_series_ || series.count(key)) return key;
        NoteOverflow();
        return overflow_key_;
    }
    std::string LabelBlock(std::initializer_list<std::string_view> values) const;
    void NoteOverflow() const;
    // The series' keys in order, for a stable exposition (the map is unordered for lookups).
    template <class Map>
    static std::vector<typename Map::const_pointer> Sorted(const Map& series) {
        std::vector<typename Map::const_pointer> out;
        out.reserve(series.size());
        for (const auto& entry : series) out.push_back(&entry);
        std::sort(out.begin(), out.end(), [](auto a, auto b) { return a->first < b->first; });
        return out;
    }

    std::string name_;
    std::string help_;
    std::vector<std::string> label_names_;
    std::size_t max_series_;
    Registry* owner_;
    std::string overflow_key_;
    mutable std::mutex mu_;
};

template <class M>
class Family final : public FamilyBase {
public:
    using FamilyBase::FamilyBase;
    Family(std::string name, std::string help, std::vector<std::string> label_names,
           std::size_t max_series, Registry* owner, std::shared_ptr<const Buckets> bounds)
        : FamilyBase(std::move(name), std::move(help), std::move(label_names), max_series, owner),
          bounds_(std::move(bounds)) {}

    // The series for these label values (created on first use).
    M& With(std::initializer_list<std::string_view> values) {
        std::lock_guard lock(mu_);
        std::string key = KeyFor(values, series_);
        auto it = series_.find(key);
        if (it == series_.end()) it = series_.emplace(std::move(key), Make()).first;
        return *it->second;
    }

    void Render(Exposition& out) const override;

private:
    static constexpr MetricType kType = std::is_same_v<M, Counter> ? MetricType::kCounter
                                        : std::is_same_v<M, Gauge> ? MetricType::kGauge
                                                                   : MetricType::kHistogram;
    std::unique_ptr<M> Make() const {
        if constexpr (std::is_same_v<M, Histogram>) {
            return std::make_unique<M>(bounds_);
        } else {
            return std::make_unique<M>();
        }
    }

    std::shared_ptr<const Buckets> bounds_;  // histograms only
    // Hashed: every call on the request path looks its series up here; keys share long
    // prefixes, which an ordered map would compare again at every level.
    std::unordered_map<std::string, std::unique_ptr<M>> series_;
};

// Counters and gauges: one sample per series. Histograms: the specialisation in the .cpp.
template <class M>
void Family<M>::Render(Exposition& out) const {
    out.Header(name_, help_, kType);
    std::lock_guard lock(mu_);
    for (const auto* entry : Sorted(series_))
        out.SampleRendered(name_, entry->first, {}, entry->second->Value());
}
template <>
void Family<Histogram>::Render(Exposition& out) const;

// Reads state at scrape time and writes whole families (Header + Samples) itself.
using Collector = std::function<void(Exposition&)>;

class Registry {
public:
    static constexpr std::size_t kDefaultMaxSeries = 500;

    Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // Names follow [a-zA-Z_:][a-zA-Z0-9_:]*, labels [a-zA-Z_][a-zA-Z0-9_]*; a bad or repeated
    // name throws std::invalid_argument (a programming error, found at start-up).
    Family<Counter>& AddCounter(std::string name, std::string help,
                                std::vector<std::string> labels = {},
                                std::size_t max_series = kDefaultMaxSeries);
    Family<Gauge>& AddGauge(std::string name, std::string help,
                            std::vector<std::string> labels = {},
                            std::size_t max_series = kDefaultMaxSeries);
    Family<Histogram>& AddHistogram(std::string name, std::string help,
                                    std::vector<std::string> labels, const Buckets& buckets,
                                    std::size_t max_series = kDefaultMaxSeries);
    void AddCollector(Collector collector);

    // The whole exposition: families in registration order, then the collectors'.
    std::string Render() const;

    std::uint64_t overflowed() const { return overflow_.load(std::memory_order_relaxed); }

private:
    friend class FamilyBase;
    void Reserve(const std::string& name, const std::vector<std::string>& labels);
    template <class M, class... Extra>
    Family<M>& Add(std::string name, std::string help, std::vector<std::string> labels,
                   std::size_t max_series, Extra&&... extra);

    mutable std::mutex mu_;
    std::vector<std::unique_ptr<FamilyBase>> families_;
    std::vector<Collector> collectors_;
    std::vector<std::string> names_;
    mutable std::atomic<std::uint64_t> overflow_{0};
};

// process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds,
// process_start_time_seconds, process_threads (read from /proc/self at scrape time).
void AddProcessCollector(Registry& registry);

}  // namespace hub::obs
