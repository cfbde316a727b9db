#include "rate_limit.hpp"

namespace hub::sim {

bool RpmLimiter::Allow(const std::string& key, std::int64_t now_ms) {
    if (rpm_ <= 0) return true;
    std::lock_guard lk(mu_);
    auto& w = windows_[key];
    while (!w.empty() && w.front() <= now_ms - 60'000) w.pop_front();
    if (static_cast<int>(w.size()) >= rpm_) return false;
    w.push_back(now_ms);
    return true;
}

void RpmLimiter::Reset() {
    std::lock_guard lk(mu_);
    windows_.clear();
}

}  // namespace hub::sim
