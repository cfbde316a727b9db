#include "services/limits.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "obs/logging.hpp"
#include "obs/metrics.hpp"
#include "services/chat.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

Error FieldError(const std::string& field, const std::string& message) {
    return Error::Make(ErrorCode::kInvalidArgument, "validation_failed", field + " " + message);
}

Result<void> CheckRange(const std::optional<std::int64_t>& v, const std::string& field) {
    if (v && (*v < 1 || *v > kMaxLimit)) {
        return FieldError(field,
                          "must be a whole number from 1 to " + std::to_string(kMaxLimit) +
                              ", or null for the default.");
    }
    return core::Ok();
}

// Cost budgets are kept in micro-CNY and given in CNY: more than 0, at most 10^9 CNY.
Result<void> CheckCost(const std::optional<std::int64_t>& micro, const std::string& field) {
    if (micro && (*micro < 1 || *micro > kMaxLimit * 1'000'000)) {
        return FieldError(field, "must be a number of CNY above 0 and at most " +
                                     std::to_string(kMaxLimit) + ", or null for the default.");
    }
    return core::Ok();
}

std::string UserBucket(std::string_view kind, std::string_view user_id) {
    std::string k(kind);
    k += ":user:";
    k += user_id;
    return k;
}

std::string KeyBucket(std::string_view kind, std::string_view key_id) {
    std::string k(kind);
    k += ":key:";
    k += key_id;
    return k;
}

limit::BucketConfig PerMinute(std::int64_t per_minute, std::int64_t burst) {
    return limit::BucketConfig::PerMinute(static_cast<double>(per_minute),
                                          static_cast<double>(std::max(burst, std::int64_t{1})));
}

std::string IsoTime(std::int64_t ms) { return core::FormatIsoMs(ms); }

std::int64_t SecondsUntil(std::int64_t end_ms, std::int64_t now_ms) {
    return std::max<std::int64_t>(1, (end_ms - now_ms + 999) / 1000);
}

}  // namespace

// ---- pure parts ----

RoleLimits EffectiveLimits(const LimitsConfig& cfg, std::string_view role,
                           const store::UserQuota& own) {
    auto it = cfg.roles.find(role);
    RoleLimits l = it != cfg.roles.end() ? it->second : cfg.user;
    if (own.rpm) l.rate.rpm = l.rate.rpm_burst = *own.rpm;
    if (own.tpm) l.rate.tpm = l.rate.tpm_burst = *own.tpm;
    if (own.daily_tokens) l.budgets.daily_tokens = *own.daily_tokens;
    if (own.monthly_tokens) l.budgets.monthly_tokens = *own.monthly_tokens;
    if (own.daily_cost_micro_cny) l.budgets.daily_cost_micro_cny = *own.daily_cost_micro_cny;
    if (own.monthly_cost_micro_cny) l.budgets.monthly_cost_micro_cny = *own.monthly_cost_micro_cny;
    return l;
}

Result<void> ValidateQuota(const store::UserQuota& q) {
    if (auto r = CheckRange(q.rpm, "quota.rpm"); !r.ok()) return r;
    if (auto r = CheckRange(q.tpm, "quota.tpm"); !r.ok()) return r;
    if (auto r = CheckRange(q.daily_tokens, "quota.daily_tokens"); !r.ok()) return r;
    if (auto r = CheckRange(q.monthly_tokens, "quota.monthly_tokens"); !r.ok()) return r;
    if (auto r = CheckCost(q.daily_cost_micro_cny, "quota.daily_cost_cny"); !r.ok()) return r;
    return CheckCost(q.monthly_cost_micro_cny, "quota.monthly_cost_cny");
}

Result<void> ValidateKeyLimits(const KeyLimits& k) {
    if (auto r = CheckRange(k.rpm, "limits.rpm"); !r.ok()) return r;
    return CheckRange(k.tpm, "limits.tpm");
}

