#include "obs/metrics.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <dirent.h>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace hub::obs {

namespace {

bool ValidName(std::string_view s, bool colon_ok) {
    if (s.empty()) return false;
    auto first_ok = [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
    };
    if (!first_ok(s.front())) return false;
    return std::all_of(s.begin(), s.end(), [&](char c) { return first_ok(c) || (c >= '0' && c <= '9'); });
}

const char* TypeName(MetricType t) {
    switch (t) {
        case MetricType::kCounter: return "counter";
        case MetricType::kGauge: return "gauge";
        case MetricType::kHistogram: return "histogram";
    }
    return "untyped";
}

}  // namespace

// ---- Exposition -----------------------------------------------------------------------------

std::string Exposition::FormatNumber(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == std::trunc(v) && std::fabs(v) < 1e15) {
        return std::to_string(static_cast<long long>(v));
    }
    char buf[64];
    // The shortest form that reads back exactly, %g style (0.0005, 1e+300).
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
    return std::string(buf, r.ptr);
}

void Exposition::AppendLabel(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += "=\"";
    if (value.find_first_of("\\\"\n") == std::string_view::npos) {  // nothing to escape
        out += value;
        out += '"';
        return;
    }
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    out += '"';
}

void Exposition::Header(std::string_view name, std::string_view help, MetricType type) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (char c : help) {  // HELP escapes backslash and newline only
        if (c == '\\') out_ += "\\\\";
        else if (c == '\n') out_ += "\\n";
        else out_ += c;
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += TypeName(type);
    out_ += '\n';
}

void Exposition::SampleRendered(std::string_view name, std::string_view block,
                                std::string_view extra, double value) {
    out_ += name;
    if (!block.empty() || !extra.empty()) {
        out_ += '{';
        out_ += block;
        if (!block.empty() && !extra.empty()) out_ += ',';
        out_ += extra;
        out_ += '}';
    }
    out_ += ' ';
    out_ += FormatNumber(value);
    out_ += '\n';
}

void Exposition::Single(std::string_view name, std::string_view help, MetricType type,
                        double value) {
    Header(name, help, type);
    SampleRendered(name, {}, {}, value);
}

void Exposition::Sample(std::string_view name, const std::vector<Label>& labels, double value) {
    std::string block;
    for (const auto& [k, v] : labels) {
        if (!block.empty()) block += ',';
        AppendLabel(block, k, v);
    }
    SampleRendered(name, block, {}, value);
}

void Exposition::Sample(std::string_view name, std::initializer_list<Label> labels, double value) {
    Sample(name, std::vector<Label>(labels), value);
}

// ---- Histogram ------------------------------------------------------------------------------

const Buckets& LatencyBuckets() {
    static const Buckets b = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                              0.25,   0.5,   1,      2.5,   5,    10,    30,   120};
    return b;
}

const Buckets& SlowBuckets() {
    static const Buckets b = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120};
    return b;
}

Histogram::Histogram(std::shared_ptr<const Buckets> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_->size() + 1)) {
    for (std::size_t i = 0; i <= bounds_->size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double v) {
    if (std::isnan(v)) return;
    // le semantics: the first bucket whose bound is >= v.
    auto it = std::lower_bound(bounds_->begin(), bounds_->end(), v);
    counts_[static_cast<std::size_t>(it - bounds_->begin())].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
    Snapshot s;
    s.cumulative.resize(bounds_->size() + 1);
    std::uint64_t total = 0;
    for (std::size_t i = 0; i <= bounds_->size(); ++i) {
        total += counts_[i].load(std::memory_order_relaxed);
        s.cumulative[i] = total;
    }
    s.count = total;  // from the buckets, so count always equals the +Inf bucket
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
}

// ---- Families -------------------------------------------------------------------------------

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names,
                       std::size_t max_series, Registry* owner)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)),
      max_series_(std::max<std::size_t>(1, max_series)), owner_(owner) {
    for (const auto& l : label_names_) {
        if (!overflow_key_.empty()) overflow_key_ += ',';
        Exposition::AppendLabel(overflow_key_, l, "_other");
    }
}

std::string FamilyBase::LabelBlock(std::initializer_list<std::string_view> values) const {
    if (values.size() != label_names_.size()) {
        throw std::invalid_argument("metric " + name_ + " takes " +
                                    std::to_string(label_names_.size()) + " label value(s)");
    }
    std::string block;
    std::size_t size = 0;
    for (std::size_t i = 0; i < label_names_.size(); ++i)
        size += label_names_[i].size() + (values.begin() + i)->size() + 4;
    block.reserve(size);
    std::size_t i = 0;
    for (auto v : values) {
        if (i) block += ',';
        Exposition::AppendLabel(block, label_names_[i++], v);
    }
    return block;
}

void FamilyBase::NoteOverflow() const {
    if (owner_) owner_->overflow_.fetch_add(1, std::memory_order_relaxed);
}

template <>
void Family<Histogram>::Render(Exposition& out) const {
    out.Header(name_, help_, MetricType::kHistogram);
    const std::string bucket = name_ + "_bucket", sum = name_ + "_sum", count = name_ + "_count";
    std::vector<std::string> le;
    for (double b : *bounds_) {
        std::string s;
        Exposition::AppendLabel(s, "le", Exposition::FormatNumber(b));
        le.push_back(std::move(s));
    }
    std::string le_inf;
    Exposition::AppendLabel(le_inf, "le", "+Inf");
    std::lock_guard lock(mu_);
    for (const auto* entry : Sorted(series_)) {
        const std::string& key = entry->first;
        auto snap = entry->second->Read();
        for (std::size_t i = 0; i < le.size(); ++i) {
            out.SampleRendered(bucket, key, le[i], static_cast<double>(snap.cumulative[i]));
        }
        out.SampleRendered(bucket, key, le_inf, static_cast<double>(snap.count));
        out.SampleRendered(sum, key, {}, snap.sum);
        out.SampleRendered(count, key, {}, static_cast<double>(snap.count));
    }
}

