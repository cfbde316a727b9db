#include "services/leases.hpp"

#include <boost/asio/strand.hpp>
#include <nlohmann/json.hpp>

#include "obs/logging.hpp"
#include "obs/metrics.hpp"

namespace hub::services {

using Change = LeaseTracker::Change;

// ---- the pure part ----

bool LeaseTracker::Due(std::int64_t now) const {
    return !in_flight_ && (!attempted_ || now - last_attempt_ >= ttl_ms_ / 3);
}

void LeaseTracker::Started(std::int64_t now) {
    in_flight_ = true;
    attempted_ = true;
    last_attempt_ = now;
}

Change LeaseTracker::Finished(std::int64_t started, const core::Result<store::LeaseState>& r,
                              std::int64_t now) {
    in_flight_ = false;
    if (!r.ok()) {
        last_error_ = r.error().api_code;
        return Check(now);
    }
    last_error_.clear();
    if (!r->held) {
        other_holder_ = r->lease.holder;
        if (!held_) return Change::kNone;
        held_ = false;
        return Change::kLost;
    }
    other_holder_.clear();
    if (held_ && r->lease.generation != generation_) {
        // Lost and taken again in between: the job restarts under the new generation.
        held_ = false;
        return Change::kLost;
    }
    last_ok_ = started;
    if (held_) return Check(now);
    held_ = true;
    generation_ = r->lease.generation;
    held_since_ = now;
    if (Check(now) == Change::kLost) return Change::kNone;  // answered too late to use
    return Change::kGained;
}

Change LeaseTracker::Check(std::int64_t now) {
    if (!held_ || now < deadline()) return Change::kNone;
    held_ = false;
    return Change::kLost;
}

void LeaseTracker::Drop() { held_ = false; }

// ---- the runner ----

struct LeaseRunner::Impl : std::enable_shared_from_this<LeaseRunner::Impl> {
    Impl(store::LeaseStore& store, async::WorkerPool& db, const core::Clock& clock,
         net::any_io_executor executor, LeaseRunnerConfig cfg)
        : store(store), db(db), clock(clock), strand(net::make_strand(executor)), timer(strand),
          cfg(std::move(cfg)) {}

    struct Job {
        std::string name;
        OnGained on_gained;
        OnLost on_lost;
        LeaseTracker tracker;
    };

    store::LeaseStore& store;
    async::WorkerPool& db;
    const core::Clock& clock;
    net::strand<net::any_io_executor> strand;
    net::steady_timer timer;
    const LeaseRunnerConfig cfg;
    mutable std::mutex mu;
    std::vector<Job> jobs;  // fixed after Start; trackers guarded by mu
    bool stopped = false;   // guarded by mu

    void Apply(std::size_t i, Change c, const char* reason) {
        Job& job = jobs[i];
        if (c == Change::kGained) {
            std::int64_t generation = 0;
            {
                std::lock_guard lk(mu);
                if (stopped) return;  // released at shutdown
                generation = job.tracker.generation();
            }
            obs::Info("lease_gained",
                      {{"lease", job.name}, {"generation", generation}, {"holder", cfg.holder}});
            job.on_gained(generation);
        } else if (c == Change::kLost) {
            std::string other, error;
            {
                std::lock_guard lk(mu);
                other = job.tracker.other_holder();
                error = job.tracker.last_error();
            }
            obs::Warn("lease_lost", {{"lease", job.name},
                                     {"reason", reason},
                                     {"now_held_by", other},
                                     {"error", error},
                                     {"holder", cfg.holder}});
            job.on_lost();
        }
    }

    static net::awaitable<void> Attempt(std::shared_ptr<Impl> self, std::size_t i,
                                        std::int64_t started) {
        Job& job = self->jobs[i];
        Impl* impl = self.get();  // a plain pointer: see WorkerPool::Run on lambda captures
        auto r = co_await self->db.Run(
            [impl](std::string name, std::string holder, std::int64_t ttl) {
                return impl->store.TryAcquire(name, holder, ttl);
            },
            job.name, self->cfg.holder, static_cast<std::int64_t>(self->cfg.ttl.count()));
        Change c = Change::kNone;
        {
            std::lock_guard lk(self->mu);
            c = job.tracker.Finished(started, r, self->clock.NowMs());
        }
        self->Apply(i, c, r.ok() ? "taken_over" : "renewal_failed");
    }

