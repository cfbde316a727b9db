#pragma once
// Per-key requests-per-minute limit: a sliding 60 s window. Clock injected (now_ms). Thread-safe.
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace hub::sim {

class RpmLimiter {
public:
    explicit RpmLimiter(int rpm) : rpm_(rpm) {}
    // Counts the request and says whether it is allowed (rpm <= 0: always).
    bool Allow(const std::string& key, std::int64_t now_ms);
    void Reset();
    int rpm() const { return rpm_; }

private:
    int rpm_;
    std::mutex mu_;
    std::unordered_map<std::string, std::deque<std::int64_t>> windows_;
};

}  // namespace hub::sim
