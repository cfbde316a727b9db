#pragma once
#include <cstdint>
#include <optional>
// The hub's metrics wiring: what the composition root hands to the registry besides the
// families the server and the usage recorder register themselves.
#include <string>
#include <vector>

#include "limit/token_bucket.hpp"
#include "store/store.hpp"

namespace hub::async {
class WorkerPool;
}
namespace hub::bailian {
class KeyPool;
}
namespace hub::cache {
class Cache;
}
namespace hub::obs {
class Registry;
template <class M>
class Family;
class Counter;
}  // namespace hub::obs

namespace hub::app {

// A Limiter that counts its denials in bailian_hub_rate_limit_rejections_total{bucket}, where
// bucket is the key up to its second ':' ("login:ip", "login:account", "register:ip") — the
// policy, never the client's address or name.
class MeteredLimiter final : public limit::Limiter {
public:
    MeteredLimiter(limit::Limiter& inner, obs::Registry& registry);

    bool TryCheck(std::span<limit::BucketCheck> checks) override;
    net::awaitable<void> CheckAsync(std::span<limit::BucketCheck> checks) override;
    limit::Decision CheckBlocking(std::string_view key, const limit::BucketConfig& config,
                                  double cost) override;
    void Adjust(std::string_view key, const limit::BucketConfig& config, double delta) override {
        inner_.Adjust(key, config, delta);
    }
    const limit::BucketConfig& default_config() const override { return inner_.default_config(); }

    static std::string_view BucketOf(std::string_view key);

private:
    void Count(std::span<const limit::BucketCheck> checks);

    limit::Limiter& inner_;
    obs::Family<obs::Counter>& rejections_;
};

// Queue depth and wait of the worker pools; the db pool's job time is the database operation
// latency (one repository call, its transaction and commit).
void ObservePools(obs::Registry& registry, async::WorkerPool& db, async::WorkerPool& crypto);

// Scrape-time readers: cache counters, the upstream key pool per key (state, in flight,
// requests, failures — never the secret), build info, the process.
// The store's read replica, when it has one: up, lag, and where heavy reads went.
void AddStoreCollectors(obs::Registry& registry, const store::Store& store);

void AddHubCollectors(obs::Registry& registry, const cache::Cache& cache,
                      const bailian::KeyPool& keys, std::string version, bool demo_mode);

// The kernel's count of connections dropped because a listen queue was full
// (TcpExt ListenOverflows in /proc/net/netstat: every listener of this network namespace).
// Nothing when it cannot be read.
std::optional<std::uint64_t> KernelListenOverflows();

}  // namespace hub::app
