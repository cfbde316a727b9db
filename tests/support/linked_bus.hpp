#pragma once
// Two cache::Bus objects connected to each other inside one process: the "two hubs" picture of
// unit tests. It stands in for the transport only (RedisBus is tested against a real Redis),
// and keeps the Bus contract (cache/bus.hpp):
// - Publish never blocks; events reach the other side's handlers later, on a delivery thread
//   of their own, in publish order, never the publisher's own handlers;
// - a side can be cut off (Disconnect): events not kept are lost both ways; kept ones
//   (keep_for > 0) are replayed to it when it reconnects, and the ones it published while cut
//   off reach the other side then; after the replay it receives kBusResynced.
// Drain() waits until everything queued so far was delivered (tests then check the outcome).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "cache/bus.hpp"

namespace hub::testing {

// Waits until `done()` holds (work a handler handed to a worker pool), polling; false after
// `limit` (a test failure, never a pass).
template <class Pred>
bool WaitUntil(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

class LinkedBuses {
public:
    class Side final : public cache::Bus {
    public:
        void Publish(const cache::BusEvent& event, std::chrono::milliseconds keep_for) override {
            owner_->Published(index_, event, keep_for);
        }
        void Subscribe(Handler handler) override {
            std::lock_guard lock(owner_->mu_);
            handlers_.push_back(std::move(handler));
        }
        // How many events this side's handlers received (kBusResynced included).
        std::size_t received() const {
            std::lock_guard lock(owner_->mu_);
            return received_;
        }
        std::vector<cache::BusEvent> log() const {
            std::lock_guard lock(owner_->mu_);
            return log_;
        }

    private:
        friend class LinkedBuses;
        LinkedBuses* owner_ = nullptr;
        int index_ = 0;
        bool connected_ = true;
        std::vector<Handler> handlers_;
        std::size_t received_ = 0;
        std::vector<cache::BusEvent> log_;  // what was delivered here, in order
    };

    LinkedBuses() {
        for (int i = 0; i < 2; ++i) {
            sides_[i].owner_ = this;
            sides_[i].index_ = i;
        }
        worker_ = std::thread([this] { Run(); });
    }
    ~LinkedBuses() {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        worker_.join();
    }
    LinkedBuses(const LinkedBuses&) = delete;
    LinkedBuses& operator=(const LinkedBuses&) = delete;

    Side& a() { return sides_[0]; }
    Side& b() { return sides_[1]; }

    void Disconnect(Side& side) {
        std::lock_guard lock(mu_);
        side.connected_ = false;
    }
    // Back: the kept events it missed (the other side's) are replayed to it, its own kept
    // events published while cut off go out to the other side, then it gets kBusResynced.
    void Reconnect(Side& side) {
        {
            std::lock_guard lock(mu_);
            if (side.connected_) return;
            side.connected_ = true;
            auto now = Clock::now();
            Side& other = sides_[1 - side.index_];
            for (const auto& k : kept_) {
                if (k.expires <= now) continue;
                if (k.from == side.index_) {
                    if (k.while_cut_off) queue_.push_back({other.index_, k.event});
                } else {
                    queue_.push_back({side.index_, k.event});
                }
            }
            for (auto& k : kept_) {
                if (k.from == side.index_) k.while_cut_off = false;
            }
            queue_.push_back({side.index_, cache::BusEvent{cache::kBusResynced, ""}});
        }
        cv_.notify_all();
    }
    // Waits until every event queued so far has been handled.
    void Drain() {
        std::unique_lock lock(mu_);
        idle_cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
    }

private:
    using Clock = std::chrono::steady_clock;
    struct Kept {
        int from;
        cache::BusEvent event;
        Clock::time_point expires;
        bool while_cut_off;
    };
    struct Delivery {
        int to;
        cache::BusEvent event;
    };

    void Published(int from, const cache::BusEvent& event, std::chrono::milliseconds keep_for) {
        {
            std::lock_guard lock(mu_);
            Side& self = sides_[from];
            Side& other = sides_[1 - from];
            if (keep_for.count() > 0)
                kept_.push_back({from, event, Clock::now() + keep_for, !self.connected_});
            if (self.connected_ && other.connected_) queue_.push_back({other.index_, event});
        }
        cv_.notify_all();
    }

    void Run() {
        std::unique_lock lock(mu_);
        for (;;) {
            cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
            if (stop_) return;
            Delivery d = std::move(queue_.front());
            queue_.pop_front();
            busy_ = true;
            Side& to = sides_[d.to];
            std::vector<cache::Bus::Handler> handlers = to.handlers_;
            ++to.received_;
            to.log_.push_back(d.event);
            lock.unlock();
            for (auto& h : handlers) h(d.event);
            lock.lock();
            busy_ = false;
            if (queue_.empty()) idle_cv_.notify_all();
        }
    }

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::condition_variable idle_cv_;
    std::deque<Delivery> queue_;
    std::vector<Kept> kept_;
    bool busy_ = false;
    bool stop_ = false;
    Side sides_[2];
    std::thread worker_;
};

}  // namespace hub::testing
