// services::Limits: the pure parts (effective limits, validation, budget windows, the ledger)
// and admission against a LocalLimiter on a manual clock (no sleeping, no sockets).
#include "services/limits.hpp"

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "limit/token_bucket.hpp"
#include "auth/session_tokens.hpp"
#include "cache/topics.hpp"
#include "services/quota_sync.hpp"
#include "support/linked_bus.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::services {
namespace {

// The admission as the guard makes it; the in-process limiter always answers at once.
core::Result<Permit> AdmitNow(Limits& limits, const Subject& who, std::int64_t estimate) {
    Admission a = limits.Begin(who, estimate);
    EXPECT_TRUE(limits.Ready(a));
    return limits.Finish(a);
}
bool ChargeNow(Limits& limits, std::string ip, std::int64_t* retry_after_s) {
    net::io_context io;
    std::optional<bool> result;
    net::co_spawn(io, limits.ChargeFailedAuth(std::move(ip), retry_after_s),
                  [&result](std::exception_ptr e, bool v) {
                      if (e) std::rethrow_exception(e);
                      result = v;
                  });
    io.run();
    return result.value();
}
core::Result<Permit> AdmitNow(Limits& limits, Subject&& who, std::int64_t estimate) {
    Subject held = std::move(who);
    return AdmitNow(limits, static_cast<const Subject&>(held), estimate);
}

using core::ErrorCode;
using core::Result;

// 2023-11-14T22:13:20Z: 1h46m40s before a UTC midnight.
constexpr std::int64_t kT0 = 1'700'000'000'000;
constexpr std::int64_t kMidnight = 1'700'006'400'000;  // 2023-11-15T00:00:00Z

std::string Header(const Permit& p, const std::string& name) {
    for (const auto& [n, v] : p.headers())
        if (n == name) return v;
    return "<missing>";
}

LimitsConfig SmallConfig() {
    LimitsConfig cfg;
    cfg.user.rate = {3, 3, 1000, 1000};
    cfg.user.budgets = {500, 2000, 5'000'000, 50'000'000};
    RoleLimits admin = cfg.user;
    admin.rate.rpm = admin.rate.rpm_burst = 100;
    cfg.roles["admin"] = admin;
    cfg.max_concurrent_calls = 100;
    cfg.unauthenticated_per_ip_per_minute = 2;
    return cfg;
}

store::ApiCall Row(const std::string& user, std::int64_t tokens, std::int64_t cost_micro,
                   std::int64_t at_ms, std::optional<std::string> key = std::nullopt) {
    store::ApiCall c;
    c.user_id = user;
    c.api_key_id = std::move(key);
    c.input_tokens = tokens / 2;
    c.output_tokens = tokens - tokens / 2;
    c.cost_micro_cny = cost_micro;
    c.created_at = at_ms;
    return c;
}

class LimitsTest : public ::testing::Test {
protected:
    core::ManualClock clock_{kT0};
    limit::LocalLimiter limiter_{clock_, {limit::BucketConfig::PerMinute(60), 10'000, 4}};
    Limits limits_{limiter_, clock_, SmallConfig()};
    Subject alice_{"alice", "user", std::nullopt, {}};
};

// ---- pure parts ----

TEST(EffectiveLimits, RoleDefaultsThenTheUsersOwn) {
    LimitsConfig cfg = SmallConfig();
    EXPECT_EQ(EffectiveLimits(cfg, "user", {}).rate.rpm, 3);
    EXPECT_EQ(EffectiveLimits(cfg, "auditor", {}).rate.rpm, 3);  // no table: the user's
    EXPECT_EQ(EffectiveLimits(cfg, "admin", {}).rate.rpm, 100);
    store::UserQuota own;
    own.rpm = 7;
    own.daily_tokens = 42;
    own.monthly_cost_micro_cny = 9;
    RoleLimits l = EffectiveLimits(cfg, "admin", own);
    EXPECT_EQ(l.rate.rpm, 7);
    EXPECT_EQ(l.rate.rpm_burst, 7);
    EXPECT_EQ(l.rate.tpm, 1000);
    EXPECT_EQ(l.budgets.daily_tokens, 42);
    EXPECT_EQ(l.budgets.monthly_tokens, 2000);
    EXPECT_EQ(l.budgets.monthly_cost_micro_cny, 9);
}

TEST(ValidateQuota, ZeroNegativeAndAbsurdNameTheField) {
    EXPECT_TRUE(ValidateQuota({}).ok());
    store::UserQuota q;
    q.rpm = 0;
    auto r = ValidateQuota(q);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().public_message.find("quota.rpm"), std::string::npos);
    q.rpm = 60;
    q.tpm = -5;
    r = ValidateQuota(q);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().public_message.find("quota.tpm"), std::string::npos);
    q.tpm = std::nullopt;
    q.monthly_tokens = kMaxLimit + 1;
    r = ValidateQuota(q);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().public_message.find("quota.monthly_tokens"), std::string::npos);
    q.monthly_tokens = kMaxLimit;
    EXPECT_TRUE(ValidateQuota(q).ok());
    EXPECT_FALSE(ValidateKeyLimits({0, std::nullopt}).ok());
    EXPECT_FALSE(ValidateKeyLimits({std::nullopt, kMaxLimit + 1}).ok());
    EXPECT_TRUE(ValidateKeyLimits({1, kMaxLimit}).ok());
}

