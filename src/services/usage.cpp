#include "services/usage.hpp"

#include <nlohmann/json.hpp>

#include "async/write_lane.hpp"
#include "core/id.hpp"
#include "obs/logging.hpp"
#include "obs/metrics.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;

// Models label several families: at most this many models each (the rest fold into _other).
constexpr std::size_t kModelSeries = 200;

struct UsageMetrics {
    explicit UsageMetrics(obs::Registry& r)
        : calls(r.AddCounter("bailian_hub_api_calls_total",
                             "Upstream calls recorded in api_calls, by endpoint and HTTP status.",
                             {"endpoint", "status"})),
          tokens(r.AddCounter("bailian_hub_tokens_total", "Tokens billed, by model and kind.",
                              {"model", "kind"}, 2 * kModelSeries)),
          images(r.AddCounter("bailian_hub_images_total", "Images generated, by model.",
                              {"model"}, kModelSeries)),
          latency(r.AddHistogram("bailian_hub_upstream_duration_seconds",
                                 "Upstream call time, request to last byte, by model.", {"model"},
                                 obs::LatencyBuckets(), kModelSeries)),
          ttft(r.AddHistogram("bailian_hub_upstream_ttft_seconds",
                              "Time to the first token (streams) or to the first byte of a whole "
                              "answer, by model.", {"model"},
                              obs::SlowBuckets(), kModelSeries)),
          write_failures(r.AddCounter("bailian_hub_api_call_write_failures_total",
                                      "api_calls rows that could not be written (logged whole).")
                             .With({})) {}

    void Observe(const store::ApiCall& c) {
        calls.With({c.endpoint, std::to_string(c.status_code)}).Inc();
        if (c.input_tokens > 0) tokens.With({c.model, "input"}).Inc(static_cast<double>(c.input_tokens));
        if (c.output_tokens > 0)
            tokens.With({c.model, "output"}).Inc(static_cast<double>(c.output_tokens));
        if (c.image_count > 0) images.With({c.model}).Inc(static_cast<double>(c.image_count));
        latency.With({c.model}).Observe(static_cast<double>(c.latency_ms) / 1000.0);
        if (c.first_token_ms) ttft.With({c.model}).Observe(static_cast<double>(*c.first_token_ms) / 1000.0);
    }

    obs::Family<obs::Counter>& calls;
    obs::Family<obs::Counter>& tokens;
    obs::Family<obs::Counter>& images;
    obs::Family<obs::Histogram>& latency;
    obs::Family<obs::Histogram>& ttft;
    obs::Counter& write_failures;
};

UsageRecorder::UsageRecorder(store::Store& store, async::WorkerPool& db, const Catalog& catalog,
                             const core::Clock& clock, StatusMapper status_of,
                             obs::Registry* metrics, CallObserver* observer)
    : store_(store), db_(db), catalog_(catalog), clock_(clock), status_of_(status_of),
      metrics_(metrics ? std::make_unique<UsageMetrics>(*metrics) : nullptr),
      observer_(observer) {}

UsageRecorder::~UsageRecorder() = default;

int UsageRecorder::StatusOf(ErrorCode code) const {
    if (status_of_) return status_of_(code);
    return code == ErrorCode::kUpstreamTimeout ? 504 : 502;
}

store::ApiCall UsageRecorder::ChatRow(const CallSource& source, const bailian::ChatOutcome& outcome,
                                      std::int64_t started_at_ms, bool thinking) const {
    store::ApiCall c;
    c.id = core::NewId();
    c.user_id = source.user_id;
    c.api_key_id = source.api_key_id;
    c.conversation_id = source.conversation_id;
    c.endpoint = source.endpoint;
    c.model = source.model;
    const bailian::Usage& u = outcome.result.usage;
    c.input_tokens = u.input_tokens;
    c.output_tokens = u.output_tokens;
    c.image_tokens = u.image_tokens;  // part of input_tokens, priced with them
    c.latency_ms = std::max<std::int64_t>(0, outcome.latency_ms);
    if (outcome.first_token_ms >= 0) c.first_token_ms = outcome.first_token_ms;
    c.upstream_request_id = outcome.upstream_request_id.empty() ? outcome.result.request_id
                                                                : outcome.upstream_request_id;
    if (outcome.ok) {
        c.status_code = 200;
    } else if (outcome.cancelled) {
        c.status_code = kClientClosedStatus;
        c.error_code = "client_closed";
    } else {
        c.status_code = StatusOf(outcome.error.code);
        c.error_code = !outcome.error_code.empty()       ? outcome.error_code
                       : !outcome.error.api_code.empty() ? outcome.error.api_code
                                                         : std::string("upstream_error");
    }
    // An interrupted stream is billed for what was generated (bailian-api.md §7).
    c.cost_micro_cny = catalog_.CostMicroCny(source.model, u, thinking);
    c.created_at = started_at_ms > 0 ? started_at_ms : clock_.NowMs();
    return c;
}

void UsageRecorder::Recorded(const store::ApiCall& call) {
    if (metrics_) metrics_->Observe(call);
    if (observer_) observer_->OnCall(call);
    if (auto* second = second_observer_.load()) second->OnCall(call);
    ++written_;
}

