#include "api/timing.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace hub::api {

namespace {

std::int64_t SteadyNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string ServerTimingValue(double hub_ms, double upstream_ms) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "hub;dur=%.1f, upstream;dur=%.1f", std::max(0.0, hub_ms),
                  std::max(0.0, upstream_ms));
    return buf;
}

void MarkRequestStart(http::Context& ctx) {
    if (ctx.attrs.count(kTimerAttr) == 0) ctx.attrs[kTimerAttr] = std::to_string(SteadyNs());
}

RequestTimer::RequestTimer(http::Context& ctx) : start_ns_(SteadyNs()) {
    auto it = ctx.attrs.find(kTimerAttr);
    if (it != ctx.attrs.end()) {
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
        if (ec == std::errc() && v > 0 && v <= start_ns_) start_ns_ = v;
    }
}

double RequestTimer::ElapsedMs() const { return static_cast<double>(SteadyNs() - start_ns_) / 1e6; }

void RequestTimer::Stamp(http::Response& r, double upstream_ms) const {
    double total = ElapsedMs();
    r.headers.Set("Server-Timing", ServerTimingValue(total - upstream_ms, upstream_ms));
}

}  // namespace hub::api
