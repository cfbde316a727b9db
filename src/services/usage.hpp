#pragma once
// Usage records: one api_calls row per upstream call (chat, titles, the compatible API,
// images), with tokens, latency, time to first token, DashScope's request id and the cost
// from the model catalog. Also the read side of the history (own calls, or everyone's for
// admins and auditors).
#include <atomic>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "async/offload.hpp"
#include "auth/rbac.hpp"
#include "bailian/client.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "services/models.hpp"
#include "store/store.hpp"

namespace hub::obs {
class Registry;
}

namespace hub::services {

struct UsageMetrics;

// core::ErrorCode -> HTTP status. app/ passes api::StatusFor (the one mapping of the project).
using StatusMapper = int (*)(core::ErrorCode);

// HTTP status recorded for a call the client abandoned (nginx's "client closed request").
inline constexpr int kClientClosedStatus = 499;

// Who made a call and through what.
struct CallSource {
    std::string user_id;
    std::optional<std::string> api_key_id;       // platform key, when the call came with one
    std::optional<std::string> conversation_id;  // chat calls
    std::string endpoint;  // "chat", "chat.title", "/v1/chat/completions", ...
    std::string model;     // as requested (and sent upstream)
};

// Told about every api_calls row as it is recorded (budgets and token buckets, services::Limits).
class CallObserver {
public:
    virtual ~CallObserver() = default;
    virtual void OnCall(const store::ApiCall& call) = 0;
};

class UsageRecorder {
public:
    // With `metrics`, every recorded call also counts in bailian_hub_api_calls_total,
    // bailian_hub_tokens_total, bailian_hub_images_total and the upstream latency and
    // time-to-first-token histograms (by model).
    UsageRecorder(store::Store& store, async::WorkerPool& db, const Catalog& catalog,
                  const core::Clock& clock, StatusMapper status_of,
                  obs::Registry* metrics = nullptr, CallObserver* observer = nullptr);
    ~UsageRecorder();

    // Writes the row (id and created_at filled when empty). A failed write is retried once and
    // then logged with the whole row, so an operator can restore it; returns whether it stuck.
    net::awaitable<bool> Record(store::ApiCall call);
    // A row the caller wrote itself, in its own transaction (an image generation settles and
    // bills in one): counted, observed and metered exactly as Record would.
    void Recorded(const store::ApiCall& call);
    // A second observer told of every call (security events: spend spikes). Set at start-up.
    void SetSecondObserver(CallObserver* observer) { second_observer_.store(observer); }

    // The row for one chat call (pure): status 200 when ok, 499 when the client went away,
    // else the status of the hub error; error_code DashScope's code when it sent one, else the
    // hub's; tokens from DashScope's usage; cost from the catalog (thinking price when
    // `thinking`); created_at = started_at_ms.
    store::ApiCall ChatRow(const CallSource& source, const bailian::ChatOutcome& outcome,
                           std::int64_t started_at_ms, bool thinking = false) const;

    int StatusOf(core::ErrorCode code) const;
    const Catalog& catalog() const { return catalog_; }

    // Reads: `who` sees their own calls; with history:read:all another user's through a
    // `user_id` filter. Others asking for another user get 403.
    net::awaitable<core::Result<store::Page<store::ApiCall>>> List(auth::Principal who,
                                                                   store::ApiCallFilter filter,
                                                                   store::PageRequest page);
    net::awaitable<core::Result<store::UsageStats>> Stats(auth::Principal who,
                                                          store::ApiCallFilter filter,
                                                          store::UsageGroupBy group_by,
                                                          int tz_offset_minutes);

    // The statistics page: totals, by day, by model, by day and model, from one pass.
    // platform_wide (the admin console): needs history:read:all; no user_id filter means
    // everyone, and the top users and platform keys by cost are ranked too.
    net::awaitable<core::Result<store::UsageDashboard>> Dashboard(auth::Principal who,
                                                                  store::ApiCallFilter filter,
                                                                  int tz_offset_minutes,
                                                                  bool platform_wide);
    // One batch of the CSV export, newest first, scoped as List.
    net::awaitable<core::Result<store::Page<store::ApiCall>>> ExportBatch(
        auth::Principal who, store::ApiCallFilter filter, store::PageRequest page, int limit);

    // Rows written / rows lost since start (metrics).
    std::int64_t written() const { return written_.load(); }
    std::int64_t failed() const { return failed_.load(); }

private:
    core::Result<store::ApiCallFilter> Scope(const auth::Principal& who,
                                             store::ApiCallFilter filter,
                                             bool platform_wide = false) const;

    store::Store& store_;
    async::WorkerPool& db_;
    const Catalog& catalog_;
    const core::Clock& clock_;
    StatusMapper status_of_;
    std::atomic<std::int64_t> written_{0};
    std::atomic<std::int64_t> failed_{0};
    std::unique_ptr<UsageMetrics> metrics_;
    CallObserver* observer_;
    std::atomic<CallObserver*> second_observer_{nullptr};
};

}  // namespace hub::services
