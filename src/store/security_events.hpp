#pragma once
// Security events the hub detected about itself (services/security_events.hpp) and the locks
// they set on accounts and platform keys.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/cursor.hpp"
#include "store/models.hpp"

namespace hub::store {

struct SecurityEventFilter {
    std::optional<std::string> kind;
    std::optional<std::string> user_id;
};

class SecurityEventStore {
public:
    virtual ~SecurityEventStore() = default;

    virtual core::Result<SecurityEvent> Append(SecurityEvent event) = 0;
    virtual core::Result<SecurityEvent> Get(std::string_view id) = 0;  // kNotFound
    // Newest first, keyset pages (cursor kind "security_events").
    virtual core::Result<Page<SecurityEvent>> List(const SecurityEventFilter& filter,
                                                   const PageRequest& page) = 0;

    // Records when the event's lock ended (an admin lifted it early). kNotFound.
    virtual core::Result<SecurityEvent> EndLock(std::string_view id, std::int64_t at_ms) = 0;

    // Sets (or extends) the lock on `subject`.
    virtual core::Result<void> Lock(const SecurityLock& lock) = 0;
    // Lifts it; lifting a lock that is not there is fine.
    virtual core::Result<void> Unlock(std::string_view subject) = 0;
    // Locks still in force at `now_ms`.
    virtual core::Result<std::vector<SecurityLock>> ActiveLocks(std::int64_t now_ms) = 0;
};

}  // namespace hub::store
