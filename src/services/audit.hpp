#pragma once
// What a service knows of the request behind an action, and the one way services record an
// action in the audit log.
#include <memory>
#include <optional>
#include <string>

#include "core/cancel.hpp"
#include "core/clock.hpp"

namespace hub::store {
class Store;
}

namespace hub::services {

struct RequestMeta {
    std::string ip;
    std::string user_agent;
    std::string request_id;
    // Triggered when the client has gone: its queued password hash is then not run.
    std::shared_ptr<core::Cancel> client_gone;
};

// Appends one entry (a new id, the clock's time, the request's IP and id), then tells the
// audit store's observer (security events) about it. Blocking: call on the db pool. A failed
// write is logged, not returned: the action it records has happened.
void AppendAudit(store::Store& store, const core::Clock& clock, std::optional<std::string> actor,
                 std::string action, std::string target, const RequestMeta& meta,
                 std::string detail_json);

}  // namespace hub::services
