#include "cache/lru_cache.hpp"

#include <gtest/gtest.h>

namespace hub::cache {
namespace {

using std::chrono::milliseconds;

LruOptions One(std::size_t entries, std::size_t bytes = 1 << 20) {
    LruOptions o;
    o.max_entries = entries;
    o.max_bytes = bytes;
    o.shards = 1;  // exact LRU order
    return o;
}

TEST(LruCache, GetPutEraseAndCounters) {
    core::ManualClock clock;
    LruCache c(One(10), clock);
    EXPECT_FALSE(c.Get("a"));
    c.Put("a", "1");
    ASSERT_TRUE(c.Get("a"));
    EXPECT_EQ(*c.Get("a"), "1");
    c.Put("a", "22");
    EXPECT_EQ(*c.Get("a"), "22");
    c.Erase("a");
    EXPECT_FALSE(c.Get("a"));
    c.Erase("never-there");
    CacheStats s = c.Stats();
    EXPECT_EQ(s.hits, 3);
    EXPECT_EQ(s.misses, 2);
    EXPECT_EQ(s.puts, 2);
    EXPECT_EQ(s.entries, 0);
    EXPECT_EQ(s.bytes, 0);
}

TEST(LruCache, EvictsTheLeastRecentlyUsed) {
    core::ManualClock clock;
    LruCache c(One(2), clock);
    c.Put("a", "1");
    c.Put("b", "2");
    EXPECT_TRUE(c.Get("a"));  // a is now more recent than b
    c.Put("c", "3");
    EXPECT_TRUE(c.Get("a"));
    EXPECT_FALSE(c.Get("b"));
    EXPECT_TRUE(c.Get("c"));
    EXPECT_EQ(c.Stats().evictions, 1);
    EXPECT_EQ(c.Stats().entries, 2);
}

TEST(LruCache, BoundedByBytes) {
    core::ManualClock clock;
    LruCache c(One(100, 10), clock);  // keys + values at most 10 bytes
    c.Put("a", "1234");               // 5
    c.Put("b", "1234");               // 10
    EXPECT_EQ(c.Stats().bytes, 10);
    c.Put("c", "12");  // 3 more: a goes
    EXPECT_FALSE(c.Get("a"));
    EXPECT_TRUE(c.Get("b"));
    EXPECT_TRUE(c.Get("c"));
    c.Put("big", "0123456789");  // can never fit: not stored, nothing else lost
    EXPECT_FALSE(c.Get("big"));
    EXPECT_TRUE(c.Get("b"));
    EXPECT_LE(c.Stats().bytes, 10);
}

TEST(LruCache, EntriesExpire) {
    core::ManualClock clock;
    LruCache c(One(10), clock);
    c.Put("t", "v", milliseconds(1000));
    c.Put("forever", "v");
    clock.Advance(milliseconds(999));
    EXPECT_TRUE(c.Get("t"));
    clock.Advance(milliseconds(1));
    EXPECT_FALSE(c.Get("t"));
    clock.Advance(milliseconds(1'000'000));
    EXPECT_TRUE(c.Get("forever"));
}

TEST(LruCache, UpdateReadsAndWritesInOneStep) {
    core::ManualClock clock;
    LruCache c(One(10), clock);
    // Absent: the mutator sees nullopt; leaving it so stores nothing.
    bool saw_absent = false;
    c.Update("k", [&](std::optional<std::string>& v) { saw_absent = !v.has_value(); });
    EXPECT_TRUE(saw_absent);
    EXPECT_FALSE(c.Get("k"));
    // Set while absent, with a TTL for the new entry.
    c.Update(
        "k", [](std::optional<std::string>& v) { v = "a"; }, milliseconds(100));
    EXPECT_EQ(*c.Get("k"), "a");
    // Change in place keeps the expiry.
    c.Update("k", [](std::optional<std::string>& v) { *v += "b"; });
    EXPECT_EQ(*c.Get("k"), "ab");
    EXPECT_EQ(c.Stats().bytes, 3);
    clock.Advance(milliseconds(100));
    EXPECT_FALSE(c.Get("k"));
    // Reset erases.
    c.Put("k", "x");
    c.Update("k", [](std::optional<std::string>& v) { v.reset(); });
    EXPECT_FALSE(c.Get("k"));
    EXPECT_EQ(c.Stats().entries, 0);
}

TEST(LruCache, ShardsShareTheBounds) {
    core::ManualClock clock;
    LruOptions o;
    o.max_entries = 64;
    o.shards = 8;
    LruCache c(o, clock);
    for (int i = 0; i < 1000; ++i) c.Put("key" + std::to_string(i), "v");
    EXPECT_LE(c.Stats().entries, 64);
    EXPECT_GT(c.Stats().entries, 0);
}

}  // namespace
}  // namespace hub::cache
