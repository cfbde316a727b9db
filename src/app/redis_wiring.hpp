#pragma once
// Many hubs as one: with BAILIAN_HUB_REDIS_URL, the shared rate limiter (limit::RedisLimiter)
// and the bus (cache::RedisBus) over two Redis connections (commands, and one that only
// subscribes). Without it, nothing here exists and the hub runs on its own as before.
#include <memory>

#include "async/asio.hpp"
#include "cache/bus.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "limit/token_bucket.hpp"

namespace hub::obs {
class Registry;
}
namespace hub::services {
class Health;
}

namespace hub::app {

struct Config;

struct RedisParts {
    struct Impl;
    std::unique_ptr<Impl> impl;  // null: no Redis (one hub)
    limit::Limiter* limiter = nullptr;
    cache::Bus* bus = nullptr;
    RedisParts();
    RedisParts(RedisParts&&) noexcept;
    ~RedisParts();
};

// Start-up. No URL: empty parts. A malformed URL, an unreachable Redis or a refused password:
// with redis_required an error (the caller logs its one line and exits 2), else a warning and
// the hub starts on its local fallback (a malformed URL: no Redis at all). `default_config` is
// the limiter's default policy; `local_clock` times the fallback buckets.
core::Result<RedisParts> SetUpRedis(const Config& cfg, net::io_context& io,
                                    const core::Clock& local_clock,
                                    const limit::BucketConfig& default_config,
                                    obs::Registry& metrics);

// /readyz checks.redis (never makes the hub unready).
void AddRedisHealth(services::Health& health, RedisParts& parts);

// After the bus's subscribers are in: connect.
void StartRedis(RedisParts& parts);

}  // namespace hub::app
