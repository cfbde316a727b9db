#include "services/images.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "bailian/responses.hpp"
#include "core/id.hpp"
#include "crypto/crypto.hpp"
#include "obs/logging.hpp"
#include "store/image_tasks.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;
using store::GenerationStatus;
using store::ImageGeneration;
using nlohmann::json;
using Ms = std::chrono::milliseconds;

namespace {

constexpr std::string_view kSubmitPath = "/api/v1/services/aigc/text2image/image-synthesis";
constexpr std::size_t kAnswerLimit = 1 << 20;

Error NotFoundError() {
    return Error::Make(ErrorCode::kNotFound, "not_found", "No such image generation.");
}

// Collects a native answer (status and body).
class CollectSink final : public bailian::RawSink {
public:
    net::awaitable<bool> OnHead(int status,
                                std::vector<std::pair<std::string, std::string>>) override {
        status_ = status;
        co_return true;
    }
    net::awaitable<bool> OnBody(std::string bytes) override {
        body_ += bytes;
        co_return body_.size() <= kAnswerLimit;
    }
    int status_ = 0;
    std::string body_;
};

struct NativeCall {
    std::string method;
    std::string path;
    std::string body;
    bool async_header = false;
};

// How a generation ends.
struct Ending {
    GenerationStatus status = GenerationStatus::kFailed;
    std::string code;
    std::string message;
    std::vector<store::GeneratedImage> images;
};

struct NativeAnswer {
    bool ok = false;  // an answer (any status) arrived
    Error error;
    int status = 0;
    std::string body;
    std::string request_id;
    bool Transient() const { return !ok || status == 429 || status >= 500; }
};

}  // namespace

// ---- pure parts ----

std::string GenerationErrorCode(std::string_view upstream_code) {
    if (upstream_code.find("DataInspection") != std::string_view::npos ||
        upstream_code == "data_inspection_failed")
        return "content_filtered";
    if (upstream_code.empty()) return "task_failed";
    return std::string(upstream_code);
}

TaskVerdict JudgeTask(const bailian::TaskInfo& task) {
    using bailian::TaskStatus;
    TaskVerdict v;
    switch (task.status) {
        case TaskStatus::kPending:
        case TaskStatus::kSuspended:
            v.action = TaskVerdict::Action::kWait;
            v.status = GenerationStatus::kPending;
            break;
        case TaskStatus::kRunning:
            v.action = TaskVerdict::Action::kRunning;
            v.status = GenerationStatus::kRunning;
            break;
        case TaskStatus::kSucceeded:
            v.action = TaskVerdict::Action::kSucceeded;
            v.status = GenerationStatus::kSucceeded;
            break;
        case TaskStatus::kFailed:
            v.action = TaskVerdict::Action::kFailed;
            v.status = GenerationStatus::kFailed;
            v.error_code = GenerationErrorCode(task.code);
            v.error_message = task.message.empty() ? "The image task failed." : task.message;
            break;
        case TaskStatus::kCanceled:
            v.action = TaskVerdict::Action::kFailed;
            v.status = GenerationStatus::kCanceled;
            v.error_code = "canceled";
            v.error_message = "The task was cancelled.";
            break;
        case TaskStatus::kUnknown:
            v.action = TaskVerdict::Action::kFailed;
            v.status = GenerationStatus::kFailed;
            v.error_code = "task_expired";
            v.error_message = "DashScope no longer knows this task.";
            break;
    }
    return v;
}

Ms PollDelay(int polls, const ImagesConfig& cfg) {
    double d = static_cast<double>(cfg.first_poll.count()) * std::pow(1.5, std::min(polls, 30));
    return Ms(static_cast<std::int64_t>(std::min(d, static_cast<double>(cfg.max_poll.count()))));
}

std::optional<std::int64_t> ImageSeed(const ImageGeneration& g, int index) {
    if (!g.seed) return std::nullopt;
    return *g.seed + index;
}

