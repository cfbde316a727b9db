#pragma once
// In-process LRU cache, bounded by entry count and by bytes (keys + values), with optional
// per-entry expiry on an injected clock. Thread-safe: keys are spread over shards, each with
// its own lock and its own share of the bounds, so unrelated keys do not contend.
#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cache/cache.hpp"
#include "core/clock.hpp"

namespace hub::cache {

struct LruOptions {
    std::size_t max_entries = 10'000;
    std::size_t max_bytes = 64u << 20;
    std::size_t shards = 8;  // 1 for exact global LRU order (tests)
};

class LruCache final : public Cache {
public:
    LruCache(LruOptions options, const core::Clock& clock);
    ~LruCache() override;

    std::optional<std::string> Get(std::string_view key) override;
    void Put(std::string key, std::string value, Ttl ttl = Ttl::zero()) override;
    void Erase(std::string_view key) override;
    void Update(std::string_view key, const Mutator& fn, Ttl ttl = Ttl::zero()) override;
    CacheStats Stats() const override;

private:
    struct Shard;
    Shard& ShardFor(std::string_view key) const;

    LruOptions options_;
    const core::Clock& clock_;
    std::vector<std::unique_ptr<Shard>> shards_;
    std::atomic<std::int64_t> hits_{0};
    std::atomic<std::int64_t> misses_{0};
    std::atomic<std::int64_t> puts_{0};
    std::atomic<std::int64_t> evictions_{0};
};

}  // namespace hub::cache
