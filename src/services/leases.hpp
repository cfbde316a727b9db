#pragma once
// Work that must run on exactly one hub at a time (the image-task poller, scheduled backups):
// each named job runs only while this hub holds its lease in the database (store::LeaseStore).
//
// The runner tries to take every job's lease, renews each held one every ttl/3, and stops a job
// (OnLost) when it cannot renew it: taken over, or the database unreachable for 2/3 of the ttl
// (measured from the start of the last successful renewal, so always before the lease expires
// in the database, which counts from a later moment). A dead hub's lease expires after the ttl
// and the next attempt of a live hub (at most ttl/3 later) takes it over. Every database call
// runs on the db worker pool, never on an io thread; the callbacks run on the runner's strand
// and must be quick (post the work elsewhere).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "async/offload.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/leases.hpp"

namespace hub::obs {
class Registry;
}

namespace hub::services {

// One job's lease as this hub sees it (pure; times in ms of the injected clock).
class LeaseTracker {
public:
    enum class Change { kNone, kGained, kLost };

    explicit LeaseTracker(std::int64_t ttl_ms) : ttl_ms_(ttl_ms) {}

    // Time to start an attempt (take or renew): none in flight, and ttl/3 since the last one.
    bool Due(std::int64_t now) const;
    void Started(std::int64_t now);
    // The answer of the attempt started at `started`.
    Change Finished(std::int64_t started, const core::Result<store::LeaseState>& r,
                    std::int64_t now);
    // Gives a held lease up once its renewal is overdue (2/3 of the ttl since the start of the
    // last successful attempt): the job must stop before the lease can expire.
    Change Check(std::int64_t now);
    // Forgets the lease (released at shutdown).
    void Drop();

    bool held() const { return held_; }
    bool in_flight() const { return in_flight_; }
    std::int64_t generation() const { return generation_; }
    std::int64_t held_since() const { return held_since_; }
    std::int64_t deadline() const { return last_ok_ + ttl_ms_ * 2 / 3; }
    const std::string& last_error() const { return last_error_; }
    const std::string& other_holder() const { return other_holder_; }

private:
    std::int64_t ttl_ms_;
    bool held_ = false;
    bool in_flight_ = false;
    bool attempted_ = false;
    std::int64_t last_attempt_ = 0;
    std::int64_t last_ok_ = 0;
    std::int64_t generation_ = 0;
    std::int64_t held_since_ = 0;
    std::string last_error_;
    std::string other_holder_;
};

struct LeaseRunnerConfig {
    std::chrono::milliseconds ttl{5000};
    std::string holder;  // core::InstanceId()
};

// A lease this hub holds (for /readyz).
struct HeldLease {
    std::string name;
    std::int64_t generation = 0;
    std::int64_t since_ms = 0;
};

class LeaseRunner {
public:
    using OnGained = std::function<void(std::int64_t generation)>;
    using OnLost = std::function<void()>;

    LeaseRunner(store::LeaseStore& leases, async::WorkerPool& db, const core::Clock& clock,
                net::any_io_executor executor, LeaseRunnerConfig cfg);
    ~LeaseRunner();
    LeaseRunner(const LeaseRunner&) = delete;
    LeaseRunner& operator=(const LeaseRunner&) = delete;

    // Adds a job (before Start). `on_gained` starts it, `on_lost` stops it.
    void Add(std::string name, OnGained on_gained, OnLost on_lost);
    // `bailian_hub_lease_held{name}` (1 while held).
    void AddMetrics(obs::Registry& metrics);

    // Ticks every ttl/6 on its strand until Stop.
    void Start();
    // Stops ticking, and every held job (OnLost). Call ReleaseBlocking afterwards, off the
    // io threads, so that another hub takes over at once instead of after the ttl.
    void Stop();
    void ReleaseBlocking();

    // One tick: gives up overdue leases and starts the attempts that are due. Completes when
    // those attempts have been answered (the loop does not wait for them; tests do).
    net::awaitable<void> Tick();

    std::vector<HeldLease> Held() const;
    bool Holds(const std::string& name) const;
    const std::string& holder() const { return cfg_.holder; }
    std::chrono::milliseconds ttl() const { return cfg_.ttl; }

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
    const LeaseRunnerConfig cfg_;
};

}  // namespace hub::services
