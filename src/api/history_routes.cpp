// /api/v1/history/*: the caller's upstream calls (admins and auditors: anyone's) and their
// statistics.
#include <charconv>

#include "api/chat_dto.hpp"
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "services/usage.hpp"

namespace hub::api {

namespace {

core::Result<store::ApiCallFilter> FilterFromQuery(const http::Request& req) {
    store::ApiCallFilter f;
    auto from = TimeFromQuery(req, "from");
    if (!from.ok()) return from.error();
    auto to = TimeFromQuery(req, "to");
    if (!to.ok()) return to.error();
    f.from_ms = from.value();
    f.to_ms = to.value();
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
    return f;
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
                    int tz = 0;
                    if (auto t = ctx.req.Query("tz_offset_minutes"); t && !t->empty()) {
                        auto [p, ec] = std::from_chars(t->data(), t->data() + t->size(), tz);
                        if (ec != std::errc() || p != t->data() + t->size() || tz < -840 ||
                            tz > 840) {
                            co_return ErrorResponse(
                                FieldError("tz_offset_minutes", "must be from -840 to 840."),
                                ctx.req.request_id);
                        }
                    }
                    auto r = co_await usage.Stats(who, std::move(filter.value()), group_by, tz);
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