TEST(BudgetWindows, DaysAndMonthsInUtc) {
    Period d = DayOf(kT0);
    EXPECT_EQ(d.start_ms, kMidnight - 86'400'000);
    EXPECT_EQ(d.end_ms, kMidnight);
    EXPECT_EQ(DayOf(kMidnight).start_ms, kMidnight);
    Period m = MonthOf(kT0);
    EXPECT_EQ(core::FormatIsoMs(m.start_ms), "2023-11-01T00:00:00.000Z");
    EXPECT_EQ(core::FormatIsoMs(m.end_ms), "2023-12-01T00:00:00.000Z");
    // December rolls into the next year; February of a leap year has 29 days.
    const std::int64_t dec = 1'702'000'000'000;  // 2023-12-08
    EXPECT_EQ(core::FormatIsoMs(MonthOf(dec).end_ms), "2024-01-01T00:00:00.000Z");
    const std::int64_t feb = 1'707'000'000'000;  // 2024-02-03
    EXPECT_EQ(core::FormatIsoMs(MonthOf(feb).end_ms), "2024-03-01T00:00:00.000Z");
}

TEST(FormatResetDuration, AsOpenAiWritesIt) {
    EXPECT_EQ(FormatResetDuration(0), "0s");
    EXPECT_EQ(FormatResetDuration(20), "20ms");
    EXPECT_EQ(FormatResetDuration(1000), "1s");
    EXPECT_EQ(FormatResetDuration(1001), "2s");
    EXPECT_EQ(FormatResetDuration(360'000), "6m0s");
    EXPECT_EQ(FormatResetDuration(3'725'000), "1h2m5s");
}

TEST(QuotaLedger, CountsTheCurrentDayAndMonthOnly) {
    QuotaLedger ledger;
    ledger.Add("u", kT0, {100, 5}, kT0);
    ledger.Add("u", kT0 - 86'400'000, {1000, 50}, kT0);  // started yesterday: month only
    ledger.Add("u", kT0, {0, 0}, kT0);                   // nothing spent: nothing changes
    auto s = ledger.Get("u", kT0);
    EXPECT_EQ(s.today.tokens, 100);
    EXPECT_EQ(s.today.cost_micro_cny, 5);
    EXPECT_EQ(s.this_month.tokens, 1100);
    EXPECT_EQ(s.this_month.cost_micro_cny, 55);
    EXPECT_EQ(s.day.end_ms, kMidnight);
    // The next day starts empty; the month goes on.
    auto next = ledger.Get("u", kMidnight);
    EXPECT_EQ(next.today.tokens, 0);
    EXPECT_EQ(next.this_month.tokens, 1100);
    EXPECT_EQ(ledger.Get("nobody", kT0).this_month.tokens, 0);
    ledger.Seed("v", {1, 2}, {3, 4}, kT0);
    EXPECT_EQ(ledger.Get("v", kT0).this_month.cost_micro_cny, 4);
}

// ---- admission ----

TEST_F(LimitsTest, RequestsPerMinuteBurstThenRateLimitedWithRetryAfter) {
    for (int i = 0; i < 3; ++i) {
        auto p = AdmitNow(limits_, alice_, 10);
        ASSERT_TRUE(p.ok()) << i << ": " << p.error().public_message;
        EXPECT_EQ(Header(*p, "x-ratelimit-limit-requests"), "3");
        EXPECT_EQ(Header(*p, "x-ratelimit-remaining-requests"), std::to_string(2 - i));
        EXPECT_EQ(Header(*p, "x-ratelimit-limit-tokens"), "1000");
    }
    auto refused = AdmitNow(limits_, alice_, 10);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
    EXPECT_EQ(refused.error().api_code, "rate_limited");
    EXPECT_EQ(refused.error().retry_after_s, 20);  // 3 per minute: one every 20 s
    EXPECT_NE(refused.error().public_message.find("requests per minute"), std::string::npos);
    clock_.Advance(std::chrono::seconds(20));
    EXPECT_TRUE(AdmitNow(limits_, alice_, 10).ok());
    // Another user has buckets of their own.
    EXPECT_TRUE(AdmitNow(limits_, {"bob", "user", std::nullopt, {}}, 10).ok());
}

TEST_F(LimitsTest, AKeysOwnLimitAppliesOnTopOfTheUsersAndARefusalTakesNothing) {
    Subject key{"alice", "user", std::string("k1"), {1, std::nullopt}};
    ASSERT_TRUE(AdmitNow(limits_, key, 1).ok());
    auto refused = AdmitNow(limits_, key, 1);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().public_message.find("API key"), std::string::npos);
    // The key's refusal gave the user's request back: alice still has 2 of 3 this minute.
    EXPECT_TRUE(AdmitNow(limits_, alice_, 1).ok());
    EXPECT_TRUE(AdmitNow(limits_, alice_, 1).ok());
    EXPECT_FALSE(AdmitNow(limits_, alice_, 1).ok());
}

TEST_F(LimitsTest, TokensAreReservedThenSettledWithTheRealUsage) {
    store::UserQuota big;  // budgets out of the way: this is about the bucket
    big.daily_tokens = big.monthly_tokens = 1'000'000;
    limits_.SetUserQuota("alice", big);
    {
        auto p = AdmitNow(limits_, alice_, 300);
        ASSERT_TRUE(p.ok());
        EXPECT_EQ(Header(*p, "x-ratelimit-remaining-tokens"), "700");
        limits_.OnCall(Row("alice", 900, 0, kT0));  // the answer was long
    }  // the call is over: the estimate is given back, the 900 stay charged
    auto refused = AdmitNow(limits_, alice_, 200);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().public_message.find("tokens per minute"), std::string::npos);
    auto p = AdmitNow(limits_, alice_, 100);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(Header(*p, "x-ratelimit-remaining-tokens"), "0");
}

