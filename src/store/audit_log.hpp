#pragma once
// The audit log: append-only, no foreign keys (entries outlive what they name).
#include <cstdint>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "store/cursor.hpp"
#include "store/models.hpp"

namespace hub::store {

struct AuditFilter {
    std::optional<std::string> actor_user_id;
    std::optional<std::string> action;
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
};

}  // namespace hub::store
