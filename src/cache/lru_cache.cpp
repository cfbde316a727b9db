#include "cache/lru_cache.hpp"

#include <algorithm>
#include <functional>

namespace hub::cache {

struct LruCache::Shard {
    struct Entry {
        std::string key;
        std::string value;
        std::int64_t expires_at_ms = 0;  // 0 = never
        std::size_t Bytes() const { return key.size() + value.size(); }
    };
    using List = std::list<Entry>;

    explicit Shard(std::atomic<std::int64_t>& evictions_counter) : evictions(evictions_counter) {}

    mutable std::mutex mu;
    List lru;  // front = most recently used
    std::unordered_map<std::string, List::iterator> index;
    std::size_t bytes = 0;
    std::size_t max_entries = 1;
    std::size_t max_bytes = 1;
    std::atomic<std::int64_t>& evictions;

    // A live entry, or end() (an expired one is dropped on the way). Caller holds mu.
    List::iterator Find(const std::string& key, std::int64_t now) {
        auto it = index.find(key);
        if (it == index.end()) return lru.end();
        if (it->second->expires_at_ms != 0 && it->second->expires_at_ms <= now) {
            Remove(it->second);
            ++evictions;
            return lru.end();
        }
        return it->second;
    }
    void Remove(List::iterator e) {
        bytes -= e->Bytes();
        index.erase(e->key);
        lru.erase(e);
    }
    // Stores the entry as the most recent one, then trims to the bounds.
    void Store(std::string key, std::string value, std::int64_t expires_at_ms) {
        auto old = index.find(key);
        if (old != index.end()) Remove(old->second);
        Entry e{std::move(key), std::move(value), expires_at_ms};
        if (e.Bytes() > max_bytes) {  // could never fit: not cached at all
            ++evictions;
            return;
        }
        bytes += e.Bytes();
        lru.push_front(std::move(e));
        index.emplace(lru.front().key, lru.begin());
        while (lru.size() > max_entries || bytes > max_bytes) {
            Remove(std::prev(lru.end()));
            ++evictions;
        }
    }
};

LruCache::LruCache(LruOptions options, const core::Clock& clock)
    : options_(options), clock_(clock) {
    std::size_t n = std::max<std::size_t>(1, options_.shards);
    for (std::size_t i = 0; i < n; ++i) {
        auto s = std::make_unique<Shard>(evictions_);
        s->max_entries = std::max<std::size_t>(1, options_.max_entries / n);
        s->max_bytes = std::max<std::size_t>(1, options_.max_bytes / n);
        shards_.push_back(std::move(s));
    }
}

LruCache::~LruCache() = default;

LruCache::Shard& LruCache::ShardFor(std::string_view key) const {
    return *shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

std::optional<std::string> LruCache::Get(std::string_view key) {
    Shard& s = ShardFor(key);
    std::lock_guard lk(s.mu);
    auto it = s.Find(std::string(key), clock_.NowMs());
    if (it == s.lru.end()) {
        ++misses_;
        return std::nullopt;
    }
    s.lru.splice(s.lru.begin(), s.lru, it);
    ++hits_;
    return it->value;
}

void LruCache::Put(std::string key, std::string value, Ttl ttl) {
    Shard& s = ShardFor(key);
    std::int64_t expires = ttl.count() > 0 ? clock_.NowMs() + ttl.count() : 0;
    std::lock_guard lk(s.mu);
    ++puts_;
    s.Store(std::move(key), std::move(value), expires);
}

void LruCache::Erase(std::string_view key) {
    Shard& s = ShardFor(key);
    std::lock_guard lk(s.mu);
    auto it = s.index.find(std::string(key));
    if (it != s.index.end()) s.Remove(it->second);
}

void LruCache::Update(std::string_view key, const Mutator& fn, Ttl ttl) {
    Shard& s = ShardFor(key);
    std::string k(key);
    std::int64_t now = clock_.NowMs();
    std::lock_guard lk(s.mu);
    auto it = s.Find(k, now);
    std::optional<std::string> value;
    std::int64_t expires = ttl.count() > 0 ? now + ttl.count() : 0;
    if (it != s.lru.end()) {
        expires = it->expires_at_ms;
        s.bytes -= it->value.size();  // Remove() then counts the key only
        value = std::move(it->value);
        it->value.clear();
        s.Remove(it);
    }
    fn(value);
    if (value) {
        ++puts_;
        s.Store(std::move(k), std::move(*value), expires);
    }
}

CacheStats LruCache::Stats() const {
    CacheStats st;
    st.hits = hits_.load();
    st.misses = misses_.load();
    st.puts = puts_.load();
    st.evictions = evictions_.load();
    for (const auto& s : shards_) {
        std::lock_guard lk(s->mu);
        st.entries += static_cast<std::int64_t>(s->lru.size());
        st.bytes += static_cast<std::int64_t>(s->bytes);
    }
    return st;
}

}  // namespace hub::cache
