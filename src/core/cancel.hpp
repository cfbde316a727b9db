#pragma once
// A one-shot cancellation signal shared by a caller and the work it started: the caller
// Trigger()s it (its own client went away); the worker registered what to do (close the
// upstream socket). Thread-safe; the callback runs at most once.
#include <functional>
#include <mutex>

namespace hub::core {

class Cancel {
public:
    void Trigger() {
        std::function<void()> fn;
        {
            std::lock_guard lk(mu_);
            if (triggered_) return;
            triggered_ = true;
            fn = std::move(on_trigger_);
        }
        if (fn) fn();
    }
    bool triggered() const {
        std::lock_guard lk(mu_);
        return triggered_;
    }
    // Called at once when already triggered. Replaces any earlier callback.
    void OnTrigger(std::function<void()> fn) {
        {
            std::lock_guard lk(mu_);
            if (!triggered_) {
                on_trigger_ = std::move(fn);
                return;
            }
        }
        if (fn) fn();
    }
    void Clear() {
        std::lock_guard lk(mu_);
        on_trigger_ = nullptr;
    }

private:
    mutable std::mutex mu_;
    bool triggered_ = false;
    std::function<void()> on_trigger_;
};

}  // namespace hub::core