Period DayOf(std::int64_t ms) {
    std::int64_t start = ms >= 0 ? ms / kDayMs * kDayMs : -((-ms + kDayMs - 1) / kDayMs) * kDayMs;
    return {start, start + kDayMs};
}

Period MonthOf(std::int64_t ms) {
    using namespace std::chrono;
    sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
    year_month_day ymd(day);
    year_month first = ymd.year() / ymd.month();
    year_month next = first + months(1);
    auto to_ms = [](year_month ym) {
        return duration_cast<milliseconds>(sys_days(ym / 1).time_since_epoch()).count();
    };
    return {to_ms(first), to_ms(next)};
}

std::string FormatResetDuration(std::int64_t ms) {
    if (ms <= 0) return "0s";
    if (ms < 1000) return std::to_string(ms) + "ms";
    std::int64_t s = (ms + 999) / 1000;
    if (s < 60) return std::to_string(s) + "s";
    std::int64_t h = s / 3600, m = s % 3600 / 60, sec = s % 60;
    std::string out;
    if (h > 0) out += std::to_string(h) + "h";
    out += std::to_string(m) + "m" + std::to_string(sec) + "s";
    return out;
}

std::int64_t EstimateRequestTokens(std::string_view body) {
    return std::max<std::int64_t>(1, EstimateTokens(body));
}

// ---- QuotaLedger ----

void QuotaLedger::Roll(Entry& e, std::int64_t now_ms) {
    Period day = DayOf(now_ms);
    if (e.day_start != day.start_ms) {
        e.day_start = day.start_ms;
        e.today = {};
    }
    Period month = MonthOf(now_ms);
    if (e.month_start != month.start_ms) {
        e.month_start = month.start_ms;
        e.this_month = {};
    }
}

void QuotaLedger::Add(std::string_view user_id, std::int64_t at_ms, Spent spent,
                      std::int64_t now_ms) {
    if (spent.tokens <= 0 && spent.cost_micro_cny <= 0) return;
    std::lock_guard lock(mu_);
    Entry& e = users_[std::string(user_id)];
    Roll(e, now_ms);
    if (at_ms >= e.month_start) {
        e.this_month.tokens += std::max<std::int64_t>(0, spent.tokens);
        e.this_month.cost_micro_cny += std::max<std::int64_t>(0, spent.cost_micro_cny);
    }
    if (at_ms >= e.day_start) {
        e.today.tokens += std::max<std::int64_t>(0, spent.tokens);
        e.today.cost_micro_cny += std::max<std::int64_t>(0, spent.cost_micro_cny);
    }
}

void QuotaLedger::Seed(std::string_view user_id, Spent today, Spent this_month,
                       std::int64_t now_ms) {
    std::lock_guard lock(mu_);
    Entry& e = users_[std::string(user_id)];
    Roll(e, now_ms);
    e.today = today;
    e.this_month = this_month;
}

void QuotaLedger::Raise(std::string_view user_id, Spent today, Spent this_month,
                        std::int64_t read_at_ms, std::int64_t now_ms) {
    auto raise = [](Spent& mine, const Spent& read) {
        mine.tokens = std::max(mine.tokens, read.tokens);
        mine.cost_micro_cny = std::max(mine.cost_micro_cny, read.cost_micro_cny);
    };
    std::lock_guard lock(mu_);
    Entry& e = users_[std::string(user_id)];
    Roll(e, now_ms);
    if (MonthOf(read_at_ms).start_ms == e.month_start) raise(e.this_month, this_month);
    if (DayOf(read_at_ms).start_ms == e.day_start) raise(e.today, today);
}

QuotaLedger::UserSpend QuotaLedger::Get(std::string_view user_id, std::int64_t now_ms) const {
    UserSpend out;
    out.day = DayOf(now_ms);
    out.month = MonthOf(now_ms);
    std::shared_lock lock(mu_);
    auto it = users_.find(user_id);
    if (it == users_.end()) return out;
    if (it->second.day_start == out.day.start_ms) out.today = it->second.today;
    if (it->second.month_start == out.month.start_ms) out.this_month = it->second.this_month;
    return out;
}

