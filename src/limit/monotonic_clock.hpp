#pragma once
// steady_clock behind the core::Clock interface, for token buckets: NowMs() counts from an
// arbitrary start and never jumps with the wall clock (NTP steps, a changed date), so a clock
// set forward cannot refill a bucket. Only differences mean something: never use it for
// timestamps that are stored or shown.
#include <chrono>
#include <ctime>

#include "core/clock.hpp"

namespace hub::limit {

class MonotonicClock final : public core::Clock {
public:
    // CLOCK_MONOTONIC_COARSE: the tick of the last timer interrupt (a few ms of resolution,
    // plenty for buckets that refill per second), read without touching the hardware clock.
    // Every model call reads it a few times.
    std::chrono::system_clock::time_point Now() const override {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
    }
};

}  // namespace hub::limit
