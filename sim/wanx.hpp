#pragma once
// Wanx text-to-image async tasks (bailian-api.md §5): submit parsing and validation, the task
// store (clock injected: every call takes now_ms), task bodies, result images. Pure.
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "errors.hpp"

namespace hub::sim {

struct ImageRequest {
    std::string model;        // as sent
    std::string model_name;   // without "@fault"
    std::string model_fault;
    std::string prompt;
    std::string negative_prompt;
    std::string size;  // "W*H"
    int width = 1024;
    int height = 1024;
    int n = 4;
    std::optional<std::int64_t> seed;
    bool prompt_extend = true;
    bool wanx_v1 = false;
};

std::optional<SimError> ParseImageRequest(const nlohmann::json& body,
                                          const std::vector<std::string>& extra_models,
                                          ImageRequest* out);

enum class TaskStatus { kPending, kRunning, kSucceeded, kFailed, kCanceled };
const char* TaskStatusName(TaskStatus s);

struct Task {
    std::string id;
    ImageRequest req;
    std::int64_t submit_ms = 0;
    std::int64_t duration_ms = 0;
    bool fail_all = false;
    bool partial = false;
    std::optional<std::int64_t> canceled_ms;

    std::int64_t ScheduledMs() const { return submit_ms + duration_ms / 4 + (duration_ms ? 14 : 0); }
    std::int64_t EndMs() const { return submit_ms + duration_ms; }
    TaskStatus StatusAt(std::int64_t now_ms) const;
    bool ImageFailed(int index) const;  // 0-based
    int Succeeded() const;
    std::string ActualPrompt() const;
};

class TaskStore {
public:
    explicit TaskStore(std::size_t capacity = 100'000) : capacity_(capacity) {}
    // Stores a new task and returns it (with its id).
    Task Submit(ImageRequest req, std::int64_t now_ms, std::int64_t duration_ms, bool fail_all,
                bool partial);
    std::optional<Task> Find(const std::string& id) const;
    enum class CancelResult { kOk, kNotPending, kUnknown };
    CancelResult Cancel(const std::string& id, std::int64_t now_ms);
    void Clear();
    std::size_t Size() const;

private:
    mutable std::mutex mu_;
    std::size_t capacity_;
    std::unordered_map<std::string, Task> tasks_;
    std::deque<std::string> order_;
};

// "YYYY-MM-DD HH:mm:ss.SSS" in China time (UTC+8), as task bodies show times.
std::string FormatChinaTime(std::int64_t epoch_ms);

std::string SubmitBody(const std::string& task_id, const std::string& request_id);
// Body of GET /api/v1/tasks/{id}; task == nullptr → UNKNOWN.
std::string TaskBody(const Task* task, const std::string& task_id, std::int64_t now_ms,
                     const std::string& request_id, const std::string& base_url);
std::string CancelOkBody(const std::string& request_id);

// Result file name for image index (0-based): "<task_id>/<index+1>.png".
std::string ResultUrl(const Task& t, int index, const std::string& base_url);
// Small real PNG for a result image (sides scaled so the longer one is 64 px).
std::string ResultPng(const Task& t, int index);
void ResultDims(const Task& t, int* w, int* h);

}  // namespace hub::sim
