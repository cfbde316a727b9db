#pragma once
// Limits on model calls: every route that calls a model is admitted first (Limits::Begin, Ready or Wait, Finish).
//
// - Rate limits: token buckets (limit::Limiter) for requests and tokens per minute, per user
//   and per platform key (a key's own limits apply on top of its owner's), each with a burst.
//   Tokens are reserved with an estimate at admission; the reservation is given back when the
//   call ends and DashScope's usage is charged when the api_calls row is recorded, so the
//   bucket ends up charged with what was really used.
// - Budgets: daily and monthly tokens and cost (CNY) per user, counted from the api_calls
//   rows the hub writes (QuotaLedger, in memory: loaded once at start, updated as rows are
//   recorded). A call over a budget is refused before any upstream call; a running one
//   finishes.
// - Overload: at most max_concurrent_calls model calls at once; past that, 503 at once.
//
// Limits per role come from config; a user's own (admin-set) limits override them and take
// effect on the next call. Which Limiter runs (in-process or shared) is app/'s choice.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "limit/token_bucket.hpp"
#include "services/usage.hpp"
#include "store/models.hpp"
#include "store/store.hpp"

namespace hub::obs {
class Registry;
}

namespace hub::services {

// The largest value any limit or budget may have (config and admin API alike).
inline constexpr std::int64_t kMaxLimit = 1'000'000'000;

struct RateLimits {
    std::int64_t rpm = 600;  // requests per minute
    std::int64_t rpm_burst = 600;
    std::int64_t tpm = 1'000'000;  // tokens (input + output) per minute
    std::int64_t tpm_burst = 1'000'000;
};

struct Budgets {
    std::int64_t daily_tokens = 10'000'000;
    std::int64_t monthly_tokens = 200'000'000;
    std::int64_t daily_cost_micro_cny = 200'000'000;     // 200 CNY
    std::int64_t monthly_cost_micro_cny = 1'000'000'000;  // 1,000 CNY
};

struct RoleLimits {
    RateLimits rate;
    Budgets budgets;
};

struct LimitsConfig {
    RoleLimits user;                          // every role without an entry in `roles`
    std::map<std::string, RoleLimits, std::less<>> roles;  // e.g. "admin"
    // Failed authentications on the model routes, per client IP.
    std::int64_t unauthenticated_per_ip_per_minute = 60;
    // Model calls in flight at once (streams included); past it, 503 + Retry-After.
    std::int64_t max_concurrent_calls = 1000;
};

// A platform key's own rate limits (empty = only its owner's apply).
struct KeyLimits {
    std::optional<std::int64_t> rpm;
    std::optional<std::int64_t> tpm;
};

// Who is calling.
struct Subject {
    std::string user_id;
    std::string role;
    std::optional<std::string> api_key_id;
    KeyLimits key_limits;
};

// ---- pure parts ----

// Role defaults, then the user's own limits (a burst follows its rate when the rate is the
// user's own).
RoleLimits EffectiveLimits(const LimitsConfig& cfg, std::string_view role,
                           const store::UserQuota& own);

// 400 validation_failed naming the field (e.g. "quota.rpm") when a value is < 1 or > kMaxLimit.
core::Result<void> ValidateQuota(const store::UserQuota& q);
core::Result<void> ValidateKeyLimits(const KeyLimits& k);

// Budget windows in UTC: the day / month holding `ms`.
struct Period {
    std::int64_t start_ms = 0;
    std::int64_t end_ms = 0;
};
Period DayOf(std::int64_t ms);
Period MonthOf(std::int64_t ms);

// "20ms", "1s", "6m0s": durations in x-ratelimit-reset-* (as OpenAI writes them).
std::string FormatResetDuration(std::int64_t ms);

// The token estimate charged before a call: the request body's text, at least 1.
std::int64_t EstimateRequestTokens(std::string_view body);

// Tokens and cost spent per user in the current day and month (UTC). Thread-safe; told the
// time on every call.
class QuotaLedger {
public:
    struct Spent {
        std::int64_t tokens = 0;
        std::int64_t cost_micro_cny = 0;
    };
    struct UserSpend {
        Period day;
        Period month;
        Spent today;
        Spent this_month;
    };
    // One recorded call that started at `at_ms`; calls of an earlier day (month) count only
    // for the month (nothing).
    void Add(std::string_view user_id, std::int64_t at_ms, Spent spent, std::int64_t now_ms);
    // Start-up: what was spent before, from the database.
    void Seed(std::string_view user_id, Spent today, Spent this_month, std::int64_t now_ms);
    // A later read of the database (which other hubs write too), made at `read_at_ms`: each
    // figure becomes the larger of the two, so this hub's calls recorded after the read are not
    // lost and the other hubs' calls are counted. A day (month) that ended since the read is
    // left alone.
    void Raise(std::string_view user_id, Spent today, Spent this_month, std::int64_t read_at_ms,
               std::int64_t now_ms);
    UserSpend Get(std::string_view user_id, std::int64_t now_ms) const;

private:
    struct Entry {
        std::int64_t day_start = 0;
        std::int64_t month_start = 0;
        Spent today;
        Spent this_month;
    };
    static void Roll(Entry& e, std::int64_t now_ms);
    // Lookups by string_view without building a std::string (one call = one lookup).
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };

    mutable std::shared_mutex mu_;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> users_;
};

// ---- the service ----

class Limits;

// An admitted call: holds its place among the concurrent calls and its token reservation
// until it is destroyed (when the call is over). Move-only.
class Permit {
public:
    Permit() = default;
    Permit(Permit&& o) noexcept;
    Permit& operator=(Permit&& o) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

    // x-ratelimit-{limit,remaining,reset}-{requests,tokens}, for the answer.
    struct Header {
        std::string_view name;  // a literal
        std::string value;
    };
    std::span<const Header> headers() const { return {headers_.data(), header_count_}; }

private:
    friend class Limits;
    void Release();

    // The Limits that admitted the call, while it exists: a call's coroutine frame may be
    // destroyed after the Limits at shutdown (pending handlers die with the io_context).
    struct Owner {
        Limits* limits = nullptr;
        std::atomic<bool> alive{true};
    };
    std::shared_ptr<Owner> owner_;
    struct Reservation {
        std::string_view key;  // owned by the Limits (its caller state)
        limit::BucketConfig config;
        double tokens = 0;
    };
    // Fixed room, no allocation per call: the user's and the key's token buckets; three
    // headers each for requests and tokens.
    std::array<Reservation, 2> reserved_;
    std::size_t reserved_count_ = 0;
    std::array<Header, 6> headers_;
    std::size_t header_count_ = 0;
};

// One call's admission between Limits::Begin and Limits::Finish: the buckets to check, or a
// refusal already made (a budget, the overload cap). Lives in the caller's frame.
class Admission {
public:
    std::span<limit::BucketCheck> checks() { return {checks_.data(), n_}; }

private:
    friend class Limits;
    struct Meta {
        bool requests = true;    // requests per minute, else tokens per minute
        const char* whose = "";  // "user" / "API key"
        std::int64_t per_minute = 0;
    };
    const Subject* who_ = nullptr;
    std::optional<core::Error> refused_;
    std::array<limit::BucketCheck, 4> checks_;
    std::array<Meta, 4> meta_;
    std::size_t n_ = 0;
};

class Limits final : public CallObserver {
public:
    // `wall` dates the budgets (api_calls.created_at); the limiter keeps its own (monotonic)
    // time. With `metrics`, refusals count in bailian_hub_model_calls_refused_total{reason}
    // and the calls in flight show in bailian_hub_model_calls_in_flight.
    Limits(limit::Limiter& limiter, const core::Clock& wall, LimitsConfig cfg,
           obs::Registry* metrics = nullptr);
    ~Limits() override;

