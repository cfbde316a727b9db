#pragma once
// api_calls: one row per upstream-facing call (the usage history). Rows are never rejected
// for what they refer to: the table has no foreign keys, a log outlives its subjects.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/call_kind.hpp"
#include "store/cursor.hpp"
#include "store/models.hpp"
#include "store/usage_stats.hpp"

namespace hub::store {

enum class CallOutcome { kAny, kOk, kError };  // kError as IsErrorCall()

struct ApiCallFilter {
    std::optional<std::string> user_id;   // absent = every user (admin, auditor)
    std::optional<std::int64_t> from_ms;  // inclusive
    std::optional<std::int64_t> to_ms;    // exclusive
    std::optional<std::string> model;
    CallOutcome outcome = CallOutcome::kAny;
    std::optional<CallKind> kind;           // as CallKindOf(endpoint)
    std::optional<std::string> api_key_id;  // "" = calls made without a platform key
};

class ApiCallStore {
public:
    virtual ~ApiCallStore() = default;

    virtual core::Result<ApiCall> Insert(ApiCall call) = 0;
    // All or nothing, in one transaction; returns the rows as stored (ids filled).
    virtual core::Result<std::vector<ApiCall>> InsertBatch(std::vector<ApiCall> calls) = 0;
    // Newest first.
    virtual core::Result<Page<ApiCall>> List(const ApiCallFilter& filter,
                                             const PageRequest& page) = 0;
    // Like List, with a page of up to `limit` rows (not clamped; the CSV export reads in
    // batches of a few thousand).
    virtual core::Result<Page<ApiCall>> ListBatch(const ApiCallFilter& filter,
                                                  const PageRequest& page, int limit) = 0;
    // Totals, by day, by model and by day and model from one pass (top_n > 0: also the
    // users and platform keys with the highest cost).
    virtual core::Result<UsageDashboard> Dashboard(const ApiCallFilter& filter,
                                                   int tz_offset_minutes, std::size_t top_n) = 0;
    virtual core::Result<UsageStats> Stats(const ApiCallFilter& filter, UsageGroupBy group_by,
                                           int tz_offset_minutes = 0) = 0;
    // input + output tokens of a user's calls since `since_ms` (daily quota).
    virtual core::Result<std::int64_t> TokensUsedSince(std::string_view user_id,
                                                       std::int64_t since_ms) = 0;
    // Per user: tokens (input + output) and cost of the calls since `since_ms` (the budgets'
    // starting point, read once at start).
    struct Spend {
        std::string user_id;
        std::int64_t tokens = 0;
        std::int64_t cost_micro_cny = 0;
    };
    virtual core::Result<std::vector<Spend>> SpendSince(std::int64_t since_ms) = 0;
};

}  // namespace hub::store