    net::awaitable<void> TickImpl(bool wait) {
        std::vector<std::size_t> lost;
        std::vector<std::size_t> due;
        const std::int64_t now = clock.NowMs();
        {
            std::lock_guard lk(mu);
            if (stopped) co_return;
            for (std::size_t i = 0; i < jobs.size(); ++i) {
                if (jobs[i].tracker.Check(now) == Change::kLost) lost.push_back(i);
                if (jobs[i].tracker.Due(now)) {
                    jobs[i].tracker.Started(now);
                    due.push_back(i);
                }
            }
        }
        for (std::size_t i : lost) Apply(i, Change::kLost, "renewal_overdue");
        for (std::size_t i : due) {
            if (wait) {
                co_await Attempt(shared_from_this(), i, now);
            } else {
                // Not awaited: a database call that hangs must not hold up the overdue check.
                net::co_spawn(strand, Attempt(shared_from_this(), i, now),
                              [name = jobs[i].name](std::exception_ptr e) {
                                  if (e) obs::Error("lease_attempt_failed", {{"lease", name}});
                              });
            }
        }
    }

    net::awaitable<void> Loop() {
        const auto every = std::max(std::chrono::milliseconds(1), cfg.ttl / 6);
        for (;;) {
            {
                std::lock_guard lk(mu);
                if (stopped) co_return;
            }
            co_await TickImpl(false);
            timer.expires_after(every);
            boost::system::error_code ec;
            co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
    }
};

LeaseRunner::LeaseRunner(store::LeaseStore& store, async::WorkerPool& db, const core::Clock& clock,
                         net::any_io_executor executor, LeaseRunnerConfig cfg)
    : impl_(std::make_shared<Impl>(store, db, clock, executor, cfg)), cfg_(cfg) {}

LeaseRunner::~LeaseRunner() { Stop(); }

void LeaseRunner::Add(std::string name, OnGained on_gained, OnLost on_lost) {
    std::lock_guard lk(impl_->mu);
    impl_->jobs.push_back({std::move(name), std::move(on_gained), std::move(on_lost),
                           LeaseTracker(cfg_.ttl.count())});
}

void LeaseRunner::AddMetrics(obs::Registry& metrics) {
    metrics.AddCollector([impl = impl_](obs::Exposition& out) {
        const char* n = "bailian_hub_lease_held";
        out.Header(n, "1 while this hub holds the lease of a job that runs on one hub at a time.",
                   obs::MetricType::kGauge);
        std::lock_guard lk(impl->mu);
        for (const auto& j : impl->jobs)
            out.Sample(n, {{"name", j.name}}, j.tracker.held() ? 1.0 : 0.0);
    });
}

void LeaseRunner::Start() {
    obs::Info("leases_started", {{"holder", cfg_.holder},
                                 {"ttl_ms", cfg_.ttl.count()},
                                 {"jobs", impl_->jobs.size()}});
    net::co_spawn(impl_->strand, impl_->Loop(), [](std::exception_ptr e) {
        if (e) obs::Error("lease_loop_stopped", {{"error", "exception"}});
    });
}

void LeaseRunner::Stop() {
    std::vector<std::size_t> held;
    {
        std::lock_guard lk(impl_->mu);
        if (impl_->stopped) return;
        impl_->stopped = true;
        for (std::size_t i = 0; i < impl_->jobs.size(); ++i)
            if (impl_->jobs[i].tracker.held()) held.push_back(i);
    }
    net::post(impl_->strand, [impl = impl_] { impl->timer.cancel(); });
    for (std::size_t i : held) {
        obs::Info("lease_stopping", {{"lease", impl_->jobs[i].name}});
        impl_->jobs[i].on_lost();
    }
}

void LeaseRunner::ReleaseBlocking() {
    std::vector<std::pair<std::string, std::int64_t>> held;
    {
        std::lock_guard lk(impl_->mu);
        for (auto& j : impl_->jobs) {
            if (!j.tracker.held()) continue;
            held.emplace_back(j.name, j.tracker.generation());
            j.tracker.Drop();
        }
    }
    for (const auto& [name, generation] : held) {
        auto r = impl_->store.Release(name, cfg_.holder, generation);
        obs::Info("lease_released",
                  {{"lease", name}, {"released", r.ok() && *r}, {"generation", generation}});
    }
}

net::awaitable<void> LeaseRunner::Tick() { co_await impl_->TickImpl(true); }

std::vector<HeldLease> LeaseRunner::Held() const {
    std::vector<HeldLease> out;
    std::lock_guard lk(impl_->mu);
    for (const auto& j : impl_->jobs) {
        if (j.tracker.held())
            out.push_back({j.name, j.tracker.generation(), j.tracker.held_since()});
    }
    return out;
}

bool LeaseRunner::Holds(const std::string& name) const {
    std::lock_guard lk(impl_->mu);
    for (const auto& j : impl_->jobs)
        if (j.name == name) return j.tracker.held();
    return false;
}

}  // namespace hub::services