    // Start-up (blocking, before serving): users' own limits and what they spent this month.
    core::Result<void> LoadBlocking(store::Store& store);
    // Budgets across hubs: reads every user's spend of this day and month from the database
    // again (the other hubs' calls included) and raises the ledger to it. Blocking; app/ runs
    // it every few seconds when hubs share the database.
    core::Result<void> RefreshSpendBlocking(store::Store& store);

    // The one admission check of a model call: budgets, then the overload cap, then the
    // buckets (all of a call's buckets in one limiter check, all or nothing). Refusals: 429
    // quota_exceeded / rate_limited (naming the limit and when it resets, with retry_after_s),
    // 503 overloaded. Keep the Permit until the call is over. In three steps, so that a local
    // limiter costs no coroutine frame (`who` outlives the admission):
    //   Admission a = limits.Begin(who, estimate);
    //   if (!limits.Ready(a)) co_await limits.Wait(a);
    //   Result<Permit> permit = limits.Finish(a);
    Admission Begin(const Subject& who, std::int64_t estimated_tokens);
    bool Ready(Admission& a) { return a.refused_ || limiter_.TryCheck(a.checks()); }
    net::awaitable<void> Wait(Admission& a) { co_await limiter_.CheckAsync(a.checks()); }
    core::Result<Permit> Finish(Admission& a);

    // A failed authentication on a model route from `ip`: false when the IP is over its limit
    // (answer 429 instead of 401); `retry_after_s` then says when to come back.
    net::awaitable<bool> ChargeFailedAuth(std::string ip, std::int64_t* retry_after_s);

    // Every recorded api_calls row (UsageRecorder): budgets and the token buckets.
    void OnCall(const store::ApiCall& call) override;

    // An admin changed a user's own limits: used from the next call on.
    void SetUserQuota(const std::string& user_id, const store::UserQuota& quota);

    struct UsageView {
        RoleLimits limits;
        QuotaLedger::UserSpend spend;
    };
    UsageView Usage(const std::string& user_id, const std::string& role) const;

    std::int64_t in_flight() const { return in_flight_.load(); }
    const LimitsConfig& config() const { return cfg_; }

private:
    friend class Permit;
    struct Metrics;

    RoleLimits LimitsOf(const std::string& user_id, const std::string& role) const;
    // This day's and month's spend per user from the database: seeded at start, raised later.
    core::Result<void> ReadSpend(store::Store& store, bool seed);
    void Refuse(std::string_view reason, const std::string& user_id);
    void Return(Permit& p);

    limit::Limiter& limiter_;
    const core::Clock& wall_;
    LimitsConfig cfg_;
    QuotaLedger ledger_;
    std::atomic<std::int64_t> in_flight_{0};
    mutable std::shared_mutex mu_;
    // What is known of each user and key: a user's own (admin-set) limits, the last seen role
    // of a user and limits of a key (for settling usage after the call), and their bucket keys,
    // built once. Entries are never erased, so a Permit may keep views of the keys while the
    // Limits exist.
    struct Buckets {
        std::string rpm;  // "rpm:user:<id>" / "rpm:key:<id>"
        std::string tpm;
    };
    struct CallerState {
        store::UserQuota own;
        std::string role;  // empty until the first call
        Buckets buckets;   // empty until the first call
    };
    struct KeyState {
        KeyLimits limits;
        Buckets buckets;
    };
    std::unordered_map<std::string, CallerState> callers_;
    std::unordered_map<std::string, KeyState> keys_;
    std::unique_ptr<Metrics> metrics_;
    std::shared_ptr<Permit::Owner> self_;
    // Refusals are logged at most once a second per reason, with how many were not.
    struct LogWindow {
        std::int64_t last_ms = 0;
        std::int64_t suppressed = 0;
    };
    std::mutex log_mu_;
    std::map<std::string, LogWindow, std::less<>> log_windows_;
};

}  // namespace hub::services