store::ApiCall GenerationCallRow(const ImageGeneration& g, const Catalog& catalog) {
    store::ApiCall c;
    c.id = core::NewId();
    c.user_id = g.user_id;
    c.api_key_id = g.api_key_id;
    c.endpoint = g.endpoint;
    c.model = g.model;
    c.image_count = std::count_if(g.images.begin(), g.images.end(),
                                  [](const store::GeneratedImage& x) { return x.ok; });
    c.cost_micro_cny = catalog.ImageCostMicroCny(g.model, c.image_count);
    std::int64_t end = g.finished_at.value_or(g.created_at);
    c.latency_ms = std::max<std::int64_t>(0, end - g.created_at);
    c.upstream_request_id = g.upstream_request_id;
    c.upstream_task_id = g.task_id;
    c.created_at = g.created_at;
    switch (g.status) {
        case GenerationStatus::kSucceeded:
            c.status_code = 200;
            break;
        case GenerationStatus::kCanceled:
            c.status_code = kClientClosedStatus;
            c.error_code = g.error_code.empty() ? "canceled" : g.error_code;
            break;
        default:
            c.error_code = g.error_code.empty() ? "task_failed" : g.error_code;
            c.status_code = c.error_code == "timeout"            ? 504
                            : c.error_code == "content_filtered" ? 400
                                                                 : 502;
            break;
    }
    return c;
}

// ---- the service ----

struct Images::Impl : std::enable_shared_from_this<Images::Impl> {
    Impl(store::Store& store, async::WorkerPool& db, bailian::Client& upstream,
         const Catalog& catalog, UsageRecorder& usage, store::FileStore& files,
         const core::Clock& clock, net::any_io_executor executor, std::string url_key,
         ImagesConfig cfg)
        : store(store), tasks(store.ImageTasks()), db(db), upstream(upstream),
          catalog(catalog), usage(usage), files(files),
          clock(clock), executor(executor), strand(net::make_strand(executor)), timer(strand),
          url_key(std::move(url_key)), cfg(std::move(cfg)) {}

    store::Store& store;
    store::ImageTaskStore& tasks;  // submit once, settle once
    async::WorkerPool& db;
    bailian::Client& upstream;
    const Catalog& catalog;
    UsageRecorder& usage;
    store::FileStore& files;
    const core::Clock& clock;
    net::any_io_executor executor;
    net::strand<net::any_io_executor> strand;  // the poller loop and its timer
    net::steady_timer timer;
    const std::string url_key;
    const ImagesConfig cfg;

    struct WatchImpl;
    std::mutex mu;
    std::multimap<std::chrono::steady_clock::time_point, std::string> due;  // guarded by mu
    std::set<std::string> known;  // queued or being worked on (guarded by mu)
    int active = 0;               // steps in flight (guarded by mu)
    bool stopped = false;         // guarded by mu
    bool leased = false;          // this hub polls (guarded by mu)
    std::atomic<std::int64_t> submits{0}, polls{0}, downloads{0};  // DashScope requests made
    std::chrono::steady_clock::time_point next_rescan{};  // guarded by mu
    std::map<std::string, std::vector<std::weak_ptr<WatchImpl>>> watchers;  // guarded by mu

    // -- scheduling --

    void Schedule(const std::string& id, Ms delay) {
        {
            std::lock_guard lk(mu);
            // Not polling here: the hub that holds the lease finds it in the database.
            if (stopped || !leased || !known.insert(id).second) return;  // queued or at work
            due.emplace(std::chrono::steady_clock::now() + delay, id);
        }
        Kick();
    }

    void Kick() {
        net::post(strand, [self = shared_from_this()] { self->timer.cancel(); });
    }

