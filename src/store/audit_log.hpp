#pragma once
// The audit log: append-only, no foreign keys (entries outlive what they name).
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/cursor.hpp"
#include "store/models.hpp"

namespace hub::store {

struct AuditFilter {
    std::optional<std::string> actor_user_id;
    std::optional<std::string> action;
    std::optional<std::string> target;  // e.g. "user:<id>"
    std::optional<std::int64_t> from_ms;  // inclusive
    std::optional<std::int64_t> to_ms;    // exclusive
};

// Told of every entry services::AppendAudit wrote (security events watch the trail as it is
// written). Called on the writing thread (the db pool), after the entry is stored.
class AuditObserver {
public:
    virtual ~AuditObserver() = default;
    virtual void OnAudit(const AuditEntry& entry) = 0;
};

class AuditStore {
public:
    virtual ~AuditStore() = default;

    // Set once by app/ at start-up; null = nobody watches.
    void SetObserver(AuditObserver* observer) { observer_.store(observer); }
    AuditObserver* observer() const { return observer_.load(); }

    virtual core::Result<AuditEntry> Append(AuditEntry entry) = 0;
    // Newest first.
    virtual core::Result<Page<AuditEntry>> List(const AuditFilter& filter,
                                                const PageRequest& page) = 0;
    // When each of `actor_ids` last did `action` (e.g. "auth.login"); absent = never.
    virtual core::Result<std::map<std::string, std::int64_t>> LastActionOf(
        std::string_view action, const std::vector<std::string>& actor_ids) = 0;

private:
    std::atomic<AuditObserver*> observer_{nullptr};
};

}  // namespace hub::store
