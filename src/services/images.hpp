#pragma once
// Wanx image generation: a request becomes an image_generations row at once (202), and one
// background poller — on the one hub that holds the "images" lease (services/leases.hpp) —
// takes every unsettled generation, whichever hub accepted it, through DashScope's async task
// protocol (bailian-api.md §5): submit with X-DashScope-Async, poll /api/v1/tasks/{id} at
// growing intervals, download each result image as soon as the task succeeds (its URL expires
// in 24 h), keep it under the file store, and write one api_calls row. Generations live in the
// database, so a hub that restarts resumes every one of them. Watchers (the page's SSE, the
// OpenAI-compatible call that waits) are woken on each change instead of polling.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "async/offload.hpp"
#include "bailian/client.hpp"
#include "bailian/task.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "services/image_rules.hpp"
#include "services/models.hpp"
#include "services/usage.hpp"
#include "store/file_store.hpp"
#include "store/store.hpp"

namespace hub::services {

struct ImagesConfig {
    std::string default_model = "wan2.2-t2i-flash";
    std::chrono::milliseconds task_timeout{15 * 60 * 1000};  // then the generation fails
    std::chrono::milliseconds first_poll{1000};              // then ×1.5 per poll ...
    std::chrono::milliseconds max_poll{10'000};              // ... up to this
    std::size_t max_image_bytes = 20u << 20;
    int max_parallel = 8;                       // generations worked on at once
    std::chrono::seconds url_ttl{3600};         // signed file URLs
    std::chrono::milliseconds openai_wait{120'000};  // /v1/images/generations waits this long
    // While active, the database is searched this often for unsettled generations (those other
    // hubs accepted, or a hub that died left).
    std::chrono::milliseconds rescan_every{1000};
    // Watchers look again this often (the generation may be worked on by another hub).
    std::chrono::milliseconds watch_recheck{1000};
    // A generation whose submit was begun (submit_started_at) but whose task id was never
    // recorded is ended as "submit_interrupted" once this has passed (never submitted twice).
    std::chrono::milliseconds submit_grace{30'000};
};

// What the poller does with a task answer (pure, tested).
struct TaskVerdict {
    enum class Action { kWait, kRunning, kSucceeded, kFailed } action = Action::kWait;
    store::GenerationStatus status = store::GenerationStatus::kPending;
    std::string error_code;  // kFailed
    std::string error_message;
};
TaskVerdict JudgeTask(const bailian::TaskInfo& task);
// DashScope's error code -> ours: DataInspectionFailed (any form) is "content_filtered".
std::string GenerationErrorCode(std::string_view upstream_code);
// The wait before poll number `polls` (0-based): first_poll × 1.5^polls, at most max_poll.
std::chrono::milliseconds PollDelay(int polls, const ImagesConfig& cfg);
// The seed of image `index` when the request named one (DashScope uses seed, seed+1, ...).
std::optional<std::int64_t> ImageSeed(const store::ImageGeneration& g, int index);

// The api_calls row of a finished generation (pure).
// Status: 200 succeeded, 499 cancelled, 400 content_filtered, 504 timeout, else 502.
store::ApiCall GenerationCallRow(const store::ImageGeneration& g, const Catalog& catalog);

// A file as served: bytes and what to say about them.
struct FileContent {
    std::string bytes;
    std::string content_type;
    std::string sha256;
    std::string name;  // for Content-Disposition
};

class Images {
public:
    Images(store::Store& store, async::WorkerPool& db, bailian::Client& upstream,
           const Catalog& catalog, UsageRecorder& usage, store::FileStore& files,
           const core::Clock& clock, net::any_io_executor executor, std::string url_key,
           ImagesConfig cfg);
    ~Images();
    Images(const Images&) = delete;
    Images& operator=(const Images&) = delete;

    // Starts the poller loop; `active`: it takes work at once (one hub on its own, tests),
    // else only after Activate (the "images" lease was gained).
    void Start(bool active = true);
    // Takes every unsettled generation in the database, and keeps looking every rescan_every.
    // Never blocks (the database is read on the db pool).
    void Activate();
    // Takes no new step (the lease was lost); steps in flight end at their next step.
    void Deactivate();
    bool active() const;
    // DashScope requests this hub's poller made since start (metrics; with several hubs only
    // the lease holder's grow).
    struct TaskRequests {
        std::int64_t submits = 0;
        std::int64_t polls = 0;
        std::int64_t downloads = 0;
    };
    TaskRequests task_requests() const;
    // Stops taking new work; work in flight ends at its next step.
    void Stop();

    // Validates (400s name the field; nothing is stored or sent when invalid), stores the
    // generation as pending and hands it to the poller.
    net::awaitable<core::Result<store::ImageGeneration>> Create(std::string user_id,
                                                                std::optional<std::string> api_key_id,
                                                                ImageRequest req,
                                                                std::string endpoint);
    net::awaitable<core::Result<store::ImageGeneration>> Get(std::string user_id, std::string id);
    net::awaitable<core::Result<store::Page<store::ImageGeneration>>> List(
        std::string user_id, store::PageRequest page);
    // Removes the generation and its files; a task DashScope still holds PENDING is cancelled.
    net::awaitable<core::Result<void>> Delete(std::string user_id, std::string id);

    // Wakes a watcher when a generation changes. Subscribe before reading the state, then
    // Wait: a change after the read is never missed.
    class Watch {
    public:
        virtual ~Watch() = default;
        // True when woken by a change (or Wake), false when `timeout` passed first.
        virtual net::awaitable<bool> Wait(std::chrono::milliseconds timeout) = 0;
        // Wakes the waiter from any thread (e.g. its client went away).
        virtual void Wake() = 0;
    };
    net::awaitable<std::shared_ptr<Watch>> Subscribe(std::string generation_id);

    // The owner's image file.
    net::awaitable<core::Result<FileContent>> ReadFile(std::string user_id, std::string image_id);
    // A file through a signed URL (no other credential).
    net::awaitable<core::Result<FileContent>> ReadSignedFile(std::string image_id,
                                                             std::string expires,
                                                             std::string signature);
    // "/api/v1/files/{id}?exp=…&sig=…", valid for the configured time.
    std::string SignedPath(const std::string& image_id) const;

    const ImagesConfig& config() const { return cfg_; }
    const Catalog& catalog() const { return catalog_; }

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
    const ImagesConfig cfg_;
    const Catalog& catalog_;
};

}  // namespace hub::services
