#pragma once
// Cache: string keys to string values, for data that can always be rebuilt from the database
// (conversation histories, the rendered model catalog). Implementations: LruCache (in
// process, bounded); a Redis one later. Values are opaque bytes to the cache.
//
// Every call is quick and non-blocking for the in-process cache. Keys are namespaced by the
// caller ("hist:<conversation id>", "models:..."), so one cache can serve several users.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace hub::cache {

struct CacheStats {
    std::int64_t hits = 0;
    std::int64_t misses = 0;
    std::int64_t puts = 0;
    std::int64_t evictions = 0;  // pushed out by the size bounds or expired
    std::int64_t entries = 0;    // now
    std::int64_t bytes = 0;      // now: keys + values
};

class Cache {
public:
    using Ttl = std::chrono::milliseconds;  // zero = no expiry
    // Called with the current value (nullopt = absent); may change it in place, set it, or
    // reset it (erase).
    using Mutator = std::function<void(std::optional<std::string>& value)>;

    virtual ~Cache() = default;

    virtual std::optional<std::string> Get(std::string_view key) = 0;
    virtual void Put(std::string key, std::string value, Ttl ttl = Ttl::zero()) = 0;
    virtual void Erase(std::string_view key) = 0;
    // Read-modify-write as one step: no other call on this key runs in between. This is how
    // writers keep an entry correct without re-reading the database, and how a reader installs
    // what it loaded only if nobody wrote meanwhile (compare-and-set). A value set here keeps
    // the entry's expiry (or gets `ttl` when the entry is new).
    virtual void Update(std::string_view key, const Mutator& fn, Ttl ttl = Ttl::zero()) = 0;

    virtual CacheStats Stats() const = 0;
};

}  // namespace hub::cache