TEST_F(LimitsTest, ARequestLargerThanTheTokenBurstStillPassesWhenIdle) {
    store::UserQuota big;
    big.daily_tokens = big.monthly_tokens = 1'000'000;
    limits_.SetUserQuota("alice", big);
    auto p = AdmitNow(limits_, alice_, 5000);  // more than the 1,000 tokens a minute
    ASSERT_TRUE(p.ok()) << p.error().public_message;
    EXPECT_EQ(Header(*p, "x-ratelimit-remaining-tokens"), "0");
}

TEST_F(LimitsTest, BudgetsRefuseBeforeAnythingElseAndResetAtMidnight) {
    limits_.OnCall(Row("alice", 495, 10, kT0));
    auto refused = AdmitNow(limits_, alice_, 10);  // 495 + 10 > 500
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
    EXPECT_EQ(refused.error().api_code, "quota_exceeded");
    EXPECT_EQ(refused.error().retry_after_s, (kMidnight - kT0) / 1000);
    EXPECT_NE(refused.error().public_message.find("daily token budget"), std::string::npos);
    EXPECT_NE(refused.error().public_message.find("2023-11-15T00:00:00.000Z"), std::string::npos);
    // The refusal took no request from the bucket: three calls still pass after a raise.
    store::UserQuota raised;
    raised.daily_tokens = 1000;
    limits_.SetUserQuota("alice", raised);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(AdmitNow(limits_, alice_, 10).ok()) << i;
    // Back to the default, then a new day.
    limits_.SetUserQuota("alice", {});
    EXPECT_FALSE(AdmitNow(limits_, alice_, 10).ok());
    clock_.SetMs(kMidnight);
    EXPECT_TRUE(AdmitNow(limits_, alice_, 10).ok());
    auto usage = limits_.Usage("alice", "user");
    EXPECT_EQ(usage.spend.today.tokens, 0);
    EXPECT_EQ(usage.spend.this_month.tokens, 495);
}

