#pragma once
// The audit log: append-only, no foreign keys (entries outlive what they name).
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

class AuditStore {
public:
    virtual ~AuditStore() = default;

    virtual core::Result<AuditEntry> Append(AuditEntry entry) = 0;
    // Newest first.
    virtual core::Result<Page<AuditEntry>> List(const AuditFilter& filter,
                                                const PageRequest& page) = 0;
    // When each of `actor_ids` last did `action` (e.g. "auth.login"); absent = never.
    virtual core::Result<std::map<std::string, std::int64_t>> LastActionOf(
        std::string_view action, const std::vector<std::string>& actor_ids) = 0;
};

}  // namespace hub::store
