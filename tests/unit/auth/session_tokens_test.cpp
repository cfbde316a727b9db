#include "auth/session_tokens.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crypto/crypto.hpp"

namespace hub::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RefreshToken, OpaqueRandomAndStoredAsHash) {
    RefreshToken t = NewRefreshToken();
    const std::string& text = t.token.Reveal();
    EXPECT_EQ(text.size(), kRefreshTokenLength);
    EXPECT_TRUE(IsWellFormedRefreshToken(text));
    EXPECT_EQ(crypto::Base64UrlDecode(text)->size(), 32u);  // 256 bits
    EXPECT_EQ(t.hash, crypto::Sha256Hex(text));
    EXPECT_EQ(t.hash.size(), 64u);
    EXPECT_EQ(HashRefreshToken(text), t.hash);
    EXPECT_TRUE(RefreshTokenMatches(text, t.hash));
    EXPECT_FALSE(RefreshTokenMatches(text + "x", t.hash));
    EXPECT_FALSE(RefreshTokenMatches(text, ""));

    std::ostringstream printed;
    printed << t.token;
    EXPECT_EQ(printed.str(), "***");

    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) seen.insert(NewRefreshToken().token.Reveal());
    EXPECT_EQ(seen.size(), 100u);
}

TEST(RefreshToken, WellFormedness) {
    std::string good(43, 'A');
    EXPECT_TRUE(IsWellFormedRefreshToken(good));
    EXPECT_TRUE(IsWellFormedRefreshToken(std::string(21, '-') + std::string(22, '_')));
    EXPECT_FALSE(IsWellFormedRefreshToken(std::string(42, 'A')));
    EXPECT_FALSE(IsWellFormedRefreshToken(std::string(44, 'A')));
    EXPECT_FALSE(IsWellFormedRefreshToken(std::string(42, 'A') + "="));
    EXPECT_FALSE(IsWellFormedRefreshToken(std::string(42, 'A') + "+"));
    EXPECT_FALSE(IsWellFormedRefreshToken(""));
}

TEST(RevocationCache, RevokedSessionIsRefusedUntilTheEntryExpires) {
    core::ManualClock clock;
    RevocationCache cache(clock, seconds(930));
    EXPECT_TRUE(cache.IsAllowed("u1", "s1"));
    cache.RevokeSession("s1");
    EXPECT_TRUE(cache.IsSessionRevoked("s1"));
    EXPECT_FALSE(cache.IsAllowed("u1", "s1"));
    EXPECT_TRUE(cache.IsAllowed("u1", "s2"));
    EXPECT_TRUE(cache.IsAllowed("u2", ""));

    clock.Advance(seconds(929));
    EXPECT_FALSE(cache.IsAllowed("u1", "s1"));
    clock.Advance(seconds(1));
    EXPECT_TRUE(cache.IsAllowed("u1", "s1"));  // every token of s1 has expired by now
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache.Purge(), 1u);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(RevocationCache, RevokingAgainExtendsNeverShortens) {
    core::ManualClock clock;
    RevocationCache cache(clock, seconds(100));
    cache.RevokeSession("s1");
    clock.Advance(seconds(60));
    cache.RevokeSession("s1");
    clock.Advance(seconds(60));
    EXPECT_TRUE(cache.IsSessionRevoked("s1"));
    clock.Advance(seconds(40));
    EXPECT_FALSE(cache.IsSessionRevoked("s1"));
}

TEST(RevocationCache, DisabledUserIsRefusedOnEverySession) {
    core::ManualClock clock;
    RevocationCache cache(clock);
    cache.DisableUser("u1");
    EXPECT_TRUE(cache.IsUserDisabled("u1"));
    EXPECT_FALSE(cache.IsAllowed("u1", "s1"));
    EXPECT_FALSE(cache.IsAllowed("u1", "s2"));
    EXPECT_FALSE(cache.IsAllowed("u1", ""));  // API-key requests too
    EXPECT_TRUE(cache.IsAllowed("u2", "s1"));
    cache.EnableUser("u1");
    EXPECT_TRUE(cache.IsAllowed("u1", "s1"));

    cache.DisableUser("u3");
    clock.Advance(seconds(15 * 60 + 30));  // the default entry ttl
    EXPECT_FALSE(cache.IsUserDisabled("u3"));
}

TEST(RevocationCache, PurgesOnItsOwnAsEntriesAccumulate) {
    core::ManualClock clock;
    RevocationCache cache(clock, seconds(10));
    for (int i = 0; i < 200; ++i) cache.RevokeSession("old-" + std::to_string(i));
    clock.Advance(seconds(11));
    for (int i = 0; i < 100; ++i) cache.RevokeSession("new-" + std::to_string(i));
    EXPECT_EQ(cache.size(), 100u);  // the 256th insert purged the 200 expired ones
    EXPECT_TRUE(cache.IsSessionRevoked("new-99"));
    EXPECT_FALSE(cache.IsSessionRevoked("old-1"));
}

TEST(RevocationCache, ConcurrentReadersAndWriters) {
    core::ManualClock clock;
    RevocationCache cache(clock);
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 500; ++i) {
                std::string sid = "s" + std::to_string(t) + "-" + std::to_string(i);
                cache.RevokeSession(sid);
                if (cache.IsAllowed("u", sid)) ++wrong;
                if (!cache.IsAllowed("u", "never-revoked")) ++wrong;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(cache.size(), 2000u);
}

}  // namespace
}  // namespace hub::auth