TEST_F(LimitsTest, CostBudgetRefusesOnceSpent) {
    limits_.OnCall(Row("alice", 1, 5'000'000, kT0));  // 5 CNY: the daily budget
    auto refused = AdmitNow(limits_, alice_, 1);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().api_code, "quota_exceeded");
    EXPECT_NE(refused.error().public_message.find("daily cost budget"), std::string::npos);
}

TEST_F(LimitsTest, OverloadCapRefusesAtOnceAndFreesOnRelease) {
    LimitsConfig cfg = SmallConfig();
    cfg.max_concurrent_calls = 2;
    Limits limits(limiter_, clock_, cfg);
    Subject admin{"root", "admin", std::nullopt, {}};
    auto a = AdmitNow(limits, admin, 1);
    auto b = AdmitNow(limits, admin, 1);
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(limits.in_flight(), 2);
    auto c = AdmitNow(limits, admin, 1);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(c.error().api_code, "overloaded");
    EXPECT_EQ(c.error().retry_after_s, 1);
    { Permit gone = std::move(a.value()); }
    EXPECT_EQ(limits.in_flight(), 1);
    EXPECT_TRUE(AdmitNow(limits, admin, 1).ok());
    EXPECT_EQ(limits.in_flight(), 1);  // that permit was a temporary
}

TEST_F(LimitsTest, FailedAuthenticationsPerIp) {
    std::int64_t retry = 0;
    EXPECT_TRUE(ChargeNow(limits_, "203.0.113.7", &retry));
    EXPECT_TRUE(ChargeNow(limits_, "203.0.113.7", &retry));
    EXPECT_FALSE(ChargeNow(limits_, "203.0.113.7", &retry));
    EXPECT_EQ(retry, 30);
    EXPECT_TRUE(ChargeNow(limits_, "203.0.113.8", &retry));
}

TEST(LimitsLifetime, APermitMayOutliveItsLimits) {
    // At shutdown a call's frame can be destroyed after the services (with the io_context).
    core::ManualClock clock(kT0);
    limit::LocalLimiter limiter(clock, {limit::BucketConfig::PerMinute(60), 100, 2});
    std::optional<Permit> kept;
    {
        Limits limits(limiter, clock, SmallConfig());
        auto p = AdmitNow(limits, {"u", "user", std::nullopt, {}}, 1);
        ASSERT_TRUE(p.ok());
        kept.emplace(std::move(p.value()));
        EXPECT_EQ(limits.in_flight(), 1);
    }
    kept.reset();  // its Limits is gone: nothing is returned, nothing breaks
    SUCCEED();
}

class LimitsLoadTest : public store::testing::StoreTest {};

TEST_F(LimitsLoadTest, StartsFromWhatTheDatabaseSays) {
    store::User u = NewUser("carol");
    store::UserPatch patch;
    patch.quota = store::UserQuota{};
    patch.quota->daily_tokens = 100;
    ASSERT_TRUE(store().Users().Update(u.id, patch).ok());
    ASSERT_TRUE(store().ApiCalls().Insert(Row(u.id, 60, 7, clock_.NowMs())).ok());
    ASSERT_TRUE(store().ApiCalls().Insert(Row(u.id, 30, 1, clock_.NowMs() - 86'400'000)).ok());

    limit::LocalLimiter limiter(clock_, {limit::BucketConfig::PerMinute(60), 100, 2});
    Limits limits(limiter, clock_, SmallConfig());
    ASSERT_TRUE(limits.LoadBlocking(store()).ok());
    auto usage = limits.Usage(u.id, "user");
    EXPECT_EQ(usage.limits.budgets.daily_tokens, 100);
    EXPECT_EQ(usage.spend.today.tokens, 60);
    EXPECT_EQ(usage.spend.today.cost_micro_cny, 7);
    EXPECT_EQ(usage.spend.this_month.tokens, 90);
    auto refused = AdmitNow(limits, {u.id, "user", std::nullopt, {}}, 50);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().api_code, "quota_exceeded");
}

