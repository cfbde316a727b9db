#pragma once
// Offload: run a blocking function on a worker pool and resume the caller afterwards.
// `co_await post(pool)` would resume on the io thread; co_spawn onto the pool really moves it.
#include <atomic>
#include <chrono>
#include <functional>
#include <type_traits>

#include "async/asio.hpp"

namespace hub::async {

template <class F>
net::awaitable<std::invoke_result_t<F>> CallOnce(F fn) {
    co_return fn();
}

// A bounded, named pool for blocking work (database, password hashing).
class WorkerPool {
public:
    WorkerPool(const char* name, std::size_t threads) : name_(name), pool_(threads) {}
    ~WorkerPool() { Stop(); }
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    net::thread_pool& pool() { return pool_; }
    const char* name() const { return name_; }
    // Jobs queued or running right now (for metrics and tests).
    long Pending() const { return pending_.load(); }
    void Stop() {
        Close();
        pool_.join();
    }
    // Shutdown began: jobs that check closing() (password hashes) give up instead of running,
    // so stopping does not wait for a queue of them. Jobs already running finish.
    void Close() { closing_.store(true); }
    bool closing() const { return closing_.load(); }

    // Told after every job how long it waited in the queue and how long it ran, in seconds
    // (metrics). Set it before the first Run().
    using Observer = std::function<void(double wait_s, double run_s)>;
    void SetObserver(Observer fn) { observer_ = std::move(fn); }

    // Runs fn(args...) on the pool; co_await the result. NOT a coroutine itself, on purpose:
    // g++ 12 destroys twice the captures of a lambda created inside a co_await expression
    // (GCC PR 100611). So call sites pass a lambda that captures only `this` or references,
    // and hand everything owned (strings, records) over as `args`, which are bound here.
    template <class F, class... Args>
    net::awaitable<std::invoke_result_t<F, Args...>> Run(F fn, Args... args) {
        ++pending_;
        auto job = [this, queued = Clock::now(), fn = std::move(fn),
                    ... args = std::move(args)]() mutable {
            struct Done {
                WorkerPool& pool;
                Clock::time_point queued;
                Clock::time_point began = Clock::now();
                ~Done() {
                    --pool.pending_;
                    if (pool.observer_) {
                        using S = std::chrono::duration<double>;
                        pool.observer_(S(began - queued).count(), S(Clock::now() - began).count());
                    }
                }
            } done{*this, queued};
            return fn(std::move(args)...);
        };
        return net::co_spawn(pool_, CallOnce(std::move(job)), net::use_awaitable);
    }

private:
    using Clock = std::chrono::steady_clock;
    const char* name_;
    Observer observer_;
    net::thread_pool pool_;
    std::atomic<long> pending_{0};
    std::atomic<bool> closing_{false};
};

}  // namespace hub::async