// ---- Permit ----

Permit::Permit(Permit&& o) noexcept
    : owner_(std::move(o.owner_)),
      reserved_(std::move(o.reserved_)),
      reserved_count_(std::exchange(o.reserved_count_, 0)),
      headers_(std::move(o.headers_)),
      header_count_(std::exchange(o.header_count_, 0)) {}

Permit& Permit::operator=(Permit&& o) noexcept {
    if (this != &o) {
        Release();
        owner_ = std::move(o.owner_);
        reserved_ = std::move(o.reserved_);
        reserved_count_ = std::exchange(o.reserved_count_, 0);
        headers_ = std::move(o.headers_);
        header_count_ = std::exchange(o.header_count_, 0);
    }
    return *this;
}

Permit::~Permit() { Release(); }

void Permit::Release() {
    if (!owner_) return;
    if (owner_->alive.load()) owner_->limits->Return(*this);
    owner_.reset();
}

// ---- Limits ----

struct Limits::Metrics {
    explicit Metrics(obs::Registry& r)
        : refused(r.AddCounter("bailian_hub_model_calls_refused_total",
                               "Model calls refused before reaching DashScope, by reason "
                               "(rate_limited, quota_exceeded, overloaded, failed_auth).",
                               {"reason"}, 10)) {}
    obs::Family<obs::Counter>& refused;
};

Limits::Limits(limit::Limiter& limiter, const core::Clock& wall, LimitsConfig cfg,
               obs::Registry* metrics)
    : limiter_(limiter),
      wall_(wall),
      cfg_(std::move(cfg)),
      self_(std::make_shared<Permit::Owner>()) {
    self_->limits = this;
    if (metrics) {
        metrics_ = std::make_unique<Metrics>(*metrics);
        metrics->AddCollector([this](obs::Exposition& out) {
            out.Single("bailian_hub_model_calls_in_flight",
                       "Model calls admitted and not yet finished (streams included).",
                       obs::MetricType::kGauge, static_cast<double>(in_flight_.load()));
        });
    }
}

Limits::~Limits() { self_->alive.store(false); }

Result<void> Limits::LoadBlocking(store::Store& store) {
    auto quotas = store.Users().ListQuotas();
    if (!quotas.ok()) return quotas.error();
    {
        std::lock_guard lock(mu_);
        for (auto& [id, q] : *quotas) callers_[id].own = q;
    }
    return ReadSpend(store, /*seed=*/true);
}

Result<void> Limits::RefreshSpendBlocking(store::Store& store) {
    return ReadSpend(store, /*seed=*/false);
}

Result<void> Limits::ReadSpend(store::Store& store, bool seed) {
    std::int64_t now = wall_.NowMs();
    Period day = DayOf(now), month = MonthOf(now);
    auto monthly = store.ApiCalls().SpendSince(month.start_ms);
    if (!monthly.ok()) return monthly.error();
    auto daily = store.ApiCalls().SpendSince(day.start_ms);
    if (!daily.ok()) return daily.error();
    std::unordered_map<std::string, QuotaLedger::Spent> today;
    for (const auto& s : *daily) today[s.user_id] = {s.tokens, s.cost_micro_cny};
    for (const auto& s : *monthly) {
        QuotaLedger::Spent m{s.tokens, s.cost_micro_cny};
        if (seed) {
            ledger_.Seed(s.user_id, today[s.user_id], m, now);
        } else {
            ledger_.Raise(s.user_id, today[s.user_id], m, now, wall_.NowMs());
        }
    }
    return core::Ok();
}

RoleLimits Limits::LimitsOf(const std::string& user_id, const std::string& role) const {
    std::shared_lock lock(mu_);
    auto it = callers_.find(user_id);
    return EffectiveLimits(cfg_, role, it != callers_.end() ? it->second.own : store::UserQuota{});
}

