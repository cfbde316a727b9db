#pragma once
// Readiness: database reachable, migrations current, and what the hub runs against.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "async/offload.hpp"
#include "store/store.hpp"

namespace hub::services {

class UpstreamKeys;
class LeaseRunner;

struct HealthReport {
    bool ready = false;
    nlohmann::json body;
};

class Health {
public:
    Health(store::Store& store, async::WorkerPool& db, bool demo_mode,
           const UpstreamKeys* keys = nullptr)
        : store_(store), db_(db), demo_mode_(demo_mode), keys_(keys) {}
    net::awaitable<HealthReport> Ready();
    // A check that shows in /readyz under checks.<name> but never makes the hub unready (Redis:
    // the hub falls back to local decisions). Before serving; `probe` is quick and thread-safe.
    void AddInformationalCheck(std::string name, std::function<nlohmann::json()> probe) {
        extra_.emplace_back(std::move(name), std::move(probe));
    }
    // /readyz then shows this hub's instance id and the leases it holds ("leases"); they never
    // make the hub unready (another hub may hold them).
    void SetLeases(const LeaseRunner* leases) { leases_ = leases; }
    bool demo_mode() const { return demo_mode_; }

private:
    store::Store& store_;
    async::WorkerPool& db_;
    bool demo_mode_;
    const UpstreamKeys* keys_;
    std::vector<std::pair<std::string, std::function<nlohmann::json()>>> extra_;
    const LeaseRunner* leases_ = nullptr;
};

}  // namespace hub::services
