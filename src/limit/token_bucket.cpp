#include "limit/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

namespace hub::limit {
namespace {

// Refill arithmetic is in doubles; this absorbs rounding (e.g. 60000 ms at 1/60 per second
// must give back exactly one token).
constexpr double kEpsilon = 1e-9;

std::int64_t CeilDiv1000(std::int64_t ms) { return ms <= 0 ? 0 : (ms + 999) / 1000; }

}  // namespace

bool BucketConfig::valid() const {
    return std::isfinite(capacity) && capacity >= 1 && std::isfinite(refill_per_second) &&
           refill_per_second > 0;
}

core::Result<void> BucketConfig::Validate() const {
    if (!valid()) {
        return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_config",
                                 "rate limit needs a capacity of at least 1 and a positive rate");
    }
    return core::Ok();
}

std::int64_t Decision::RetryAfterSeconds() const {
    if (allowed) return 0;
    return std::max<std::int64_t>(1, CeilDiv1000(retry_after_ms));
}

std::int64_t Decision::ResetSeconds() const { return CeilDiv1000(reset_ms); }

const BucketCheck* FirstDenied(std::span<const BucketCheck> checks) {
    for (const auto& c : checks) {
        if (!c.decision.allowed) return &c;
    }
    return nullptr;
}

net::awaitable<void> Limiter::CheckAsync(std::span<BucketCheck> checks) {
    (void)TryCheck(checks);
    co_return;
}

net::awaitable<Decision> Limiter::Check(std::string key, BucketConfig config, double cost) {
    BucketCheck c{key, config, cost, {}};
    std::span<BucketCheck> one(&c, 1);
    if (!TryCheck(one)) co_await CheckAsync(one);
    co_return c.decision;
}

TokenBucket::TokenBucket(const BucketConfig& config, std::int64_t now_ms)
    : config_(config), tokens_(config.capacity), updated_ms_(now_ms) {}

void TokenBucket::Refill(std::int64_t now_ms) {
    if (now_ms <= updated_ms_) return;  // a clock that steps back refills nothing
    double gained = static_cast<double>(now_ms - updated_ms_) * config_.refill_per_second / 1000.0;
    tokens_ = std::min(config_.capacity, tokens_ + gained);
    if (tokens_ > config_.capacity - kEpsilon) tokens_ = config_.capacity;
    updated_ms_ = now_ms;
}

std::int64_t TokenBucket::MsUntil(double target) const {
    double missing = target - tokens_;
    if (missing <= kEpsilon) return 0;
    double ms = missing * 1000.0 / config_.refill_per_second;
    return static_cast<std::int64_t>(std::ceil(ms - 1e-6));
}

Decision TokenBucket::Take(double cost, std::int64_t now_ms) {
    if (!(cost > 0)) cost = 0;  // negative or NaN costs must not add tokens
    Refill(now_ms);
    Decision d;
    d.limit = static_cast<std::int64_t>(std::floor(config_.capacity + kEpsilon));
    if (cost <= config_.capacity + kEpsilon && tokens_ + kEpsilon >= cost) {
        tokens_ = std::max(0.0, tokens_ - cost);
        d.allowed = true;
    } else {
        d.allowed = false;
        d.retry_after_ms = MsUntil(std::min(cost, config_.capacity));
        if (d.retry_after_ms == 0) d.retry_after_ms = 1;  // cost above capacity on a full bucket
    }
    d.remaining = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(tokens_ + kEpsilon)));
    d.reset_ms = MsUntil(config_.capacity);
    return d;
}

void TokenBucket::Adjust(double delta, std::int64_t now_ms) {
    if (!std::isfinite(delta) || delta == 0) return;
    Refill(now_ms);
    tokens_ = std::clamp(tokens_ + delta, -config_.capacity, config_.capacity);
}

void TokenBucket::Reconfigure(const BucketConfig& config, std::int64_t now_ms) {
    Refill(now_ms);
    config_ = config;
    tokens_ = std::min(tokens_, config_.capacity);
}

bool TokenBucket::IsFull(std::int64_t now_ms) const {
    TokenBucket copy = *this;
    copy.Refill(now_ms);
    return copy.tokens_ >= copy.config_.capacity - kEpsilon;
}

