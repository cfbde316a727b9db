#pragma once
// Offload: run a blocking function on a worker pool and resume the caller afterwards.
// `co_await post(pool)` would resume on the io thread; co_spawn onto the pool really moves it.
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

#include "async/asio.hpp"
#include "core/result.hpp"

namespace hub::async {

template <class F>
net::awaitable<std::invoke_result_t<F>> CallOnce(F fn) {
    co_return fn();
}

// A queue of write jobs run by one thread of its own (the SQLite store's writer): it takes
// every queued job, runs each (inside one transaction shared by the batch), commits once, and
// then tells each job how the commit went. The jobs never occupy a pool thread while they wait.
class WriteLane {
public:
    struct Job {
        // Runs on the lane's thread inside the batch's transaction; must not throw.
        std::function<void()> run;
        // After the batch: nullptr when its COMMIT succeeded (run's writes are durable), else
        // why it failed (COMMIT failed, the transaction could not begin, or the lane has
        // stopped: then run was never called). Called exactly once, on any thread.
        std::function<void(const core::Error* failed)> done;
    };
    virtual ~WriteLane() = default;
    // Queues `job`; on a stopped lane done(error) is called at once, before returning.
    virtual void Submit(Job job) = 0;
};

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

    // Writes go to this lane instead of the pool when one is set (SQLite: one writer thread);
    // nullptr = the pool (MariaDB: its connections commit in parallel). Set before RunWrite.
    void SetWriteLane(WriteLane* lane) { lane_ = lane; }
    WriteLane* write_lane() const { return lane_; }

    // Like Run, for a job whose database work is writes (fn returns a core::Result): on the
    // write lane when there is one, where it shares a transaction and one COMMIT with the
    // other queued writes; the caller resumes on its own executor after that COMMIT. A failed
    // COMMIT turns a successful result into that error; an exception from fn comes back here.
    // Not a coroutine, for the reason given at Run.
    template <class F, class... Args>
    net::awaitable<std::invoke_result_t<F, Args...>> RunWrite(F fn, Args... args) {
        if (lane_ == nullptr) return Run(std::move(fn), std::move(args)...);
        using R = std::invoke_result_t<F, Args...>;
        auto call = [fn = std::move(fn), ... args = std::move(args)]() mutable {
            return fn(std::move(args)...);
        };
        auto state = std::make_shared<LaneState<R, decltype(call)>>();
        state->call.emplace(std::move(call));
        return AwaitLane<R>(this, std::move(state));
    }

private:
    template <class R, class Call>
    struct LaneState {
        std::optional<Call> call;
        std::optional<R> result;
        std::exception_ptr exception;
    };

    template <class R, class State>
    static net::awaitable<R> AwaitLane(WorkerPool* self, std::shared_ptr<State> state) {
        // Named, capturing only references to this frame (see Run): the initiation.
        auto initiate = [self, &state](auto handler) {
            using H = decltype(handler);
            auto ex = net::prefer(net::get_associated_executor(handler),
                                  net::execution::outstanding_work.tracked);
            auto h = std::make_shared<H>(std::move(handler));
            std::shared_ptr<State> st = state;
            ++self->pending_;
            WriteLane::Job job;
            job.run = [st] {
                try {
                    st->result.emplace((*st->call)());
                } catch (...) {
                    st->exception = std::current_exception();
                }
            };
            job.done = [self, st, h = std::move(h), ex = std::move(ex)](
                           const core::Error* failed) mutable {
                std::optional<R> out;
                if (!st->exception) {
                    if (!st->result) {
                        out.emplace(failed != nullptr
                                        ? *failed
                                        : core::Error::Make(core::ErrorCode::kInternal,
                                                            "database_error", "database error",
                                                            "write lane: job not run"));
                    } else if (failed != nullptr && st->result->ok()) {
                        out.emplace(*failed);
                    } else {
                        out = std::move(st->result);
                    }
                }
                st->call.reset();  // the captured arguments go now, on the lane's thread
                --self->pending_;
                // The handler moves into the posted function: it lives and dies on its executor.
                auto target = std::move(ex);
                net::post(target, [h = std::move(h), e = st->exception,
                                   out = std::move(out)]() mutable { (*h)(e, std::move(out)); });
            };
            self->lane_->Submit(std::move(job));
        };
        std::optional<R> out =
            co_await net::async_initiate<decltype(net::use_awaitable),
                                         void(std::exception_ptr, std::optional<R>)>(
                initiate, net::use_awaitable);
        co_return std::move(*out);
    }

    using Clock = std::chrono::steady_clock;
    WriteLane* lane_ = nullptr;
    const char* name_;
    Observer observer_;
    net::thread_pool pool_;
    std::atomic<long> pending_{0};
    std::atomic<bool> closing_{false};
};

}  // namespace hub::async