TEST(QuotaLedger, RaiseTakesTheLargerFigureOfTheSameDayOnly) {
    QuotaLedger ledger;
    ledger.Add("u", kT0, {100, 5}, kT0);
    ledger.Raise("u", {80, 9}, {500, 3}, kT0, kT0);  // the database: other hubs' calls too
    auto s = ledger.Get("u", kT0);
    EXPECT_EQ(s.today.tokens, 100);  // this hub's call not in the read yet: kept
    EXPECT_EQ(s.today.cost_micro_cny, 9);
    EXPECT_EQ(s.this_month.tokens, 500);
    EXPECT_EQ(s.this_month.cost_micro_cny, 5);
    // A read made yesterday does not land on today.
    ledger.Raise("u", {9999, 9999}, {600, 6}, kMidnight - 1, kMidnight);
    auto next = ledger.Get("u", kMidnight);
    EXPECT_EQ(next.today.tokens, 0);
    EXPECT_EQ(next.this_month.tokens, 600);
}

// Two hubs on one database: what hub A recorded counts against the budget on hub B once B reads
// the spend again.
TEST_F(LimitsLoadTest, BudgetsCountTheOtherHubsCallsAfterARefresh) {
    store::User u = NewUser("erin");
    store::UserPatch patch;
    patch.quota = store::UserQuota{};
    patch.quota->daily_tokens = 100;
    ASSERT_TRUE(store().Users().Update(u.id, patch).ok());
    limit::LocalLimiter limiter(clock_, {limit::BucketConfig::PerMinute(60), 100, 2});
    Limits hub_b(limiter, clock_, SmallConfig());
    ASSERT_TRUE(hub_b.LoadBlocking(store()).ok());
    ASSERT_TRUE(AdmitNow(hub_b, {u.id, "user", std::nullopt, {}}, 10).ok());
    // Hub A records 95 tokens for the user.
    ASSERT_TRUE(store().ApiCalls().Insert(Row(u.id, 95, 3, clock_.NowMs())).ok());
    ASSERT_TRUE(hub_b.RefreshSpendBlocking(store()).ok());
    EXPECT_EQ(hub_b.Usage(u.id, "user").spend.today.tokens, 95);
    auto refused = AdmitNow(hub_b, {u.id, "user", std::nullopt, {}}, 10);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().api_code, "quota_exceeded");
}

// Two hubs: an admin raises a user's quota through hub A (which sets its own Limits and, through
// the revocation cache, tells the others the user changed); hub B reads the quota again.
TEST_F(LimitsLoadTest, AQuotaEditedOnAIsInForceOnB) {
    store::User u = NewUser("dave");
    testing::LinkedBuses buses;
    auth::RevocationCache rev_a(clock_), rev_b(clock_);
    rev_a.Connect(buses.a());
    rev_b.Connect(buses.b());
    limit::LocalLimiter limiter(clock_, {limit::BucketConfig::PerMinute(60), 100, 2});
    Limits limits_b(limiter, clock_, SmallConfig());
    ASSERT_TRUE(limits_b.LoadBlocking(store()).ok());
    async::WorkerPool db_b{"db-b", 1};
    QuotaSync sync_b(limits_b, store(), db_b);
    sync_b.Connect(buses.b());
    EXPECT_EQ(limits_b.Usage(u.id, "user").limits.budgets.daily_tokens, 500);

    store::UserPatch patch;
    patch.quota = store::UserQuota{};
    patch.quota->daily_tokens = 123;
    ASSERT_TRUE(store().Users().Update(u.id, patch).ok());
    rev_a.NoteUserChanged(u.id);  // as Accounts::AdminUpdateUser does after the commit
    EXPECT_TRUE(testing::WaitUntil(
        [&] { return limits_b.Usage(u.id, "user").limits.budgets.daily_tokens == 123; }));

    ASSERT_TRUE(store().Users().Erase(u.id, "tombstone-1").ok());
    rev_a.NoteUserChanged(u.id);
    EXPECT_TRUE(testing::WaitUntil(
        [&] { return limits_b.Usage(u.id, "user").limits.budgets.daily_tokens == 500; }));
    buses.Drain();
    db_b.Stop();
}

}  // namespace
}  // namespace hub::services
