// /api/v1/history/*: the caller's own upstream calls (admins and auditors: another user's
// with user_id), their statistics and their CSV export; /api/v1/admin/stats: the same
// statistics over every user, with the top users and platform keys by cost.
#include <charconv>

#include "api/chat_dto.hpp"
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "services/history_csv.hpp"
#include "services/models.hpp"
#include "services/usage.hpp"

namespace hub::api {

namespace {

// A range longer than this is refused (a year and a day: leap years and time zones).
constexpr std::int64_t kMaxRangeMs = 366LL * 24 * 3600 * 1000;
// Rows per database read while streaming a CSV.
constexpr int kCsvBatch = 2000;

core::Result<store::ApiCallFilter> FilterFromQuery(const http::Request& req) {
    store::ApiCallFilter f;
    auto from = TimeFromQuery(req, "from");
    if (!from.ok()) return from.error();
    auto to = TimeFromQuery(req, "to");
    if (!to.ok()) return to.error();
    f.from_ms = from.value();
    f.to_ms = to.value();
    if (f.from_ms && f.to_ms) {
        if (*f.from_ms > *f.to_ms) return FieldError("from", "must not be after to.");
        if (*f.to_ms - *f.from_ms > kMaxRangeMs)
            return FieldError("to", "must be at most one year after from.");
    }
    if (auto m = req.Query("model"); m && !m->empty()) f.model = *m;
    if (auto u = req.Query("user_id"); u && !u->empty()) f.user_id = *u;
    if (auto s = req.Query("status"); s && !s->empty()) {
        if (*s == "ok") {
            f.outcome = store::CallOutcome::kOk;
        } else if (*s == "error") {
            f.outcome = store::CallOutcome::kError;
        } else if (*s != "all") {
            return FieldError("status", "must be ok, error or all.");
        }
    }
    if (auto k = req.Query("kind"); k && !k->empty() && *k != "all") {
        auto kind = store::ParseCallKind(*k);
        if (!kind)
            return FieldError("kind", "must be chat, title, images, compatible, passthrough, "
                                      "other or all.");
        f.kind = *kind;
    }
    if (auto k = req.Query("key"); k && !k->empty() && *k != "all") {
        // "none": calls made without a platform key (the web UI).
        f.api_key_id = *k == "none" ? std::string() : *k;
    }
    return f;
}

core::Result<int> TzFromQuery(const http::Request& req) {
    int tz = 0;
    if (auto t = req.Query("tz_offset_minutes"); t && !t->empty()) {
        auto [p, ec] = std::from_chars(t->data(), t->data() + t->size(), tz);
        if (ec != std::errc() || p != t->data() + t->size() || tz < -840 || tz > 840)
            return FieldError("tz_offset_minutes", "must be from -840 to 840.");
    }
    return tz;
}

nlohmann::json RankedJson(const store::RankedBucket& b) {
    return {{"key", b.key.empty() ? nlohmann::json(nullptr) : nlohmann::json(b.key)},
            {"calls", b.calls},
            {"total_tokens", b.total_tokens},
            {"errors", b.errors},
            {"cost_micro_cny", b.cost_micro_cny},
            {"cost_cny", services::Cny(b.cost_micro_cny)}};
}

nlohmann::json DashboardJson(const store::UsageDashboard& d, bool platform_wide) {
    auto buckets = [](const std::vector<store::UsageBucket>& v) {
        nlohmann::json a = nlohmann::json::array();
        for (const auto& b : v) {
            auto j = UsageBucketJson(b);
            j["key"] = b.key;
            a.push_back(std::move(j));
        }
        return a;
    };
    nlohmann::json day_model = nlohmann::json::array();
    for (const auto& b : d.by_day_model) {
        day_model.push_back({{"day", b.day},
                             {"model", b.model},
                             {"calls", b.calls},
                             {"total_tokens", b.total_tokens},
                             {"cost_micro_cny", b.cost_micro_cny},
                             {"cost_cny", services::Cny(b.cost_micro_cny)}});
    }
    nlohmann::json j = {{"totals", UsageBucketJson(d.totals)},
                        {"by_day", buckets(d.by_day)},
                        {"by_model", buckets(d.by_model)},
                        {"by_day_model", day_model}};
    if (platform_wide) {
        nlohmann::json users = nlohmann::json::array();
        for (const auto& b : d.top_users) users.push_back(RankedJson(b));
        nlohmann::json keys = nlohmann::json::array();
        for (const auto& b : d.top_keys) keys.push_back(RankedJson(b));
        j["top_users"] = std::move(users);
        j["top_keys"] = std::move(keys);
    }
    return j;
}

AuthedHandler DashboardHandler(services::UsageRecorder& usage, bool platform_wide) {
    return [&usage, platform_wide](http::Context& ctx,
                                   const auth::Principal& who) -> net::awaitable<http::Response> {
        auto filter = FilterFromQuery(ctx.req);
        if (!filter.ok()) co_return ErrorResponse(filter.error(), ctx.req.request_id);
        auto tz = TzFromQuery(ctx.req);
        if (!tz.ok()) co_return ErrorResponse(tz.error(), ctx.req.request_id);
        auto r = co_await usage.Dashboard(who, std::move(filter.value()), tz.value(),
                                          platform_wide);
        if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
        co_return JsonResponse(200, DashboardJson(*r, platform_wide));
    };
}

// Streams the filtered rows as CSV, reading them in batches. The first batch is read before
// anything is sent, so a refused request is a proper JSON error; a database failure later
// aborts the download (the client sees a broken transfer, never a short file that looks
// complete).
net::awaitable<http::Response> StreamCsv(http::Context& ctx, auth::Principal who,
                                         services::UsageRecorder& usage) {
    auto filter = FilterFromQuery(ctx.req);
    if (!filter.ok()) co_return ErrorResponse(filter.error(), ctx.req.request_id);
    store::PageRequest page;
    auto batch = co_await usage.ExportBatch(who, filter.value(), page, kCsvBatch);
    if (!batch.ok()) co_return ErrorResponse(batch.error(), ctx.req.request_id);
    http::Headers h;
    h.Set("Content-Type", "text/csv; charset=utf-8");
    h.Set("Content-Disposition", "attachment; filename=\"bailian-hub-calls.csv\"");
    h.Set("Cache-Control", "no-store");
    if (!co_await ctx.stream.Begin(200, std::move(h))) co_return http::Response::NoContent();
    std::string chunk(services::HistoryCsvHeader());
    while (true) {
        for (const auto& call : batch->items) services::AppendHistoryCsvRow(chunk, call);
        if (!co_await ctx.stream.Write(std::move(chunk))) co_return http::Response::NoContent();
        chunk.clear();
        if (!batch->next_cursor) break;
        page.cursor = *batch->next_cursor;
        batch = co_await usage.ExportBatch(who, filter.value(), page, kCsvBatch);
        if (!batch.ok()) {
            ctx.stream.Abort();
            co_return http::Response::NoContent();
        }
    }
    co_await ctx.stream.End();
    co_return http::Response::NoContent();  // ignored: the stream was used
}

}  // namespace

void RegisterHistoryRoutes(http::Router& router, const ApiDeps& deps) {
    services::UsageRecorder& usage = deps.usage;
    const std::string perm(auth::perm::kHistoryReadOwn);

    router.Add("GET", "/api/v1/history/calls",
               Require(deps.accounts, perm,
                       [&usage](http::Context& ctx,
                                const auth::Principal& who) -> net::awaitable<http::Response> {
                           auto filter = FilterFromQuery(ctx.req);
                           if (!filter.ok())
                               co_return ErrorResponse(filter.error(), ctx.req.request_id);
                           auto page = PageFromQuery(ctx.req);
                           if (!page.ok())
                               co_return ErrorResponse(page.error(), ctx.req.request_id);
                           auto r = co_await usage.List(who, std::move(filter.value()),
                                                        std::move(page.value()));
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return JsonResponse(200, PageJson(*r, ApiCallJson));
                       }));

    router.Add("GET", "/api/v1/history/calls.csv",
               Require(deps.accounts, perm,
                       [&usage](http::Context& ctx,
                                const auth::Principal& who) -> net::awaitable<http::Response> {
                           co_return co_await StreamCsv(ctx, who, usage);
                       }));

    router.Add("GET", "/api/v1/history/dashboard",
               Require(deps.accounts, perm, DashboardHandler(usage, false)));

    router.Add("GET", "/api/v1/admin/stats",
               Require(deps.accounts, std::string(auth::perm::kHistoryReadAll),
                       DashboardHandler(usage, true)));

    router.Add(
        "GET", "/api/v1/history/stats",
        Require(deps.accounts, perm,
                [&usage](http::Context& ctx,
                         const auth::Principal& who) -> net::awaitable<http::Response> {
                    auto filter = FilterFromQuery(ctx.req);
                    if (!filter.ok()) co_return ErrorResponse(filter.error(), ctx.req.request_id);
                    store::UsageGroupBy group_by = store::UsageGroupBy::kNone;
                    std::string group = ctx.req.Query("group_by").value_or("");
                    if (group == "day") {
                        group_by = store::UsageGroupBy::kDay;
                    } else if (group == "model") {
                        group_by = store::UsageGroupBy::kModel;
                    } else if (!group.empty() && group != "none") {
                        co_return ErrorResponse(FieldError("group_by", "must be day or model."),
                                                ctx.req.request_id);
                    }
                    auto tz = TzFromQuery(ctx.req);
                    if (!tz.ok()) co_return ErrorResponse(tz.error(), ctx.req.request_id);
                    auto r = co_await usage.Stats(who, std::move(filter.value()), group_by,
                                                  tz.value());
                    if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                    nlohmann::json groups = nlohmann::json::array();
                    for (const auto& g : r->groups) {
                        auto j = UsageBucketJson(g);
                        j["key"] = g.key;
                        groups.push_back(std::move(j));
                    }
                    co_return JsonResponse(200, {{"totals", UsageBucketJson(r->totals)},
                                                 {"group_by", group.empty() ? "none" : group},
                                                 {"groups", groups}});
                }));
}

}  // namespace hub::api
