#include "app/metrics.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "async/offload.hpp"
#include "bailian/key_pool.hpp"
#include "cache/cache.hpp"
#include "obs/metrics.hpp"

namespace hub::app {

MeteredLimiter::MeteredLimiter(limit::Limiter& inner, obs::Registry& registry)
    : inner_(inner),
      rejections_(registry.AddCounter("bailian_hub_rate_limit_rejections_total",
                                      "Requests refused by a rate limit, by bucket policy.",
                                      {"bucket"}, 50)) {}

std::string_view MeteredLimiter::BucketOf(std::string_view key) {
    auto first = key.find(':');
    if (first == std::string_view::npos) return key;
    auto second = key.find(':', first + 1);
    return key.substr(0, second);
}

void MeteredLimiter::Count(std::span<const limit::BucketCheck> checks) {
    if (const auto* denied = limit::FirstDenied(checks)) {
        rejections_.With({BucketOf(denied->key)}).Inc();
    }
}

bool MeteredLimiter::TryCheck(std::span<limit::BucketCheck> checks) {
    if (!inner_.TryCheck(checks)) return false;
    Count(checks);
    return true;
}

net::awaitable<void> MeteredLimiter::CheckAsync(std::span<limit::BucketCheck> checks) {
    co_await inner_.CheckAsync(checks);
    Count(checks);
}

limit::Decision MeteredLimiter::CheckBlocking(std::string_view key,
                                              const limit::BucketConfig& config, double cost) {
    auto d = inner_.CheckBlocking(key, config, cost);
    if (!d.allowed) rejections_.With({BucketOf(key)}).Inc();
    return d;
}

void ObservePools(obs::Registry& registry, async::WorkerPool& db, async::WorkerPool& crypto) {
    auto& wait = registry.AddHistogram(
        "bailian_hub_worker_pool_wait_seconds",
        "Time jobs waited for a worker thread, by pool (db: database, crypto: password hashing).",
        {"pool"}, obs::LatencyBuckets());
    auto& db_ops = registry
                       .AddHistogram("bailian_hub_db_operation_duration_seconds",
                                     "Database operations (one repository call on the db pool, "
                                     "with its transaction and commit).",
                                     {}, obs::LatencyBuckets())
                       .With({});
    auto& db_wait = wait.With({"db"});
    auto& crypto_wait = wait.With({"crypto"});
    db.SetObserver([&db_ops, &db_wait](double wait_s, double run_s) {
        db_wait.Observe(wait_s);
        db_ops.Observe(run_s);
    });
    crypto.SetObserver([&crypto_wait](double wait_s, double) { crypto_wait.Observe(wait_s); });
    registry.AddCollector([&db, &crypto](obs::Exposition& out) {
        out.Header("bailian_hub_worker_pool_pending", "Jobs queued or running, by pool.",
                   obs::MetricType::kGauge);
        out.Sample("bailian_hub_worker_pool_pending", {{"pool", "db"}},
                   static_cast<double>(db.Pending()));
        out.Sample("bailian_hub_worker_pool_pending", {{"pool", "crypto"}},
                   static_cast<double>(crypto.Pending()));
    });
}

std::optional<std::uint64_t> KernelListenOverflows() {
    // Two lines per group: "TcpExt: Name1 Name2 ..." then "TcpExt: 1 2 ...".
    std::ifstream in("/proc/net/netstat");
    std::string names, values;
    while (std::getline(in, names) && std::getline(in, values)) {
        if (names.rfind("TcpExt:", 0) != 0) continue;
        std::istringstream n(names), v(values);
        std::string name, value;
        while (n >> name && v >> value) {
            if (name == "ListenOverflows") return std::strtoull(value.c_str(), nullptr, 10);
        }
    }
    return std::nullopt;
}

void AddStoreCollectors(obs::Registry& registry, const store::Store& store) {
    if (!store.Replica().configured) return;
    registry.AddCollector([&store](obs::Exposition& out) {
        store::ReplicaState r = store.Replica();
        out.Single("bailian_hub_db_replica_up",
                   "1 while heavy reads go to the read replica (reachable and within its lag "
                   "bound), else 0.",
                   obs::MetricType::kGauge, r.healthy ? 1.0 : 0.0);
        out.Single("bailian_hub_db_replica_lag_seconds",
                   "The read replica's lag behind the primary as last measured (-1: unknown).",
                   obs::MetricType::kGauge,
                   r.lag_ms < 0 ? -1.0 : static_cast<double>(r.lag_ms) / 1000.0);
        out.Header("bailian_hub_db_heavy_reads_total",
                   "Heavy reads (history, statistics, CSV, conversation lists) by where they ran.",
                   obs::MetricType::kCounter);
        out.Sample("bailian_hub_db_heavy_reads_total", {{"target", "replica"}},
                   static_cast<double>(r.reads_replica));
        out.Sample("bailian_hub_db_heavy_reads_total", {{"target", "primary"}},
                   static_cast<double>(r.reads_primary));
    });
}

void AddHubCollectors(obs::Registry& registry, const cache::Cache& cache,
                      const bailian::KeyPool& keys, std::string version, bool demo_mode) {
    registry.AddCollector([](obs::Exposition& out) {
        auto n = KernelListenOverflows();
        if (!n) return;
        out.Single("bailian_hub_tcp_listen_overflows_total",
                   "Connections the kernel dropped because a listen queue was full (every "
                   "listener in this network namespace; the hub's accept loop fell behind).",
                   obs::MetricType::kCounter, static_cast<double>(*n));
    });
    registry.AddCollector([version = std::move(version), demo_mode](obs::Exposition& out) {
        out.Header("bailian_hub_build_info", "Always 1; the version and mode as labels.",
                   obs::MetricType::kGauge);
        out.Sample("bailian_hub_build_info",
                   {{"version", version}, {"demo_mode", demo_mode ? "true" : "false"}}, 1);
    });
    registry.AddCollector([&cache](obs::Exposition& out) {
        auto s = cache.Stats();
        auto counter = [&out](const char* name, const char* help, std::int64_t v) {
            out.Single(name, help, obs::MetricType::kCounter, static_cast<double>(v));
        };
        auto gauge = [&out](const char* name, const char* help, std::int64_t v) {
            out.Single(name, help, obs::MetricType::kGauge, static_cast<double>(v));
        };
        counter("bailian_hub_cache_hits_total", "Cache lookups that found a value.", s.hits);
        counter("bailian_hub_cache_misses_total", "Cache lookups that found nothing.", s.misses);
        counter("bailian_hub_cache_evictions_total", "Entries pushed out by the bounds or expired.",
                s.evictions);
        gauge("bailian_hub_cache_entries", "Entries in the cache now.", s.entries);
        gauge("bailian_hub_cache_bytes", "Bytes of keys and values in the cache now.", s.bytes);
    });
    registry.AddCollector([&keys](obs::Exposition& out) {
        static constexpr bailian::KeyState kStates[] = {
            bailian::KeyState::kActive, bailian::KeyState::kCooling, bailian::KeyState::kProbing,
            bailian::KeyState::kDisabled, bailian::KeyState::kRetiring};
        auto snapshot = keys.Snapshot();
        out.Header("bailian_hub_upstream_key_state",
                   "1 for the state each upstream key is in (by key id and name), else 0.",
                   obs::MetricType::kGauge);
        for (const auto& k : snapshot) {
            for (auto st : kStates) {
                out.Sample("bailian_hub_upstream_key_state",
                           {{"key_id", k.id}, {"name", k.name}, {"state", bailian::KeyStateName(st)}},
                           k.state == st ? 1 : 0);
            }
        }
        // One sample per key, labelled by its id.
        auto per_key = [&](const char* name, const char* help, obs::MetricType type,
                           auto value_of) {
            out.Header(name, help, type);
            for (const auto& k : snapshot)
                out.Sample(name, {{"key_id", k.id}}, static_cast<double>(value_of(k)));
        };
        per_key("bailian_hub_upstream_key_in_flight", "Calls using each upstream key now.",
                obs::MetricType::kGauge, [](const bailian::KeyHealth& k) { return k.in_flight; });
        per_key("bailian_hub_upstream_key_requests_total",
                "Calls made with each upstream key since start.", obs::MetricType::kCounter,
                [](const bailian::KeyHealth& k) { return k.total_requests; });
        per_key("bailian_hub_upstream_key_failures_total",
                "Calls that counted against each upstream key (429, 401/403, 5xx).",
                obs::MetricType::kCounter,
                [](const bailian::KeyHealth& k) { return k.total_failures; });
    });
    obs::AddProcessCollector(registry);
}

}  // namespace hub::app
