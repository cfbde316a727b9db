#pragma once
// Server-Timing for the compatible surfaces: every non-streaming answer says how long the hub
// itself took and how long the upstream call took, e.g. "hub;dur=0.4, upstream;dur=812.3".
// The clock starts where authentication starts (RequireKeyOrJwt marks the context).
#include <chrono>
#include <cstdint>
#include <string>

#include "http/message.hpp"

namespace hub::api {

inline constexpr const char* kTimerAttr = "timing.start_ns";

std::string ServerTimingValue(double hub_ms, double upstream_ms);

// Marks the start of a request's own work (idempotent: the first mark wins).
void MarkRequestStart(http::Context& ctx);

class RequestTimer {
public:
    explicit RequestTimer(http::Context& ctx);
    double ElapsedMs() const;
    // Sets Server-Timing: hub = elapsed - upstream (never negative).
    void Stamp(http::Response& r, double upstream_ms) const;

private:
    std::int64_t start_ns_;
};

}  // namespace hub::api