net::awaitable<bool> UsageRecorder::Record(store::ApiCall call) {
    if (call.id.empty()) call.id = core::NewId();
    if (call.created_at == 0) call.created_at = clock_.NowMs();
    if (metrics_) metrics_->Observe(call);
    // Budgets count the call even when its row cannot be written (it was billed upstream).
    if (observer_) observer_->OnCall(call);
    if (auto* second = second_observer_.load()) second->OnCall(call);
    for (int attempt = 1; attempt <= 2; ++attempt) {
        auto r = co_await async::RunWrite(db_,
            [this](store::ApiCall c) { return store_.ApiCalls().Insert(std::move(c)); }, call);
        if (r.ok()) {
            ++written_;
            co_return true;
        }
        if (attempt == 2) {
            ++failed_;
            if (metrics_) metrics_->write_failures.Inc();
            obs::Error("api_call_write_failed",
                       {{"detail", r.error().detail},
                        {"row",
                         {{"id", call.id},
                          {"user_id", call.user_id},
                          {"conversation_id", call.conversation_id.value_or("")},
                          {"endpoint", call.endpoint},
                          {"model", call.model},
                          {"status_code", call.status_code},
                          {"error_code", call.error_code},
                          {"input_tokens", call.input_tokens},
                          {"output_tokens", call.output_tokens},
                          {"latency_ms", call.latency_ms},
                          {"cost_micro_cny", call.cost_micro_cny},
                          {"upstream_request_id", call.upstream_request_id},
                          {"created_at", call.created_at}}}});
        }
    }
    co_return false;
}

Result<store::ApiCallFilter> UsageRecorder::Scope(const auth::Principal& who,
                                                  store::ApiCallFilter filter,
                                                  bool platform_wide) const {
    if (platform_wide) {
        if (!who.Can(auth::perm::kHistoryReadAll)) {
            return Error::Make(ErrorCode::kForbidden, "forbidden",
                               "Only admins and auditors may read platform statistics.");
        }
        return filter;  // user_id as asked, or everyone
    }
    if (who.Can(auth::perm::kHistoryReadAll)) {
        if (!filter.user_id) filter.user_id = who.user_id;  // one's own unless asked
        return filter;
    }
    if (!who.Can(auth::perm::kHistoryReadOwn)) {
        return Error::Make(ErrorCode::kForbidden, "forbidden",
                           "You do not have permission to read the call history.");
    }
    if (filter.user_id && *filter.user_id != who.user_id) {
        return Error::Make(ErrorCode::kForbidden, "forbidden",
                           "Only admins and auditors may read other users' history.");
    }
    filter.user_id = who.user_id;
    return filter;
}

net::awaitable<Result<store::Page<store::ApiCall>>> UsageRecorder::List(auth::Principal who,
                                                                        store::ApiCallFilter filter,
                                                                        store::PageRequest page) {
    auto scoped = Scope(who, std::move(filter));
    if (!scoped.ok()) co_return scoped.error();
    co_return co_await db_.Run(
        [this](store::ApiCallFilter f, store::PageRequest p) {
            return store_.ApiCalls().List(f, p);
        },
        std::move(scoped.value()), std::move(page));
}

net::awaitable<Result<store::UsageStats>> UsageRecorder::Stats(auth::Principal who,
                                                               store::ApiCallFilter filter,
                                                               store::UsageGroupBy group_by,
                                                               int tz_offset_minutes) {
    auto scoped = Scope(who, std::move(filter));
    if (!scoped.ok()) co_return scoped.error();
    co_return co_await db_.Run([this](store::ApiCallFilter f, store::UsageGroupBy g,
                                      int tz) { return store_.ApiCalls().Stats(f, g, tz); },
                               std::move(scoped.value()), group_by, tz_offset_minutes);
}

net::awaitable<Result<store::UsageDashboard>> UsageRecorder::Dashboard(
    auth::Principal who, store::ApiCallFilter filter, int tz_offset_minutes, bool platform_wide) {
    auto scoped = Scope(who, std::move(filter), platform_wide);
    if (!scoped.ok()) co_return scoped.error();
    constexpr std::size_t kTop = 10;
    co_return co_await db_.Run(
        [this](store::ApiCallFilter f, int tz, std::size_t top) {
            return store_.ApiCalls().Dashboard(f, tz, top);
        },
        std::move(scoped.value()), tz_offset_minutes, platform_wide ? kTop : std::size_t{0});
}

net::awaitable<Result<store::Page<store::ApiCall>>> UsageRecorder::ExportBatch(
    auth::Principal who, store::ApiCallFilter filter, store::PageRequest page, int limit) {
    auto scoped = Scope(who, std::move(filter));
    if (!scoped.ok()) co_return scoped.error();
    co_return co_await db_.Run(
        [this](store::ApiCallFilter f, store::PageRequest p, int n) {
            return store_.ApiCalls().ListBatch(f, p, n);
        },
        std::move(scoped.value()), std::move(page), limit);
}

}  // namespace hub::services