void Limits::Refuse(std::string_view reason, const std::string& user_id) {
    if (metrics_) metrics_->refused.With({std::string(reason)}).Inc();
    const std::int64_t now = wall_.NowMs();
    std::int64_t suppressed = 0;
    {
        std::lock_guard lock(log_mu_);
        auto it = log_windows_.find(reason);
        if (it == log_windows_.end())
            it = log_windows_.emplace(std::string(reason), LogWindow{}).first;
        LogWindow& w = it->second;
        if (w.last_ms != 0 && now - w.last_ms < 1000) {
            ++w.suppressed;
            return;
        }
        suppressed = std::exchange(w.suppressed, 0);
        w.last_ms = now;
    }
    obs::Warn("model_call_refused",
              {{"reason", std::string(reason)},
               {"user_id", user_id},
               {"not_logged_since_last", suppressed}});
}

Admission Limits::Begin(const Subject& who, std::int64_t estimated_tokens) {
    Admission a;
    a.who_ = &who;
    // This runs on every model call: one lock for what is known of the caller, no allocation
    // beyond the bucket keys.
    RoleLimits lim;
    const Buckets* user_buckets = nullptr;
    const Buckets* key_buckets = nullptr;
    // What is known of the caller: read under a shared lock (every core at once), written under
    // the exclusive one only when something changed (a first call, a new role or key limits).
    auto known = [&]() {
        auto caller = callers_.find(who.user_id);
        if (caller == callers_.end() || caller->second.role != who.role) return false;
        const KeyState* key = nullptr;
        if (who.api_key_id) {
            auto it = keys_.find(*who.api_key_id);
            if (it == keys_.end() || it->second.limits.rpm != who.key_limits.rpm ||
                it->second.limits.tpm != who.key_limits.tpm)
                return false;
            key = &it->second;
        }
        lim = EffectiveLimits(cfg_, who.role, caller->second.own);
        user_buckets = &caller->second.buckets;
        key_buckets = key ? &key->buckets : nullptr;
        return true;
    };
    bool found;
    {
        std::shared_lock lock(mu_);
        found = known();
    }
    if (!found) {
        std::lock_guard lock(mu_);
        CallerState& caller = callers_[who.user_id];
        lim = EffectiveLimits(cfg_, who.role, caller.own);
        if (caller.buckets.rpm.empty()) {
            caller.buckets = {UserBucket("rpm", who.user_id), UserBucket("tpm", who.user_id)};
        }
        // Remembered for settling usage after the call (OnCall).
        caller.role = who.role;
        user_buckets = &caller.buckets;
        if (who.api_key_id) {
            auto key = keys_.find(*who.api_key_id);
            if (key == keys_.end()) {
                key = keys_
                          .emplace(*who.api_key_id,
                                   KeyState{who.key_limits, {KeyBucket("rpm", *who.api_key_id),
                                                             KeyBucket("tpm", *who.api_key_id)}})
                          .first;
            } else {
                key->second.limits = who.key_limits;
            }
            key_buckets = &key->second.buckets;
        }
    }
    const std::int64_t now = wall_.NowMs();

    // Budgets first: nothing else is charged for a call that cannot run today.
    const QuotaLedger::UserSpend spend = ledger_.Get(who.user_id, now);
    const std::int64_t est = std::max<std::int64_t>(1, estimated_tokens);
    auto over = [&](const char* what, const Period& p, std::string used,
                    std::string limit) -> Error {
        Refuse("quota_exceeded", who.user_id);
        Error e = Error::Make(ErrorCode::kRateLimited, "quota_exceeded",
                              std::string("The ") + what + " of " + limit + " is used up (" +
                                  used + " used); it resets at " + IsoTime(p.end_ms) + ".");
        e.retry_after_s = SecondsUntil(p.end_ms, now);
        return e;
    };
    auto cny = [](std::int64_t micro) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.2f CNY", static_cast<double>(micro) / 1e6);
        return std::string(buf);
    };
    auto tokens = [](std::int64_t n) { return std::to_string(n) + " tokens"; };
    if (spend.today.tokens + est > lim.budgets.daily_tokens)
        a.refused_ = over("daily token budget", spend.day, tokens(spend.today.tokens),
                    tokens(lim.budgets.daily_tokens));
    else if (spend.this_month.tokens + est > lim.budgets.monthly_tokens)
        a.refused_ = over("monthly token budget", spend.month, tokens(spend.this_month.tokens),
                    tokens(lim.budgets.monthly_tokens));
    else if (spend.today.cost_micro_cny >= lim.budgets.daily_cost_micro_cny)
        a.refused_ = over("daily cost budget", spend.day, cny(spend.today.cost_micro_cny),
                    cny(lim.budgets.daily_cost_micro_cny));
    else if (spend.this_month.cost_micro_cny >= lim.budgets.monthly_cost_micro_cny)
        a.refused_ = over("monthly cost budget", spend.month, cny(spend.this_month.cost_micro_cny),
                    cny(lim.budgets.monthly_cost_micro_cny));
    if (a.refused_) return a;

    // Overload: refuse at once rather than slow every running stream down.
    if (in_flight_.fetch_add(1) >= cfg_.max_concurrent_calls) {
        in_flight_.fetch_sub(1);
        Refuse("overloaded", who.user_id);
        Error e = Error::Make(ErrorCode::kUnavailable, "overloaded",
                              "The hub is at its limit of concurrent model calls; retry in a "
                              "moment.");
        e.retry_after_s = 1;
        a.refused_ = std::move(e);
        return a;
    }

    // The buckets: requests, then tokens; user, then key; checked together, all or nothing.
    auto add = [&](std::string_view key, std::int64_t per_minute, std::int64_t burst, double cost,
                   bool requests, const char* whose) {
        limit::BucketCheck& c = a.checks_[a.n_];
        c.key = key;
        c.config = PerMinute(per_minute, burst);
        c.cost = std::min(cost, c.config.capacity);  // a big request must still pass when idle
        a.meta_[a.n_++] = {requests, whose, per_minute};
    };
    const double est_cost = static_cast<double>(est);
    add(user_buckets->rpm, lim.rate.rpm, lim.rate.rpm_burst, 1, true, "user");
    if (key_buckets && who.key_limits.rpm)
        add(key_buckets->rpm, *who.key_limits.rpm, *who.key_limits.rpm, 1, true, "API key");
    add(user_buckets->tpm, lim.rate.tpm, lim.rate.tpm_burst, est_cost, false, "user");
    if (key_buckets && who.key_limits.tpm)
        add(key_buckets->tpm, *who.key_limits.tpm, *who.key_limits.tpm, est_cost, false,
            "API key");
    return a;
}

