#pragma once
// upstream_tasks: DashScope async task ids seen in responses that went through the hub's
// pass-through, with their owner. A task is only visible to the user who submitted it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace hub::store {

struct UpstreamTask {
    std::string task_id;  // DashScope's id (primary key)
    std::string user_id;
    std::optional<std::string> api_key_id;  // the platform key used to submit, if any
    std::string model;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> accounted_at;  // when its finished result was billed
};

class UpstreamTaskStore {
public:
    virtual ~UpstreamTaskStore() = default;

    // Records a task; kConflict "upstream_task_exists" when the id is already recorded.
    virtual core::Result<UpstreamTask> Create(UpstreamTask task) = 0;
    // kNotFound "upstream_task_not_found" when missing or another user's.
    virtual core::Result<UpstreamTask> Get(std::string_view user_id, std::string_view task_id) = 0;
    // Sets accounted_at once: true when this call set it, false when it was already set.
    virtual core::Result<bool> MarkAccounted(std::string_view task_id, std::int64_t at_ms) = 0;
};

}  // namespace hub::store
