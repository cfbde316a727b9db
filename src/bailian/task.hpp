#pragma once
// Async task bodies (Wanx/Wan image synthesis): the submit answer and GET /api/v1/tasks/{id}.
// HTTP 200 does not mean success: FAILED carries code/message inside output, a SUCCEEDED task
// may contain failed items, and an unknown or expired id answers UNKNOWN.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace hub::bailian {

enum class TaskStatus { kPending, kRunning, kSucceeded, kFailed, kCanceled, kUnknown, kSuspended };

std::string_view TaskStatusName(TaskStatus s);  // "PENDING", ...
bool IsTerminal(TaskStatus s);                  // SUCCEEDED, FAILED, CANCELED, UNKNOWN

struct TaskItem {
    std::string url;  // set for a generated image
    std::string orig_prompt;
    std::string actual_prompt;  // prompt_extend rewrite
    std::string code;           // set for a failed item
    std::string message;
    bool ok() const { return !url.empty(); }
};

struct TaskInfo {
    std::string request_id;
    std::string task_id;
    TaskStatus status = TaskStatus::kUnknown;
    std::string status_text;  // as sent, e.g. "SUCCEEDED"
    std::string code;         // FAILED tasks
    std::string message;
    std::vector<TaskItem> results;
    std::int64_t total = 0, succeeded = 0, failed = 0;  // output.task_metrics
    std::int64_t image_count = 0;                       // usage.image_count (successes only)
    std::string submit_time, scheduled_time, end_time;  // "YYYY-MM-DD HH:mm:ss.SSS", UTC+8
};

// Parses a submit or task-query body. Not JSON, no output.task_status, or an error body
// ({"code","message"} without output) -> kUpstream error. An unrecognised status string maps
// to kUnknown with status_text kept.
[[nodiscard]] core::Result<TaskInfo> ParseTaskResponse(std::string_view body);

}  // namespace hub::bailian
