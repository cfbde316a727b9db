#pragma once
// An io_context on its own threads for unit tests of async code: Run() waits for a coroutine's
// result from the test thread; WaitUntil polls a condition (never a fixed sleep).
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "async/asio.hpp"

namespace hub::test {

class IoRunner {
public:
    explicit IoRunner(int threads = 2) : guard_(net::make_work_guard(io_)) {
        for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
    }
    ~IoRunner() {
        guard_.reset();
        io_.stop();
        for (auto& t : threads_) t.join();
    }
    net::io_context& io() { return io_; }

    template <class T>
    T Run(net::awaitable<T> a) {
        return net::co_spawn(io_, std::move(a), net::use_future).get();
    }

private:
    net::io_context io_;
    net::executor_work_guard<net::io_context::executor_type> guard_;
    std::vector<std::thread> threads_;
};

// True once `pred` holds, false after `timeout`.
inline bool WaitUntil(const std::function<bool()>& pred,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll interval
    }
    return true;
}

}  // namespace hub::test