    net::awaitable<void> Loop() {
        for (;;) {
            std::vector<std::string> ready;
            Ms wait{60'000};
            bool rescan = false;
            {
                std::lock_guard lk(mu);
                if (stopped) co_return;
                auto now = std::chrono::steady_clock::now();
                if (leased && now >= next_rescan) {
                    rescan = true;
                    next_rescan = now + cfg.rescan_every;
                }
            }
            // Before the due times are read: nothing may suspend between reading them and
            // waiting, or a Kick in between would be lost.
            if (rescan) co_await Rescan();
            {
                std::lock_guard lk(mu);
                if (stopped) co_return;
                auto now = std::chrono::steady_clock::now();
                if (leased) {
                    wait = std::min(wait, std::chrono::duration_cast<Ms>(next_rescan - now) + Ms(1));
                }
                while (!due.empty() && due.begin()->first <= now && active < cfg.max_parallel) {
                    ready.push_back(due.begin()->second);
                    due.erase(due.begin());
                    ++active;
                }
                if (!due.empty() && active < cfg.max_parallel) {
                    wait = std::min(
                        wait, std::chrono::duration_cast<Ms>(due.begin()->first - now) + Ms(1));
                }
            }
            for (auto& id : ready) {
                net::co_spawn(executor, Work(shared_from_this(), id),
                              [self = shared_from_this(), id](std::exception_ptr e) {
                                  if (e) {
                                      obs::Error("image_task_step_failed", {{"generation_id", id}});
                                      std::lock_guard lk(self->mu);
                                      --self->active;
                                      self->known.erase(id);
                                  }
                                  self->Kick();
                              });
            }
            timer.expires_after(wait);
            boost::system::error_code ec;
            co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
    }

    // One step for one generation, then schedules the next one (or forgets it when settled).
    static net::awaitable<void> Work(std::shared_ptr<Impl> self, std::string id) {
        std::optional<Ms> next = co_await self->Step(id);
        std::lock_guard lk(self->mu);
        --self->active;
        if (next && !self->stopped && self->leased) {
            self->due.emplace(std::chrono::steady_clock::now() + *next, id);
        } else {
            self->known.erase(id);
        }
    }

    // Every unsettled generation in the database, whichever hub accepted it, is queued (those
    // already queued or at work are skipped by Schedule).
    net::awaitable<void> Rescan() {
        auto pending = co_await db.Run(
            [this](int limit) { return store.Images().ListUnsettled(limit); }, 10'000);
        if (!pending.ok()) {
            obs::Warn("image_tasks_scan_failed", {{"error", pending.error().detail}});
            co_return;
        }
        for (const auto& g : *pending) Schedule(g.id, Ms(0));
    }

    // -- watchers --

    // Another hub may be the one working on the generation, and its changes wake nobody here:
    // a watcher also looks again every `recheck` (Wait answers true: "read it again"), and
    // answers false only once `timeout` passed with no change (the caller's heartbeat).
    struct WatchImpl final : Watch, std::enable_shared_from_this<WatchImpl> {
        WatchImpl(net::any_io_executor ex, Ms recheck) : timer(std::move(ex)), recheck(recheck) {}
        net::awaitable<bool> Wait(Ms timeout) override {
            using Steady = std::chrono::steady_clock;
            if (fired.exchange(false)) {
                deadline.reset();
                co_return true;
            }
            auto now = Steady::now();
            if (!deadline) deadline = now + timeout;
            timer.expires_at(std::min(*deadline, now + recheck));
            boost::system::error_code ec;
            co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
            if (fired.exchange(false)) {
                deadline.reset();
                co_return true;
            }
            if (Steady::now() < *deadline) co_return true;
            deadline.reset();
            co_return false;
        }
        void Wake() override {
            fired = true;
            net::post(timer.get_executor(), [self = shared_from_this()] { self->timer.cancel(); });
        }
        net::steady_timer timer;
        const Ms recheck;
        std::optional<std::chrono::steady_clock::time_point> deadline;  // of the current timeout
        std::atomic<bool> fired{false};
    };

    void Notify(const std::string& id) {
        std::vector<std::shared_ptr<WatchImpl>> wake;
        {
            std::lock_guard lk(mu);
            auto it = watchers.find(id);
            if (it == watchers.end()) return;
            auto& list = it->second;
            for (auto& w : list) {
                if (auto p = w.lock()) wake.push_back(std::move(p));
            }
            list.erase(std::remove_if(list.begin(), list.end(),
                                      [](const std::weak_ptr<WatchImpl>& w) { return w.expired(); }),
                       list.end());
            if (list.empty()) watchers.erase(it);
        }
        for (auto& w : wake) w->Wake();
    }

    // -- DashScope --

    net::awaitable<NativeAnswer> Native(NativeCall call) {
        bailian::RawRequest req;
        req.method = std::move(call.method);
        req.path = std::move(call.path);
        req.body = std::move(call.body);
        req.request_id = core::NewId();
        if (!req.body.empty()) req.headers.emplace_back("Content-Type", "application/json");
        if (call.async_header) req.headers.emplace_back("X-DashScope-Async", "enable");
        CollectSink sink;
        bailian::Cancel cancel;
        bailian::RawOutcome out = co_await upstream.Forward(std::move(req), sink, cancel);
        NativeAnswer a;
        a.ok = out.ok;
        a.error = out.error;
        a.status = out.status;
        a.body = std::move(sink.body_);
        a.request_id = out.upstream_request_id;
        co_return a;
    }

    // DashScope cancels only a PENDING task; any other answer means it runs or has ended.
    net::awaitable<NativeAnswer> CancelTask(std::string task_id) {
        NativeCall cancel{"POST", "/api/v1/tasks/" + task_id + "/cancel", "", false};
        co_return co_await Native(std::move(cancel));
    }

    static std::string SubmitBody(const ImageGeneration& g) {
        json input = {{"prompt", g.prompt}};
        if (!g.negative_prompt.empty()) input["negative_prompt"] = g.negative_prompt;
        json params = {{"size", g.size},
                       {"n", g.n},
                       {"prompt_extend", g.prompt_extend},
                       {"watermark", g.watermark}};
        if (g.seed) params["seed"] = *g.seed;
        json body = {{"model", g.model}, {"input", input}, {"parameters", params}};
        return body.dump(-1, ' ', false, json::error_handler_t::replace);
    }

    // -- steps --

    net::awaitable<Result<ImageGeneration>> Update(std::string id, store::GenerationPatch patch) {
        co_return co_await db.Run(
            [this](std::string id, store::GenerationPatch p) {
                return store.Images().Update(id, p);
            },
            std::move(id), std::move(patch));
    }

    // A retry after a passing fault (no key free, 429, 5xx, a broken answer).
    net::awaitable<std::optional<Ms>> Later(ImageGeneration g, std::string why) {
        obs::Warn("image_task_retry", {{"generation_id", g.id}, {"reason", why}, {"polls", g.polls}});
        store::GenerationPatch p;
        p.polls = g.polls + 1;
        auto r = co_await Update(g.id, p);
        if (!r.ok()) co_return std::nullopt;
        co_return PollDelay(g.polls + 1, cfg);
    }

    net::awaitable<std::optional<Ms>> Step(std::string id) {
        auto got = co_await db.Run([this](std::string id) { return store.Images().GetAny(id); },
                                   id);
        if (!got.ok()) {
            if (got.error().code == ErrorCode::kNotFound) co_return std::nullopt;
            obs::Warn("image_task_read_failed", {{"generation_id", id}, {"error", got.error().detail}});
            co_return Ms(5'000);
        }
        ImageGeneration g = std::move(got.value());
        if (g.accounted_at) co_return std::nullopt;
        if (store::IsFinished(g.status)) {
            bool accounted = co_await Account(g);
            if (accounted) co_return std::nullopt;
            co_return Ms(10'000);
        }
        if (clock.NowMs() - g.created_at > cfg.task_timeout.count()) {
            Ending end{GenerationStatus::kFailed, "timeout",
                       "The image task did not finish in time.", {}};
            co_await End(g, std::move(end));
            co_return std::nullopt;
        }
        if (g.task_id.empty()) co_return co_await Submit(g);
        co_return co_await Poll(g);
    }

    // Submitting exactly once. DashScope's native API has no idempotency key, so the intent is
    // recorded first (ClaimSubmit sets submit_started_at, only if nobody did): a poller that
    // finds the intent without a task id knows a submit was begun by a hub that stopped (or lost
    // its lease) before recording DashScope's answer. It never submits again — the task may
    // exist and run — but ends the generation as "submit_interrupted" (one api_calls row, no
    // image, no cost) once submit_grace has passed (the other hub may still record it; its
    // RecordTask then fails and it cancels the task). A submit that failed before DashScope could
    // take it (429, 5xx, no connection) withdraws its intent and is retried, as before; one that
    // timed out waiting for the answer keeps it (it may have been taken).
    net::awaitable<std::optional<Ms>> Submit(ImageGeneration g) {
        auto claimed = co_await db.Run(
            [this](std::string id, std::int64_t at) { return tasks.ClaimSubmit(id, at); },
            g.id, clock.NowMs());
        if (!claimed.ok()) {
            obs::Warn("image_submit_claim_failed",
                      {{"generation_id", g.id}, {"error", claimed.error().detail}});
            co_return Ms(5'000);
        }
        if (!*claimed) {
            // Begun by a poller that never recorded the answer — or it ended, or got its task
            // id, meanwhile (then the next step sees that).
            auto started = co_await db.Run(
                [this](std::string id) { return tasks.SubmitStartedAt(id); }, g.id);
            if (started.ok() && started->has_value()) co_return co_await Interrupted(g, **started);
            co_return Ms(200);
        }
        NativeCall submit{"POST", std::string(kSubmitPath), SubmitBody(g), true};
        ++submits;
        NativeAnswer a = co_await Native(std::move(submit));
        if (a.Transient()) {
            std::string why = a.ok ? "status " + std::to_string(a.status) : a.error.api_code;
            // A timeout may have come after DashScope took the task: the intent stays, and the
            // generation ends as submit_interrupted rather than being submitted twice.
            if (a.ok || a.error.code != ErrorCode::kUpstreamTimeout) {
                (void)co_await db.Run(
                    [this](std::string id) { return tasks.ReleaseSubmit(id); }, g.id);
            }
            co_return co_await Later(g, why);
        }
        if (a.status != 200) {
            bailian::UpstreamError e = bailian::ParseErrorBody(a.status, a.body, a.request_id);
            store::GenerationPatch p;
            p.upstream_request_id = e.request_id.empty() ? a.request_id : e.request_id;
            (void)co_await Update(g.id, p);
            g.upstream_request_id = *p.upstream_request_id;
            Ending end{GenerationStatus::kFailed, GenerationErrorCode(e.code), e.message, {}};
            if (end.message.empty()) end.message = "DashScope refused the request.";
            co_await End(g, std::move(end));
            co_return std::nullopt;
        }
        auto task = bailian::ParseTaskResponse(a.body);
        if (!task.ok() || task->task_id.empty()) {
            std::string why = "malformed submit answer";
            co_return co_await Later(g, why);
        }
        store::GenerationPatch p;
        p.task_id = task->task_id;
        p.upstream_request_id = task->request_id.empty() ? a.request_id : task->request_id;
        p.submitted_at = clock.NowMs();
        p.polls = 0;
        auto r = co_await db.Run(
            [this](std::string id, store::GenerationPatch p) {
                return tasks.RecordTask(id, p);
            },
            g.id, p);
        if (!r.ok()) {
            // The intent stays: the generation ends as submit_interrupted, never resubmitted.
            obs::Error("image_task_record_failed", {{"generation_id", g.id},
                                                    {"task_id", task->task_id},
                                                    {"error", r.error().detail}});
            co_return Ms(1'000);
        }
        if (!*r) {
            // Deleted, or ended by another poller, while it was being submitted: DashScope need
            // not run it.
            (void)co_await CancelTask(task->task_id);
            co_return std::nullopt;
        }
        Notify(g.id);
        co_return cfg.first_poll;
    }

    // A submit begun by a poller that never recorded its answer (see Submit).
    net::awaitable<std::optional<Ms>> Interrupted(ImageGeneration g, std::int64_t started_at) {
        const std::int64_t since = clock.NowMs() - started_at;
        if (since < cfg.submit_grace.count()) {
            co_return std::max(Ms(100), std::min(Ms(cfg.submit_grace.count() - since), Ms(1'000)));
        }
        obs::Warn("image_submit_interrupted", {{"generation_id", g.id}});
        Ending end{GenerationStatus::kFailed, "submit_interrupted",
                   "The hub submitting this generation stopped before DashScope's answer was "
                   "recorded; it was not submitted again. Please try again.",
                   {}};
        co_await End(g, std::move(end));
        co_return std::nullopt;
    }

    net::awaitable<std::optional<Ms>> Poll(ImageGeneration g) {
        NativeCall poll{"GET", "/api/v1/tasks/" + g.task_id, "", false};
        ++polls;
        NativeAnswer a = co_await Native(std::move(poll));
        if (a.Transient()) {
            std::string why = a.ok ? "status " + std::to_string(a.status) : a.error.api_code;
            co_return co_await Later(g, why);
        }
        auto task = bailian::ParseTaskResponse(a.body);
        if (a.status != 200 || !task.ok()) {
            std::string why = "unexpected task answer";
            co_return co_await Later(g, why);
        }
        TaskVerdict v = JudgeTask(*task);
        switch (v.action) {
            case TaskVerdict::Action::kWait:
            case TaskVerdict::Action::kRunning: {
                store::GenerationPatch p;
                p.polls = g.polls + 1;
                bool moved = v.status == GenerationStatus::kRunning &&
                             g.status != GenerationStatus::kRunning;
                if (moved) {
                    p.status = GenerationStatus::kRunning;
                    p.started_at = clock.NowMs();
                }
                auto r = co_await Update(g.id, p);
                if (!r.ok()) co_return std::nullopt;
                if (moved) Notify(g.id);
                co_return PollDelay(g.polls + 1, cfg);
            }
            case TaskVerdict::Action::kSucceeded: {
                std::vector<store::GeneratedImage> images = co_await Download(g, *task);
                auto ok = std::count_if(images.begin(), images.end(),
                                        [](const store::GeneratedImage& x) { return x.ok; });
                Ending end{GenerationStatus::kSucceeded, "", "", std::move(images)};
                if (ok == 0) {
                    end.status = GenerationStatus::kFailed;
                    end.code = "image_failed";
                    end.message = "No image could be generated.";
                    for (const auto& x : end.images) {
                        if (!x.error_code.empty()) {
                            end.code = x.error_code;
                            end.message = x.error_message;
                            break;
                        }
                    }
                }
                co_await End(g, std::move(end));
                co_return std::nullopt;
            }
            case TaskVerdict::Action::kFailed: {
                Ending end{v.status, v.error_code, v.error_message, {}};
                co_await End(g, std::move(end));
                co_return std::nullopt;
            }
        }
        co_return std::nullopt;
    }

    net::awaitable<std::vector<store::GeneratedImage>> Download(ImageGeneration g,
                                                                bailian::TaskInfo task) {
        std::vector<store::GeneratedImage> out;
        for (std::size_t i = 0; i < task.results.size(); ++i) {
            const bailian::TaskItem& item = task.results[i];
            store::GeneratedImage x;
            x.generation_id = g.id;
            x.user_id = g.user_id;
            x.index = static_cast<int>(i);
            x.seed = ImageSeed(g, x.index);
            x.actual_prompt = item.actual_prompt;
            if (!item.ok()) {
                x.error_code = GenerationErrorCode(item.code);
                x.error_message = item.message.empty() ? "This image failed." : item.message;
                out.push_back(std::move(x));
                continue;
            }
            bailian::Cancel cancel;
            ++downloads;
            auto fetched = co_await upstream.FetchResult(item.url, cfg.max_image_bytes, cancel);
            if (!fetched.ok()) {
                obs::Warn("image_download_failed", {{"generation_id", g.id},
                                                    {"index", i},
                                                    {"error", fetched.error().api_code},
                                                    {"detail", fetched.error().detail}});
                x.error_code = fetched.error().api_code;
                x.error_message = fetched.error().public_message;
                out.push_back(std::move(x));
                continue;
            }
            auto kind = ProbeImage(fetched->body);
            if (!kind) {
                obs::Warn("image_download_not_an_image",
                          {{"generation_id", g.id}, {"index", i},
                           {"content_type", fetched->content_type}});
                x.error_code = "not_an_image";
                x.error_message = "The result was not a PNG, JPEG or WebP image.";
                out.push_back(std::move(x));
                continue;
            }
            std::string sha = crypto::Sha256Hex(fetched->body);
            auto stored = co_await db.Run(
                [this](std::string bytes, std::string sha, std::string ext) {
                    return files.Put(bytes, sha, ext);
                },
                std::move(fetched->body), sha, kind->extension);
            if (!stored.ok()) {
                obs::Error("image_store_failed",
                           {{"generation_id", g.id}, {"error", stored.error().detail}});
                x.error_code = "storage_failed";
                x.error_message = "The image could not be stored.";
                out.push_back(std::move(x));
                continue;
            }
            x.ok = true;
            x.file_path = stored->path;
            x.sha256 = stored->sha256;
            x.bytes = stored->bytes;
            x.content_type = kind->content_type;
            x.width = kind->width;
            x.height = kind->height;
            out.push_back(std::move(x));
        }
        co_return out;
    }

    // Ends a generation, wakes its watchers and writes its api_calls row.
    net::awaitable<void> End(ImageGeneration g, Ending end) {
        store::GenerationPatch p;
        p.status = end.status;
        p.error_code = end.code;
        p.error_message = end.message;
        p.finished_at = clock.NowMs();
        const GenerationStatus status = end.status;
        auto r = co_await db.Run(
            [this](std::string id, store::GenerationPatch p, std::vector<store::GeneratedImage> v) {
                return store.Images().Finish(id, p, std::move(v));
            },
            g.id, p, end.images);
        if (!r.ok()) {
            if (r.error().code == ErrorCode::kNotFound) co_await RemoveUnused(end.images);
            else if (r.error().code != ErrorCode::kConflict)
                obs::Error("image_finish_failed", {{"generation_id", g.id}, {"error", r.error().detail}});
            co_return;
        }
        obs::Info("image_generation_finished", {{"generation_id", g.id},
                                                {"status", std::string(store::ToString(status))},
                                                {"error_code", r->error_code},
                                                {"images", r->images.size()}});
        Notify(g.id);
        ImageGeneration finished = std::move(r.value());
        (void)co_await Account(std::move(finished));
    }

    // Settles the generation and writes its api_calls row in one transaction, conditional on
    // it not being settled yet: a poller that lost its lease and raced the new holder can never
    // bill it a second time (the database is the fence). False: try again later.
    net::awaitable<bool> Account(ImageGeneration g) {
        store::ApiCall row = GenerationCallRow(g, catalog);
        auto settled = co_await db.Run(
            [this](std::string id, store::ApiCall row, std::int64_t at) {
                return tasks.Settle(id, row, at);
            },
            g.id, row, clock.NowMs());
        if (!settled.ok()) {
            obs::Error("image_settle_failed",
                       {{"generation_id", g.id}, {"error", settled.error().detail}});
            co_return false;
        }
        if (*settled) usage.Recorded(row);
        co_return true;
    }

    // Files no stored image refers to any more are removed.
    net::awaitable<void> RemoveUnused(std::vector<store::GeneratedImage> images) {
        for (const auto& x : images) {
            if (x.file_path.empty()) continue;
            (void)co_await db.Run(
                [this](std::string path) -> Result<void> {
                    auto uses = store.Images().CountFileUses(path);
                    if (!uses.ok()) return uses.error();
                    if (*uses > 0) return {};
                    return files.Remove(path);
                },
                x.file_path);
        }
    }

    // -- files --

    std::string Sign(const std::string& image_id, std::int64_t exp) const {
        return crypto::Base64UrlEncode(
            crypto::HmacSha256(url_key, "file:" + image_id + ":" + std::to_string(exp)));
    }

    net::awaitable<Result<FileContent>> Serve(Result<store::GeneratedImage> image) {
        if (!image.ok() || !image->ok) {
            co_return Error::Make(ErrorCode::kNotFound, "not_found", "No such file.");
        }
        auto bytes = co_await db.Run([this](std::string path) { return files.Read(path); },
                                     image->file_path);
        if (!bytes.ok()) {
            obs::Error("image_file_missing", {{"image_id", image->id}, {"error", bytes.error().detail}});
            co_return Error::Make(ErrorCode::kNotFound, "not_found", "No such file.");
        }
        std::string ext = image->content_type == "image/jpeg"  ? "jpg"
                          : image->content_type == "image/webp" ? "webp"
                                                                : "png";
        co_return FileContent{std::move(bytes.value()), image->content_type, image->sha256,
                              "image-" + image->id + "." + ext};
    }
};

Images::Images(store::Store& store, async::WorkerPool& db, bailian::Client& upstream,
               const Catalog& catalog, UsageRecorder& usage, store::FileStore& files,
               const core::Clock& clock, net::any_io_executor executor, std::string url_key,
               ImagesConfig cfg)
    : impl_(std::make_shared<Impl>(store, db, upstream, catalog, usage, files, clock, executor,
                                   std::move(url_key), cfg)),
      cfg_(cfg),
      catalog_(catalog) {}

Images::~Images() { Stop(); }

void Images::Start(bool active) {
    net::co_spawn(impl_->strand, impl_->Loop(), [](std::exception_ptr e) {
        if (e) obs::Error("image_poller_stopped", {{"error", "exception"}});
    });
    if (active) Activate();
}

void Images::Activate() {
    {
        std::lock_guard lk(impl_->mu);
        if (impl_->stopped || impl_->leased) return;
        impl_->leased = true;
        impl_->next_rescan = {};  // the loop reads the database at once
    }
    obs::Info("image_poller_active", {});
    impl_->Kick();
}

void Images::Deactivate() {
    {
        std::lock_guard lk(impl_->mu);
        if (!impl_->leased) return;
        impl_->leased = false;
        for (const auto& [at, id] : impl_->due) impl_->known.erase(id);
        impl_->due.clear();
    }
    obs::Info("image_poller_inactive", {});
    impl_->Kick();
}

Images::TaskRequests Images::task_requests() const {
    return {impl_->submits.load(), impl_->polls.load(), impl_->downloads.load()};
}

bool Images::active() const {
    std::lock_guard lk(impl_->mu);
    return impl_->leased;
}

void Images::Stop() {
    {
        std::lock_guard lk(impl_->mu);
        if (impl_->stopped) return;
        impl_->stopped = true;
    }
    impl_->Kick();
}

net::awaitable<Result<ImageGeneration>> Images::Create(std::string user_id,
                                                       std::optional<std::string> api_key_id,
                                                       ImageRequest req, std::string endpoint) {
    auto valid = ValidateImageRequest(catalog_, cfg_.default_model, std::move(req));
    if (!valid.ok()) co_return valid.error();
    ImageGeneration g;
    g.user_id = std::move(user_id);
    g.api_key_id = std::move(api_key_id);
    g.endpoint = std::move(endpoint);
    g.model = valid->model;
    g.prompt = valid->prompt;
    g.negative_prompt = valid->negative_prompt;
    g.size = valid->size;
    g.n = valid->n.value_or(1);
    g.seed = valid->seed;
    g.prompt_extend = valid->prompt_extend;
    g.watermark = valid->watermark;
    Impl& impl = *impl_;
    auto r = co_await impl.db.Run(
        [&impl](ImageGeneration g) { return impl.store.Images().Create(std::move(g)); },
        std::move(g));
    if (!r.ok()) co_return r.error();
    impl.Schedule(r->id, Ms(0));
    co_return r;
}

net::awaitable<Result<ImageGeneration>> Images::Get(std::string user_id, std::string id) {
    Impl& impl = *impl_;
    auto r = co_await impl.db.Run(
        [&impl](std::string u, std::string id) { return impl.store.Images().Get(u, id); },
        std::move(user_id), std::move(id));
    if (!r.ok() && r.error().code == ErrorCode::kNotFound) co_return NotFoundError();
    co_return r;
}

net::awaitable<Result<store::Page<ImageGeneration>>> Images::List(std::string user_id,
                                                                  store::PageRequest page) {
    Impl& impl = *impl_;
    co_return co_await impl.db.Run(
        [&impl](std::string u, store::PageRequest p) { return impl.store.Images().ListByUser(u, p); },
        std::move(user_id), std::move(page));
}

net::awaitable<Result<void>> Images::Delete(std::string user_id, std::string id) {
    Impl& impl = *impl_;
    auto r = co_await impl.db.Run(
        [&impl](std::string u, std::string id) { return impl.store.Images().Delete(u, id); },
        std::move(user_id), id);
    if (!r.ok()) {
        if (r.error().code == ErrorCode::kNotFound) co_return NotFoundError();
        co_return r.error();
    }
    ImageGeneration g = std::move(r.value());
    if (g.status == GenerationStatus::kPending && !g.task_id.empty()) {
        // Only a PENDING task can be cancelled; a refusal means it already runs.
        NativeAnswer a = co_await impl.CancelTask(g.task_id);
        obs::Info("image_task_cancel", {{"generation_id", g.id}, {"status", a.status}});
    }
    if (!g.accounted_at && !g.task_id.empty()) {
        // Account what was asked of DashScope even though the owner removed it.
        if (!store::IsFinished(g.status)) {
            g.status = GenerationStatus::kCanceled;
            g.error_code = "deleted";
            g.finished_at = impl.clock.NowMs();
        }
        store::ApiCall row = GenerationCallRow(g, impl.catalog);
        (void)co_await impl.usage.Record(std::move(row));
    }
    std::vector<store::GeneratedImage> removed = g.images;
    co_await impl.RemoveUnused(std::move(removed));
    impl.Notify(g.id);
    co_return Result<void>{};
}

net::awaitable<std::shared_ptr<Images::Watch>> Images::Subscribe(std::string generation_id) {
    auto w = std::make_shared<Impl::WatchImpl>(co_await net::this_coro::executor,
                                               impl_->cfg.watch_recheck);
    std::lock_guard lk(impl_->mu);
    impl_->watchers[generation_id].push_back(w);
    co_return w;
}

net::awaitable<Result<FileContent>> Images::ReadFile(std::string user_id, std::string image_id) {
    Impl& impl = *impl_;
    auto image = co_await impl.db.Run(
        [&impl](std::string u, std::string id) { return impl.store.Images().GetImage(u, id); },
        std::move(user_id), std::move(image_id));
    co_return co_await impl.Serve(std::move(image));
}

net::awaitable<Result<FileContent>> Images::ReadSignedFile(std::string image_id,
                                                           std::string expires,
                                                           std::string signature) {
    Impl& impl = *impl_;
    std::int64_t exp = 0;
    auto [end, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), exp);
    bool valid = ec == std::errc() && end == expires.data() + expires.size() &&
                 crypto::ConstantTimeEquals(signature, impl.Sign(image_id, exp));
    if (!valid) co_return Error::Make(ErrorCode::kNotFound, "not_found", "No such file.");
    if (exp < impl.clock.NowSeconds()) {
        co_return Error::Make(ErrorCode::kForbidden, "link_expired",
                              "This image link has expired; reload the page.");
    }
    auto image = co_await impl.db.Run(
        [&impl](std::string id) { return impl.store.Images().GetImageById(id); },
        std::move(image_id));
    co_return co_await impl.Serve(std::move(image));
}

std::string Images::SignedPath(const std::string& image_id) const {
    // Rounded up to ten minutes, so the same image keeps one URL for a while (browser cache).
    std::int64_t exp = ((impl_->clock.NowSeconds() + cfg_.url_ttl.count()) / 600 + 1) * 600;
    return "/api/v1/files/" + image_id + "?exp=" + std::to_string(exp) +
           "&sig=" + impl_->Sign(image_id, exp);
}

}  // namespace hub::services
