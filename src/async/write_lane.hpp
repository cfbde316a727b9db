#pragma once
// A write lane: a queue of write jobs run in batches (the SQLite store's writer), and
// RunWrite, through which a coroutine awaits one without holding a pool thread.
// Apart from offload.hpp (included nearly everywhere) so that only the write paths see it.
#include <atomic>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <type_traits>

#include "async/asio.hpp"
#include "async/offload.hpp"
#include "core/result.hpp"

namespace hub::async {

// The lane takes every queued job, runs each (inside one transaction shared by the batch),
// commits once, and then tells each job how the commit went.
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
    // Queues `job`. An implementation may run it at once on this thread when nothing else is
    // queued or running (run and done before returning); on a stopped lane done(error) is
    // called at once, before returning.
    virtual void Submit(Job job) = 0;
    // Jobs of RunWrite and RunWriteBlocking submitted and not yet completed (tests, metrics).
    long InFlight() const { return in_flight_.load(); }
    void CountInFlight(long delta) { in_flight_ += delta; }

private:
    std::atomic<long> in_flight_{0};
};

namespace lane_detail {
template <class R, class Call>
struct State {
    std::optional<Call> call;
    std::optional<R> result;
    std::exception_ptr exception;

    // On the lane's thread: runs the call, keeping its result or the exception it threw.
    void Run() {
        try {
            result.emplace((*call)());
        } catch (...) {
            exception = std::current_exception();
        }
    }
    // After the batch, when the call threw nothing: its result, unless the batch failed (the
    // COMMIT, or the BEGIN: then the call never ran) where the call had succeeded.
    R Settle(const core::Error* failed) {
        if (!result) {
            return failed != nullptr ? R(*failed)
                                     : R(core::Error::Make(core::ErrorCode::kInternal,
                                                           "database_error", "database error",
                                                           "write lane: job not run"));
        }
        if (failed != nullptr && result->ok()) return R(*failed);
        return std::move(*result);
    }
};
}  // namespace lane_detail

template <class R, class State>
net::awaitable<R> AwaitLane(WriteLane& lane, std::shared_ptr<State> state) {
    // Named, capturing only references to this frame (see WorkerPool::Run): the initiation.
    auto initiate = [&lane, &state](auto handler) {
        using H = decltype(handler);
        auto ex = net::prefer(net::get_associated_executor(handler),
                              net::execution::outstanding_work.tracked);
        auto h = std::make_shared<H>(std::move(handler));
        std::shared_ptr<State> st = state;
        lane.CountInFlight(1);
        WriteLane::Job job;
        job.run = [st] { st->Run(); };
        job.done = [lane = &lane, st, h = std::move(h), ex = std::move(ex)](
                       const core::Error* failed) mutable {
            std::optional<R> out;
            if (!st->exception) out.emplace(st->Settle(failed));
            st->call.reset();  // the captured arguments go now, on the lane's thread
            lane->CountInFlight(-1);
            // The handler moves into the posted function: it lives and dies on its executor.
            auto target = std::move(ex);
            net::post(target, [h = std::move(h), e = st->exception,
                               out = std::move(out)]() mutable { (*h)(e, std::move(out)); });
        };
        lane.Submit(std::move(job));
    };
    std::optional<R> out =
        co_await net::async_initiate<decltype(net::use_awaitable),
                                     void(std::exception_ptr, std::optional<R>)>(
            initiate, net::use_awaitable);
    co_return std::move(*out);
}

// The lane the process's writes take (SQLite: the store's writer thread), or nullptr (MariaDB:
// the db pool). Set once at start-up (app) and cleared at shutdown; tests set their own.
inline std::atomic<WriteLane*>& ProcessWriteLane() {
    static std::atomic<WriteLane*> lane{nullptr};
    return lane;
}

// Like pool.Run(fn, args...), for a job whose database work is writes (fn returns a
// core::Result): on the process's write lane when there is one, where it shares a
// transaction and one COMMIT with the other queued writes, and the caller resumes on its own
// executor after that COMMIT (no pool thread waits meanwhile). A failed COMMIT turns a
// successful result into that error; an exception from fn comes back here. Without a lane it
// is pool.Run. Not a coroutine, for the reason given at WorkerPool::Run.
template <class F, class... Args>
net::awaitable<std::invoke_result_t<F, Args...>> RunWrite(WorkerPool& pool, F fn, Args... args) {
    WriteLane* lane = ProcessWriteLane().load();
    if (lane == nullptr) return pool.Run(std::move(fn), std::move(args)...);
    using R = std::invoke_result_t<F, Args...>;
    auto call = [fn = std::move(fn), ... args = std::move(args)]() mutable {
        return fn(std::move(args)...);
    };
    auto state = std::make_shared<lane_detail::State<R, decltype(call)>>();
    state->call.emplace(std::move(call));
    return AwaitLane<R>(*lane, std::move(state));
}

// fn() -> core::Result<T>, from a thread that may block (a pool thread, never an io thread
// nor the lane's own): on the process's write lane when there is one, queued in turn with
// the other writes (a long series of such calls cannot keep them waiting: each waits its
// turn), and returns after the COMMIT of its batch; without a lane it is fn() here.
template <class F>
std::invoke_result_t<F> RunWriteBlocking(F fn) {
    using R = std::invoke_result_t<F>;
    WriteLane* lane = ProcessWriteLane().load();
    if (lane == nullptr) return fn();
    lane_detail::State<R, F> st;
    st.call.emplace(std::move(fn));
    std::optional<R> out;
    std::promise<void> finished;
    WriteLane::Job job;
    job.run = [&st] { st.Run(); };
    job.done = [&](const core::Error* failed) {
        if (!st.exception) out.emplace(st.Settle(failed));
        lane->CountInFlight(-1);
        finished.set_value();
    };
    lane->CountInFlight(1);
    lane->Submit(std::move(job));
    finished.get_future().wait();
    if (st.exception) std::rethrow_exception(st.exception);
    return std::move(*out);
}

}  // namespace hub::async