Result<Permit> Limits::Finish(Admission& a) {
    if (a.refused_) return std::move(*a.refused_);
    const Subject& who = *a.who_;
    const std::size_t n = a.n_;
    for (std::size_t i = 0; i < n; ++i) {
        const limit::BucketCheck& c = a.checks_[i];
        if (c.decision.allowed) continue;
        const Admission::Meta& m = a.meta_[i];
        in_flight_.fetch_sub(1);
        Refuse("rate_limited", who.user_id);
        Error e = Error::Make(
            ErrorCode::kRateLimited, "rate_limited",
            "Rate limit reached: " + std::to_string(m.per_minute) + " " +
                (m.requests ? "requests per minute" : "tokens per minute") + " for this " +
                m.whose + "; retry in " + std::to_string(c.decision.RetryAfterSeconds()) + " s.");
        e.retry_after_s = c.decision.RetryAfterSeconds();
        return e;
    }

    Permit p;
    p.owner_ = self_;
    // The headers show the tighter of the user's and the key's buckets.
    const limit::BucketCheck* req = nullptr;
    const limit::BucketCheck* tok = nullptr;
    for (std::size_t i = 0; i < n; ++i) {
        const limit::BucketCheck& c = a.checks_[i];
        const limit::BucketCheck*& slot = a.meta_[i].requests ? req : tok;
        if (!slot || c.decision.remaining < slot->decision.remaining) slot = &c;
    }
    auto put = [&p](const std::array<std::string_view, 3>& names, const limit::BucketCheck* c) {
        if (!c) return;
        p.headers_[p.header_count_++] = {names[0], std::to_string(c->decision.limit)};
        p.headers_[p.header_count_++] = {names[1], std::to_string(c->decision.remaining)};
        p.headers_[p.header_count_++] = {names[2], FormatResetDuration(c->decision.reset_ms)};
    };
    put({"x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
         "x-ratelimit-reset-requests"},
        req);
    put({"x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"},
        tok);
    // The token reservations, given back when the call is over.
    for (std::size_t i = 0; i < n; ++i) {
        const limit::BucketCheck& c = a.checks_[i];
        if (!a.meta_[i].requests) p.reserved_[p.reserved_count_++] = {c.key, c.config, c.cost};
    }
    return Result<Permit>(std::move(p));
}

