// bench-limiter: what the limits cost one model call, measured in this process (bench/run.sh
// row 6). Every call on a model route pays Limits::Admit (budgets, overload cap, the request
// and token buckets of the user, and of the key when it has its own limits), renders the
// x-ratelimit-* headers of the answer and releases its Permit at the end. This times exactly
// that, with the in-process limiter the hub runs, on 1 thread and on N threads at once, over
// many users (so buckets are looked up in a populated map, not one hot entry).
//
// Output: one line per case, "case=<name> threads=<n> ns_per_call=<x> calls=<n>".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "limit/monotonic_clock.hpp"
#include "limit/token_bucket.hpp"
#include "services/limits.hpp"

namespace {

using hub::services::Limits;
using hub::services::Subject;

struct Setup {
    hub::core::SystemClock wall;
    hub::limit::MonotonicClock mono;
    hub::limit::LocalLimiter limiter{
        mono, hub::limit::LocalLimiterOptions{hub::limit::BucketConfig::PerMinute(120, 60),
                                              100'000, 16}};
    Limits limits;
    std::vector<Subject> subjects;

    explicit Setup(std::size_t users)
        : limits(limiter, wall, Config()) {
        for (std::size_t i = 0; i < users; ++i) {
            Subject s;
            char id[48];
            std::snprintf(id, sizeof id, "01JBENCHUSER%014zu", i);  // ids are 26 characters
            s.user_id = id;
            s.role = "user";
            if (i % 2 == 1) {  // half the calls come with a platform key with its own limits
                std::snprintf(id, sizeof id, "01JBENCHKEY0%014zu", i);
                s.api_key_id = id;
                s.key_limits.rpm = 1'000'000;
                s.key_limits.tpm = 100'000'000;
            }
            subjects.push_back(std::move(s));
        }
    }

    static hub::services::LimitsConfig Config() {
        hub::services::LimitsConfig c;
        // Limits high enough that nothing is refused: the cost of the admitted path.
        c.user.rate = {1'000'000'000, 1'000'000'000, 1'000'000'000, 1'000'000'000};
        c.user.budgets = {1'000'000'000'000, 1'000'000'000'000, 1'000'000'000'000,
                          1'000'000'000'000};
        c.max_concurrent_calls = 1'000'000;
        return c;
    }
};

// One model call's limiter work: admit, read the headers (as the answer does), release.
std::size_t OneCall(Limits& limits, const Subject& who) {
    auto admission = limits.Begin(who, 120);
    if (!limits.Ready(admission)) {
        std::fprintf(stderr, "the in-process limiter must answer at once\n");
        std::exit(1);
    }
    auto permit = limits.Finish(admission);
    if (!permit.ok()) {
        std::fprintf(stderr, "refused: %s\n", permit.error().public_message.c_str());
        std::exit(1);
    }
    std::size_t bytes = 0;
    for (const auto& [name, value] : permit->headers()) bytes += name.size() + value.size();
    return bytes;
}

double ThreadCpuNs() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// CPU time per call, summed over the threads: what the calls cost the machine, unaffected by
// other processes taking turns on the cores (contention between the threads still counts).
double Run(Setup& s, unsigned threads, std::size_t calls_per_thread) {
    std::atomic<std::size_t> sink{0};
    std::atomic<double> cpu_ns{0};
    std::atomic<unsigned> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            std::size_t local = 0;
            // Each thread calls for its own users (thread t: users t, t + threads, ...): two
            // cores rarely serve the same user at the same instant.
            std::size_t u = t;
            ++ready;
            while (!go.load()) {
            }
            const double c0 = ThreadCpuNs();
            for (std::size_t i = 0; i < calls_per_thread; ++i) {
                local += OneCall(s.limits, s.subjects[u]);
                u += 13 * threads;
                if (u >= s.subjects.size()) u = u % s.subjects.size() / threads * threads + t;
            }
            cpu_ns += ThreadCpuNs() - c0;
            sink += local;
        });
    }
    while (ready.load() < threads) {
    }
    go = true;
    for (auto& th : pool) th.join();
    if (sink.load() == 0) std::exit(1);
    return cpu_ns.load() / static_cast<double>(calls_per_thread * threads);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t calls = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
    unsigned threads = std::max(2u, std::thread::hardware_concurrency());
    // 100 callers: the buckets stay in the CPU's caches. 10,000 callers in random order: most
    // lookups miss the caches, the worst case for a big hub.
    for (std::size_t users : {std::size_t{100}, std::size_t{10'000}}) {
        Setup s(users);
        Run(s, 1, std::max<std::size_t>(calls / 10, users * 4));  // warm up: every bucket exists
        double one = 1e300, many = 1e300;
        for (int round = 0; round < 3; ++round) {  // best of three: the least disturbed run
            one = std::min(one, Run(s, 1, calls));
            many = std::min(many, Run(s, threads, calls / threads));
        }
        std::printf("case=admit_headers_release users=%zu threads=1 ns_per_call=%.0f calls=%zu\n",
                    users, one, calls);
        std::printf("case=admit_headers_release users=%zu threads=%u ns_per_call=%.0f calls=%zu\n",
                    users, threads, many, calls);
    }
    return 0;
}
