#pragma once
// steady_clock behind the core::Clock interface, for token buckets: NowMs() counts from an
// arbitrary start and never jumps with the wall clock (NTP steps, a changed date), so a clock
// set forward cannot refill a bucket. Only differences mean something: never use it for
// timestamps that are stored or shown.
#include <chrono>

#include "core/clock.hpp"

namespace hub::limit {

class MonotonicClock final : public core::Clock {
public:
    std::chrono::system_clock::time_point Now() const override {
        return std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::steady_clock::now().time_since_epoch()));
    }
};

}  // namespace hub::limit
