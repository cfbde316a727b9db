#pragma once
// RedisLimiter: token buckets shared by every hub, in Redis. One Lua script (EVALSHA) checks all
// the buckets of a call at once, all or nothing, on Redis' clock (so hubs' clocks do not
// matter); a bucket's key expires once it would be full again. Same arithmetic as TokenBucket.
//
// Fallback: when Redis is down, erroring or slower than the timeout, decisions are made on local
// buckets whose capacity and rate are the configured ones times a share — the fixed
// `fallback_share`, else 1 / the number of live hubs last seen (each hub announces itself every
// second). After a failure it stays local at once (no timeout paid per request) until a
// background probe succeeds: a circuit breaker. Each transition is reported to OnTransition.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "async/asio.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "limit/token_bucket.hpp"

namespace hub::redis {
class Client;
}

namespace hub::limit {

struct RedisLimiterOptions {
    BucketConfig default_config;
    std::string instance_id;                // this hub, for the heartbeat key
    std::optional<double> fallback_share;   // 0 < x <= 1; unset = 1 / live hubs
    std::chrono::milliseconds timeout{50};  // a check's round trip; past it, local
    std::chrono::milliseconds heartbeat_every{1000};
    std::chrono::milliseconds probe_every{500};
    std::string prefix = "bh:";  // keys: <prefix>rl:<bucket>, <prefix>hub:<id>, <prefix>hubs
};

struct LimiterState {
    bool fallback = true;
    int live_hubs = 1;
    double share = 1;
    std::string last_error;
};

class RedisLimiter final : public Limiter {
public:
    // (fallback, why): true = now deciding locally, false = shared again.
    using TransitionHandler = std::function<void(bool fallback, const std::string& why)>;

    // `local_clock` times the fallback buckets. Starts on the fallback until Redis answers.
    RedisLimiter(net::io_context& io, redis::Client& client, const core::Clock& local_clock,
                 RedisLimiterOptions options);
    ~RedisLimiter() override;

    void OnTransition(TransitionHandler handler);  // before Start
    void Start();  // heartbeat and probe loop
    void Stop();   // the loop ends; this hub's heartbeat is withdrawn

    bool TryCheck(std::span<BucketCheck> checks) override;
    net::awaitable<void> CheckAsync(std::span<BucketCheck> checks) override;
    void Adjust(std::string_view key, const BucketConfig& config, double delta) override;
    Decision CheckBlocking(std::string_view key, const BucketConfig& config, double cost) override;
    const BucketConfig& default_config() const override { return options_.default_config; }

    // The script on Redis with an explicit time (ms; 0 = Redis' clock), no fallback: for tests
    // that hold it to TokenBucket. Fills the decisions or fails.
    net::awaitable<core::Result<void>> EvalChecks(std::span<BucketCheck> checks,
                                                  std::int64_t now_ms);
    // The same for an adjustment, awaited.
    net::awaitable<core::Result<void>> EvalAdjust(std::string key, BucketConfig config,
                                                  double delta, std::int64_t now_ms);

    bool fallback_active() const;
    LimiterState state() const;
    double share() const;

    static const char* Script();

    struct Shared;

private:
    void Trip(const std::string& why);
    void DecideLocally(std::span<BucketCheck> checks);

    redis::Client& client_;
    RedisLimiterOptions options_;
    LocalLimiter local_;
    std::shared_ptr<Shared> shared_;  // what the background loop shares with the limiter
};

}  // namespace hub::limit