// ---- Registry -------------------------------------------------------------------------------

Registry::Registry() {
    AddCollector([this](Exposition& out) {
        out.Single("bailian_hub_metrics_series_overflow_total",
                   "Label sets folded into the _other series because a family was full.",
                   MetricType::kCounter, static_cast<double>(overflowed()));
    });
}

void Registry::Reserve(const std::string& name, const std::vector<std::string>& labels) {
    if (!ValidName(name, true)) throw std::invalid_argument("bad metric name '" + name + "'");
    for (const auto& l : labels) {
        if (!ValidName(l, false) || l == "le" || l.rfind("__", 0) == 0)
            throw std::invalid_argument("bad label name '" + l + "' on " + name);
    }
    if (std::find(names_.begin(), names_.end(), name) != names_.end())
        throw std::invalid_argument("metric " + name + " registered twice");
    names_.push_back(name);
}

template <class M, class... Extra>
Family<M>& Registry::Add(std::string name, std::string help, std::vector<std::string> labels,
                         std::size_t max_series, Extra&&... extra) {
    std::lock_guard lock(mu_);
    Reserve(name, labels);
    auto f = std::make_unique<Family<M>>(std::move(name), std::move(help), std::move(labels),
                                         max_series, this, std::forward<Extra>(extra)...);
    auto& ref = *f;
    families_.push_back(std::move(f));
    return ref;
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> labels, std::size_t max_series) {
    return Add<Counter>(std::move(name), std::move(help), std::move(labels), max_series);
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> labels, std::size_t max_series) {
    return Add<Gauge>(std::move(name), std::move(help), std::move(labels), max_series);
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<std::string> labels, const Buckets& buckets,
                                          std::size_t max_series) {
    if (buckets.empty() || !std::is_sorted(buckets.begin(), buckets.end()) ||
        std::adjacent_find(buckets.begin(), buckets.end()) != buckets.end() ||
        !std::all_of(buckets.begin(), buckets.end(), [](double b) { return std::isfinite(b); })) {
        throw std::invalid_argument("histogram " + name + " needs finite increasing buckets");
    }
    return Add<Histogram>(std::move(name), std::move(help), std::move(labels), max_series,
                          std::make_shared<const Buckets>(buckets));
}

void Registry::AddCollector(Collector collector) {
    std::lock_guard lock(mu_);
    collectors_.push_back(std::move(collector));
}

std::string Registry::Render() const {
    Exposition out;
    std::lock_guard lock(mu_);
    for (const auto& f : families_) f->Render(out);
    for (const auto& c : collectors_) c(out);
    return out.Take();
}

// ---- Process --------------------------------------------------------------------------------

namespace {

struct ProcStat {
    double cpu_seconds = 0;
    double start_time_seconds = 0;
    double threads = 0;
    double rss_bytes = 0;
    double virtual_bytes = 0;
};

double BootTimeSeconds() {
    std::ifstream f("/proc/stat");
    std::string key;
    double value = 0;
    while (f >> key) {
        if (key == "btime") {
            f >> value;
            return value;
        }
        f.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return 0;
}

bool ReadProcStat(ProcStat* out) {
    std::ifstream f("/proc/self/stat");
    std::string line;
    if (!std::getline(f, line)) return false;
    auto close = line.rfind(')');  // the command name may contain spaces and parentheses
    if (close == std::string::npos) return false;
    std::istringstream rest(line.substr(close + 2));
    std::vector<std::string> fields;  // fields[0] is field 3 (state)
    std::string tok;
    while (rest >> tok) fields.push_back(tok);
    if (fields.size() < 22) return false;
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    out->cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;  // utime + stime
    out->threads = std::stod(fields[17]);
    out->start_time_seconds = BootTimeSeconds() + std::stod(fields[19]) / ticks;
    out->virtual_bytes = std::stod(fields[20]);
    out->rss_bytes = std::stod(fields[21]) * page;
    return true;
}

double OpenFds() {
    DIR* d = opendir("/proc/self/fd");
    if (!d) return 0;
    double n = 0;
    while (auto* e = readdir(d)) {
        if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
    return n - 1;  // the directory stream itself
}

}  // namespace

void AddProcessCollector(Registry& registry) {
    registry.AddCollector([](Exposition& out) {
        ProcStat st;
        if (!ReadProcStat(&st)) return;
        out.Single("process_cpu_seconds_total", "User and system CPU time spent, in seconds.",
                   MetricType::kCounter, st.cpu_seconds);
        out.Single("process_resident_memory_bytes", "Resident memory size in bytes.",
                   MetricType::kGauge, st.rss_bytes);
        out.Single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                   MetricType::kGauge, st.virtual_bytes);
        out.Single("process_start_time_seconds", "Start time of the process since the epoch.",
                   MetricType::kGauge, st.start_time_seconds);
        out.Single("process_threads", "Threads of the process.", MetricType::kGauge, st.threads);
        out.Single("process_open_fds", "Open file descriptors.", MetricType::kGauge, OpenFds());
    });
}

}  // namespace hub::obs
