#pragma once
// Sessions: one row per refresh token; rotation keeps a family so that reuse of a dead
// token can revoke every token descended from the same login.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/models.hpp"

namespace hub::store {

class SessionStore {
public:
    virtual ~SessionStore() = default;

    // An empty family_id starts a new family (family_id = id).
    virtual core::Result<Session> Create(Session session) = 0;
    virtual core::Result<Session> Get(std::string_view id) = 0;
    // Finds revoked and expired sessions too, so that reuse can be detected.
    virtual core::Result<Session> GetByRefreshHash(std::string_view refresh_hash) = 0;
    // Atomically revokes `old_id` and creates `next` in the same family for the same user
    // (next.user_id and next.family_id are taken from the old session). kNotFound when the
    // old session does not exist, kConflict "session_revoked" / "session_expired" when it is
    // no longer active (so two racing refreshes cannot both succeed).
    virtual core::Result<Session> Rotate(std::string_view old_id, Session next) = 0;
    // Revokes one session of a user; kNotFound when it is not theirs. Idempotent.
    virtual core::Result<void> Revoke(std::string_view user_id, std::string_view id) = 0;
    // Revokes every still-active session of a family; returns how many.
    virtual core::Result<std::int64_t> RevokeFamily(std::string_view family_id) = 0;
    // Revokes every active session of a user except `keep_id` (e.g. after a password change).
    virtual core::Result<std::int64_t> RevokeAllOfUser(std::string_view user_id,
                                                       std::optional<std::string> keep_id) = 0;
    // Sessions neither revoked nor expired, most recently used first.
    virtual core::Result<std::vector<Session>> ListActive(std::string_view user_id) = 0;
    virtual core::Result<void> Touch(std::string_view id, std::int64_t at_ms) = 0;
    // Ids of the sessions revoked at or after `since_ms` (their access tokens may still be
    // unexpired: a restarted process must keep refusing them).
    virtual core::Result<std::vector<std::string>> ListRevokedSince(std::int64_t since_ms) = 0;
    // Housekeeping: deletes sessions that expired before `before_ms`; returns how many.
    virtual core::Result<std::int64_t> DeleteExpired(std::int64_t before_ms) = 0;
};

}  // namespace hub::store
