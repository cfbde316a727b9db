#pragma once
// Token-bucket rate limiting.
//
// TokenBucket is pure: it is told the time (epoch milliseconds) on every call. A bucket holds
// up to `capacity` tokens (the burst) and gains `refill_per_second` tokens per second; a request
// of cost c passes when at least c tokens are there and takes them.
//
// Limiter is the interface the HTTP layer uses (the buckets of one request checked together);
// LocalLimiter keeps buckets in this process (sharded, bounded memory); RedisLimiter
// (limit/redis_limiter.hpp) shares them between hubs behind the same interface.
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "async/asio.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"

namespace hub::limit {

struct BucketConfig {
    double capacity = 60;          // burst size; RateLimit-Limit
    double refill_per_second = 1;  // sustained rate

    // Per minute, e.g. PerMinute(60) = 60 burst, 1/s; PerMinute(5, 5) = 5 burst, 1 per 12 s.
    static BucketConfig PerMinute(double per_minute, double burst = 0) {
        return {burst > 0 ? burst : per_minute, per_minute / 60.0};
    }
    // capacity >= 1 and refill_per_second > 0 (both finite).
    [[nodiscard]] core::Result<void> Validate() const;
    bool valid() const;  // the same, without building an error (checked on every call)
    friend bool operator==(const BucketConfig&, const BucketConfig&) = default;
};

// The answer for one request, with what the 429 / RateLimit-* headers need.
struct Decision {
    bool allowed = true;
    std::int64_t limit = 0;           // bucket capacity (RateLimit-Limit)
    std::int64_t remaining = 0;       // whole tokens left after this request (RateLimit-Remaining)
    std::int64_t retry_after_ms = 0;  // 0 when allowed; else when the cost will be available
    std::int64_t reset_ms = 0;        // until the bucket is full again (RateLimit-Reset)

    // Header values in whole seconds, rounded up (Retry-After is at least 1 when denied).
    std::int64_t RetryAfterSeconds() const;
    std::int64_t ResetSeconds() const;
};

class TokenBucket {
public:
    // Starts full at `now_ms`. `config` must be valid (see BucketConfig::Validate).
    TokenBucket(const BucketConfig& config, std::int64_t now_ms);

    // Takes `cost` tokens when available. cost 0 only reports the state. A cost above the
    // capacity can never pass: it is denied with retry_after_ms = the time to fill up.
    Decision Take(double cost, std::int64_t now_ms);
    Decision Peek(std::int64_t now_ms) { return Take(0, now_ms); }

    // Gives back (delta > 0, capped at the capacity) or takes unconditionally (delta < 0) tokens:
    // a refund of a reservation, or a charge settled after the fact (tokens used beyond an
    // estimate). A forced charge may leave the bucket in debt, at most one capacity deep; the
    // debt is repaid by the refill before anything passes again.
    void Adjust(double delta, std::int64_t now_ms);

    // Changes capacity and rate (an admin changed a quota), keeping the current level capped at
    // the new capacity.
    void Reconfigure(const BucketConfig& config, std::int64_t now_ms);

    // True when, at `now_ms`, the bucket is full: forgetting it changes nothing.
    bool IsFull(std::int64_t now_ms) const;

    const BucketConfig& config() const { return config_; }
    double tokens() const { return tokens_; }  // as of the last call

private:
    void Refill(std::int64_t now_ms);
    std::int64_t MsUntil(double tokens) const;  // until the level reaches `tokens`

    BucketConfig config_;
    double tokens_;
    std::int64_t updated_ms_;
};

// One bucket of a check: which, its policy and the cost; `decision` is the answer.
struct BucketCheck {
    std::string_view key;  // kept alive by the caller until the check returns
    BucketConfig config;
    double cost = 1;
    Decision decision;
};

// The first denied check, or nullptr when every one passed.
const BucketCheck* FirstDenied(std::span<const BucketCheck> checks);

class Limiter {
public:
    virtual ~Limiter() = default;

    // Charges each check's cost to the bucket for its key (e.g. "login:ip:203.0.113.7",
    // "rpm:user:<id>"), created with its config when absent and reconfigured when the config
    // changed — all or nothing: when one is denied, none is charged.
    //
    // Never blocks. Returns true when the answer was made at once (a local limiter always; a
    // shared one while on its local fallback); false when it needs a round trip: then nothing is
    // decided yet and the caller co_awaits CheckAsync with the same checks. So the local path
    // costs no coroutine frame.
    virtual bool TryCheck(std::span<BucketCheck> checks) = 0;
    virtual net::awaitable<void> CheckAsync(std::span<BucketCheck> checks);

    // Corrects the bucket for `key` by `delta` tokens without a decision: > 0 gives tokens back
    // (a reservation released), < 0 charges them even when the bucket is empty (usage known
    // only after the call). A missing bucket is created full first. Fire and forget.
    virtual void Adjust(std::string_view key, const BucketConfig& config, double delta) = 0;

    virtual const BucketConfig& default_config() const = 0;

    // One bucket, for code on a worker pool thread (never an io thread): waits for the answer
    // (at most the shared limiter's timeout, then its local fallback decides).
    virtual Decision CheckBlocking(std::string_view key, const BucketConfig& config,
                                   double cost) = 0;

    // One bucket, for a caller in a coroutine (costs a coroutine frame).
    net::awaitable<Decision> Check(std::string key, BucketConfig config, double cost);
};

struct LocalLimiterOptions {
    BucketConfig default_config;
    std::size_t max_buckets = 100'000;  // over all shards; least recently used evicted first
    std::size_t shards = 16;
};

// In-process buckets: a fixed number of shards, each a mutex-guarded LRU map. Idle buckets
// (refilled to full) can be dropped at any time without changing any answer; when a shard is
// over its share of max_buckets, its least recently used bucket is evicted.
class LocalLimiter final : public Limiter {
public:
    // Throws std::invalid_argument for an invalid default config or zero shards / max_buckets
    // (a start-up error).
    LocalLimiter(const core::Clock& clock, LocalLimiterOptions options);

    // One bucket, answered at once (hides Limiter::Check: a LocalLimiter never waits).
    Decision Check(std::string_view key, const BucketConfig& config, double cost);
    Decision Check(std::string_view key, double cost = 1) {
        return Check(key, options_.default_config, cost);
    }
    bool TryCheck(std::span<BucketCheck> checks) override;
    Decision CheckBlocking(std::string_view key, const BucketConfig& config, double cost) override {
        return Check(key, config, cost);
    }
    void Adjust(std::string_view key, const BucketConfig& config, double delta) override;
    const BucketConfig& default_config() const override { return options_.default_config; }

    // Drops every bucket that has refilled to full; returns how many (call it periodically).
    std::size_t SweepIdle();
    std::size_t size() const;
    std::uint64_t evictions() const;  // LRU evictions because of max_buckets

private:
    struct Node {
        std::string key;
        TokenBucket bucket;
    };
    struct Shard {
        mutable std::mutex mu;
        std::list<Node> lru;  // front = most recently used
        std::unordered_map<std::string_view, std::list<Node>::iterator> index;  // views Node::key
        std::uint64_t evictions = 0;
    };

    Shard& ShardFor(std::string_view key);
    // The bucket for `key` (created full with `config`, reconfigured when `config` changed);
    // the caller holds the shard's lock.
    TokenBucket& BucketLocked(Shard& shard, std::string_view key, const BucketConfig& config,
                              std::int64_t now);

    const core::Clock& clock_;
    LocalLimiterOptions options_;
    std::size_t per_shard_max_;
    std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace hub::limit