LocalLimiter::LocalLimiter(const core::Clock& clock, LocalLimiterOptions options)
    : clock_(clock), options_(options) {
    if (!options_.default_config.Validate().ok()) {
        throw std::invalid_argument("LocalLimiter: invalid default bucket config");
    }
    if (options_.shards == 0 || options_.max_buckets == 0) {
        throw std::invalid_argument("LocalLimiter: shards and max_buckets must be positive");
    }
    per_shard_max_ =
        std::max<std::size_t>(1, (options_.max_buckets + options_.shards - 1) / options_.shards);
    shards_.reserve(options_.shards);
    for (std::size_t i = 0; i < options_.shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

LocalLimiter::Shard& LocalLimiter::ShardFor(std::string_view key) {
    // The shard's map hashes the whole key again; picking the shard needs only a spread, so
    // mix the last (most varying: ids end in random characters) bytes, FNV-1a.
    std::uint64_t h = 1469598103934665603ull;
    const std::size_t from = key.size() > 8 ? key.size() - 8 : 0;
    for (std::size_t i = from; i < key.size(); ++i) {
        h ^= static_cast<unsigned char>(key[i]);
        h *= 1099511628211ull;
    }
    h ^= key.size();
    return *shards_[(h ^ (h >> 29)) % shards_.size()];
}

TokenBucket& LocalLimiter::BucketLocked(Shard& shard, std::string_view key,
                                        const BucketConfig& config, std::int64_t now) {
    auto it = shard.index.find(key);
    if (it != shard.index.end()) {
        shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
        TokenBucket& bucket = it->second->bucket;
        if (!(bucket.config() == config)) bucket.Reconfigure(config, now);
        return bucket;
    }
    while (shard.index.size() >= per_shard_max_ && !shard.lru.empty()) {
        shard.index.erase(std::string_view(shard.lru.back().key));
        shard.lru.pop_back();
        ++shard.evictions;
    }
    shard.lru.push_front(Node{std::string(key), TokenBucket(config, now)});
    // The index keys view the node's own string: list nodes never move.
    shard.index.emplace(std::string_view(shard.lru.front().key), shard.lru.begin());
    return shard.lru.front().bucket;
}

Decision LocalLimiter::Check(std::string_view key, const BucketConfig& config, double cost) {
    if (!config.valid()) {
        // A broken policy fails closed rather than letting everything through.
        return Decision{false, 0, 0, 60'000, 60'000};
    }
    std::int64_t now = clock_.NowMs();
    Shard& shard = ShardFor(key);
    std::lock_guard lock(shard.mu);
    return BucketLocked(shard, key, config, now).Take(cost, now);
}

bool LocalLimiter::TryCheck(std::span<BucketCheck> checks) {
    for (std::size_t i = 0; i < checks.size(); ++i) {
        BucketCheck& c = checks[i];
        c.decision = Check(c.key, c.config, c.cost);
        if (c.decision.allowed) continue;
        // All or nothing: give back what the earlier buckets took.
        for (std::size_t j = 0; j < i; ++j) Adjust(checks[j].key, checks[j].config, checks[j].cost);
        break;
    }
    return true;
}

void LocalLimiter::Adjust(std::string_view key, const BucketConfig& config, double delta) {
    if (!config.valid()) return;
    std::int64_t now = clock_.NowMs();
    Shard& shard = ShardFor(key);
    std::lock_guard lock(shard.mu);
    BucketLocked(shard, key, config, now).Adjust(delta, now);
}

std::size_t LocalLimiter::SweepIdle() {
    std::int64_t now = clock_.NowMs();
    std::size_t removed = 0;
    for (auto& shard : shards_) {
        std::lock_guard lock(shard->mu);
        for (auto it = shard->lru.begin(); it != shard->lru.end();) {
            if (it->bucket.IsFull(now)) {
                shard->index.erase(std::string_view(it->key));
                it = shard->lru.erase(it);
                ++removed;
            } else {
                ++it;
            }
        }
    }
    return removed;
}

std::size_t LocalLimiter::size() const {
    std::size_t n = 0;
    for (const auto& shard : shards_) {
        std::lock_guard lock(shard->mu);
        n += shard->index.size();
    }
    return n;
}

std::uint64_t LocalLimiter::evictions() const {
    std::uint64_t n = 0;
    for (const auto& shard : shards_) {
        std::lock_guard lock(shard->mu);
        n += shard->evictions;
    }
    return n;
}

}  // namespace hub::limit
