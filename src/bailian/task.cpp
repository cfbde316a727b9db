#include "bailian/task.hpp"

#include <array>
#include <utility>

#include "bailian/wire_json.hpp"

namespace hub::bailian {

namespace {

using wire::Find;
using wire::Json;
using wire::Str;

constexpr std::array<std::pair<TaskStatus, std::string_view>, 7> kNames{{
    {TaskStatus::kPending, "PENDING"},
    {TaskStatus::kRunning, "RUNNING"},
    {TaskStatus::kSucceeded, "SUCCEEDED"},
    {TaskStatus::kFailed, "FAILED"},
    {TaskStatus::kCanceled, "CANCELED"},
    {TaskStatus::kUnknown, "UNKNOWN"},
    {TaskStatus::kSuspended, "SUSPENDED"},
}};

core::Error Malformed(std::string detail) {
    return core::Error::Make(core::ErrorCode::kUpstream, "upstream_error",
                             "The upstream service returned an unexpected response.",
                             std::move(detail));
}

}  // namespace

std::string_view TaskStatusName(TaskStatus s) {
    for (const auto& [status, name] : kNames) {
        if (status == s) return name;
    }
    return "UNKNOWN";
}

bool IsTerminal(TaskStatus s) {
    return s == TaskStatus::kSucceeded || s == TaskStatus::kFailed || s == TaskStatus::kCanceled ||
           s == TaskStatus::kUnknown;
}

core::Result<TaskInfo> ParseTaskResponse(std::string_view body) {
    auto j = wire::ParseJson(body);
    if (!j || !j->is_object())
        return Malformed("task body is not a JSON object: " + wire::Excerpt(body));
    UpstreamError err;
    if (wire::ExtractError(*j, err)) {
        return Malformed("task body is an error body: code=" + err.code +
                         " message=" + err.message + " request_id=" + err.request_id);
    }
    const Json* output = Find(*j, "output");
    if (output == nullptr || Find(*output, "task_status") == nullptr) {
        return Malformed("task body without output.task_status");
    }
    TaskInfo t;
    t.request_id = Str(*j, "request_id");
    t.task_id = Str(*output, "task_id");
    t.status_text = Str(*output, "task_status");
    for (const auto& [status, name] : kNames) {
        if (t.status_text == name) t.status = status;
    }
    t.code = Str(*output, "code");
    t.message = Str(*output, "message");
    t.submit_time = Str(*output, "submit_time");
    t.scheduled_time = Str(*output, "scheduled_time");
    t.end_time = Str(*output, "end_time");
    if (const Json* m = Find(*output, "task_metrics")) {
        t.total = wire::Int(*m, "TOTAL");
        t.succeeded = wire::Int(*m, "SUCCEEDED");
        t.failed = wire::Int(*m, "FAILED");
    }
    if (const Json* results = Find(*output, "results"); results != nullptr && results->is_array()) {
        for (const Json& r : *results) {
            TaskItem item;
            item.url = Str(r, "url");
            item.orig_prompt = Str(r, "orig_prompt");
            item.actual_prompt = Str(r, "actual_prompt");
            item.code = Str(r, "code");
            item.message = Str(r, "message");
            t.results.push_back(std::move(item));
        }
    }
    if (const Json* usage = Find(*j, "usage")) t.image_count = wire::Int(*usage, "image_count");
    return t;
}

}  // namespace hub::bailian
