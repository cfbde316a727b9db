#pragma once
// The events hubs tell each other over cache::Bus (bus.hpp), in one place. Payloads are ids
// only — never a token, a secret or anything a user typed. Every event is published after the
// database commit it reports, by the one class that keeps the matching state in memory.
//
//   topic                  payload            kept   handler on the other hubs
//   session.revoked        session id         yes    RevocationCache: refuse the session
//   user.disabled          user id            yes    RevocationCache: refuse the user
//   user.enabled           user id            yes    RevocationCache: forget the disable
//   user.changed           user id            yes    RevocationCache: cached callers stale
//   api_key.changed        platform key id    yes    ApiKeys: drop the cached caller
//   roles.changed          (empty)            no     Roles: re-read the role table
//   upstream_keys.changed  (empty)            no     UpstreamKeys: sync the key pool
//   security.locks_changed lock subject       yes    SecurityEvents: re-read the locks
//   history.changed        conversation id    no     HistoryCache: drop the entry
//
// "Kept" events are replayed to a hub that (re)connects; what the others would have
// invalidated is dropped or re-read on kBusResynced instead.
namespace hub::cache::topic {

inline constexpr const char* kSessionRevoked = "session.revoked";
inline constexpr const char* kUserDisabled = "user.disabled";
inline constexpr const char* kUserEnabled = "user.enabled";
inline constexpr const char* kUserChanged = "user.changed";
inline constexpr const char* kApiKeyChanged = "api_key.changed";
inline constexpr const char* kRolesChanged = "roles.changed";
inline constexpr const char* kUpstreamKeysChanged = "upstream_keys.changed";
inline constexpr const char* kSecurityLocksChanged = "security.locks_changed";
inline constexpr const char* kHistoryChanged = "history.changed";

}  // namespace hub::cache::topic
