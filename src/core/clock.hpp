#pragma once
// Injected time: production code asks a Clock, tests use ManualClock.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace hub::core {

class Clock {
public:
    virtual ~Clock() = default;
    virtual std::chrono::system_clock::time_point Now() const = 0;
    std::int64_t NowMs() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch())
            .count();
    }
    std::int64_t NowSeconds() const { return NowMs() / 1000; }
};

class SystemClock final : public Clock {
public:
    std::chrono::system_clock::time_point Now() const override {
        return std::chrono::system_clock::now();
    }
};

class ManualClock final : public Clock {
public:
    explicit ManualClock(std::int64_t start_ms = 1'700'000'000'000) : ms_(start_ms) {}
    std::chrono::system_clock::time_point Now() const override {
        return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_.load()));
    }
    void Advance(std::chrono::milliseconds d) { ms_ += d.count(); }
    void SetMs(std::int64_t ms) { ms_ = ms; }

private:
    std::atomic<std::int64_t> ms_;
};

// ISO-8601 UTC with milliseconds, e.g. 2026-11-26T05:02:58.123Z.
std::string FormatIsoMs(std::int64_t epoch_ms);

}  // namespace hub::core
