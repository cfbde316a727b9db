#pragma once
// Refresh tokens and the per-request revocation check.
//
// A refresh token is 256 random bits as base64url text (43 chars). Only its SHA-256 (hex) is
// stored (sessions.refresh_hash); the token itself is shown to the client once.
//
// RevocationCache answers "was this session revoked / this user disabled" on every request
// without a database read. Entries only need to live as
// long as an access token can (max_token_ttl + leeway): after that, every token issued before
// the revocation has expired and refresh/login consult the database. Thread-safe.
//
// Across hubs: once Connect(bus) is called, every change made here is also published on the
// bus (cache/topics.hpp), kept for the entry ttl so that a hub that was cut off replays it, and
// the other hubs' changes are applied here without being published again. So this class is the
// one place where a revocation reaches the other hubs: callers change it after their database
// commit, as they always did.
#include <chrono>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/jwt.hpp"
#include "cache/bus.hpp"
#include "core/clock.hpp"
#include "core/secret.hpp"

namespace hub::auth {

inline constexpr std::size_t kRefreshTokenBytes = 32;
inline constexpr std::size_t kRefreshTokenLength = 43;  // base64url, no padding

struct RefreshToken {
    core::Secret<std::string> token;  // for the client (body and HttpOnly cookie), once
    std::string hash;                 // for the database: HashRefreshToken(token)
};

RefreshToken NewRefreshToken();
// SHA-256 of the token text, lower-case hex (64 chars).
std::string HashRefreshToken(std::string_view token);
// 43 characters of the base64url alphabet: a cheap check before any lookup.
bool IsWellFormedRefreshToken(std::string_view token);
// Constant-time comparison of HashRefreshToken(token) with a stored hash.
bool RefreshTokenMatches(std::string_view token, std::string_view stored_hash);

class RevocationCache {
public:
    // `entry_ttl`: how long an entry is kept; use the longest access-token lifetime plus the
    // verification leeway (15 min + 30 s by default).
    explicit RevocationCache(const core::Clock& clock,
                             std::chrono::seconds entry_ttl = kDefaultAccessTokenTtl +
                                                              kDefaultJwtLeeway);

    // From now on: publish every change on `bus`, and apply the other hubs' changes. Call it
    // once, after restoring from the database and before the bus starts.
    void Connect(cache::Bus& bus);
    // Applies an event of another hub (the bus handler; public for tests). Never publishes.
    void Apply(const cache::BusEvent& event);

    // Logout, session deletion, refresh-token reuse: the session's access tokens stop working.
    void RevokeSession(std::string_view session_id);
    // An admin disabled the account: all its access tokens stop working.
    void DisableUser(std::string_view user_id);
    // The account was re-enabled: forget the disable entry.
    void EnableUser(std::string_view user_id);

    // An admin changed the account (role, status, quota): what was derived from it before
    // now — e.g. a cached platform-key caller — is stale.
    void NoteUserChanged(std::string_view user_id);
    // True when NoteUserChanged(user_id) was called at or after `since_ms` (within the ttl).
    bool ChangedSince(std::string_view user_id, std::int64_t since_ms) const;

    bool IsSessionRevoked(std::string_view session_id) const;
    bool IsUserDisabled(std::string_view user_id) const;
    // The per-request check: false when the session is revoked or the user disabled.
    // (A password change revokes the other sessions one by one; a role change can do the same.)
    bool IsAllowed(std::string_view user_id, std::string_view session_id) const;

    // Drops expired entries; returns how many. Also done every few hundred inserts.
    std::size_t Purge();
    std::size_t size() const;

private:
    using Map = std::unordered_map<std::string, std::int64_t>;  // id -> expires_ms

    void Put(Map& map, std::string_view key);
    void Publish(const char* topic, std::string_view id);
    static bool Live(const Map& map, std::string_view key, std::int64_t now_ms);
    std::size_t PurgeLocked(std::int64_t now_ms);

    const core::Clock& clock_;
    std::int64_t entry_ttl_ms_;
    mutable std::shared_mutex mu_;
    Map sessions_;
    Map disabled_users_;
    Map changed_users_;  // expires_ms - entry_ttl_ms_ = when the change was noted
    std::uint64_t inserts_ = 0;
    cache::Bus* bus_ = nullptr;  // set once by Connect, before any request
};

}  // namespace hub::auth