void Limits::Return(Permit& p) {
    // The estimate is given back; the call's real usage was charged when it was recorded.
    for (std::size_t i = 0; i < p.reserved_count_; ++i) {
        const auto& r = p.reserved_[i];
        limiter_.Adjust(r.key, r.config, r.tokens);
    }
    p.reserved_count_ = 0;
    in_flight_.fetch_sub(1);
}

net::awaitable<bool> Limits::ChargeFailedAuth(std::string ip, std::int64_t* retry_after_s) {
    std::string key = "auth:ip:";
    key += ip;
    auto per_minute = cfg_.unauthenticated_per_ip_per_minute;
    limit::BucketConfig config = PerMinute(per_minute, per_minute);
    auto d = co_await limiter_.Check(key, config, 1);
    if (d.allowed) co_return true;
    Refuse("failed_auth", std::string());
    if (retry_after_s) *retry_after_s = d.RetryAfterSeconds();
    co_return false;
}

void Limits::OnCall(const store::ApiCall& call) {
    const std::int64_t tokens = std::max<std::int64_t>(0, call.input_tokens) +
                                std::max<std::int64_t>(0, call.output_tokens);
    const std::int64_t now = wall_.NowMs();
    ledger_.Add(call.user_id, call.created_at, {tokens, call.cost_micro_cny}, now);
    if (tokens <= 0) return;
    std::string role = "user";
    std::optional<std::int64_t> key_tpm;
    {
        std::shared_lock lock(mu_);
        if (auto it = callers_.find(call.user_id); it != callers_.end() && !it->second.role.empty())
            role = it->second.role;
        if (call.api_key_id) {
            if (auto it = keys_.find(*call.api_key_id); it != keys_.end())
                key_tpm = it->second.limits.tpm;
        }
    }
    const RoleLimits lim = LimitsOf(call.user_id, role);
    const double used = static_cast<double>(tokens);
    limiter_.Adjust(UserBucket("tpm", call.user_id), PerMinute(lim.rate.tpm, lim.rate.tpm_burst),
                    -used);
    if (key_tpm)
        limiter_.Adjust(KeyBucket("tpm", *call.api_key_id), PerMinute(*key_tpm, *key_tpm), -used);
}

void Limits::SetUserQuota(const std::string& user_id, const store::UserQuota& quota) {
    std::lock_guard lock(mu_);
    if (quota.empty()) {
        if (auto it = callers_.find(user_id); it != callers_.end()) it->second.own = {};
    } else {
        callers_[user_id].own = quota;
    }
}

Limits::UsageView Limits::Usage(const std::string& user_id, const std::string& role) const {
    UsageView v;
    v.limits = LimitsOf(user_id, role);
    v.spend = ledger_.Get(user_id, wall_.NowMs());
    return v;
}

}  // namespace hub::services
