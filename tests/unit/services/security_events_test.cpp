// Security events: each detector on a ManualClock (thresholds, windows, one event per
// incident), and the service against a real SQLite store, fed through services::AppendAudit
// as the hub writes its trail: stored events, locks, unlock, restart.
#include "services/security_events.hpp"

#include <gtest/gtest.h>

#include "cache/topics.hpp"
#include "support/linked_bus.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::services {
namespace {

using std::chrono::milliseconds;

store::AuditEntry Entry(std::string action, std::optional<std::string> actor, std::string ip,
                        std::string detail = "{}") {
    static int n = 0;
    store::AuditEntry e;
    e.id = "a" + std::to_string(++n);
    e.action = std::move(action);
    e.actor_user_id = std::move(actor);
    e.ip = std::move(ip);
    e.detail = std::move(detail);
    return e;
}

store::AuditEntry BadPassword(std::string user, std::string ip = "198.51.100.7") {
    return Entry("auth.login_failed", user, std::move(ip), R"({"reason":"bad_password"})");
}

auto NotAdmin = [](const std::string&) { return false; };
auto NoRanges = [](const std::string&, const std::string&) { return std::vector<std::string>{}; };

TEST(SecurityDetector, IpRanges) {
    EXPECT_EQ(IpRange("203.0.113.77"), "203.0.113.0/24");
    EXPECT_EQ(IpRange("2001:db8:abcd:12::1"), "2001:db8:abcd::/48");
    EXPECT_EQ(IpRange("::ffff:203.0.113.5"), "203.0.113.0/24");
    EXPECT_EQ(IpRange("not an ip"), "");
    EXPECT_EQ(IpRange(""), "");
}

TEST(SecurityDetector, BruteForceOnOneAccountOncePerWindow) {
    core::ManualClock clock;
    SecurityEventsConfig cfg;  // 5 failures in 15 min, lock 15 min
    SecurityDetector d(clock, cfg);
    for (int i = 0; i < 4; ++i) {
        EXPECT_TRUE(d.OnAudit(BadPassword("u1"), NotAdmin, NoRanges).empty());
        clock.Advance(milliseconds(1000));
    }
    // Refusals that tried no password do not count.
    store::AuditEntry limited =
        Entry("auth.login_failed", std::string("u1"), "198.51.100.7", R"({"reason":"locked"})");
    EXPECT_TRUE(d.OnAudit(limited, NotAdmin, NoRanges).empty());
    auto found = d.OnAudit(BadPassword("u1"), NotAdmin, NoRanges);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].kind, "brute_force");
    EXPECT_EQ(found[0].severity, "high");
    EXPECT_EQ(found[0].user_id, std::optional<std::string>("u1"));
    EXPECT_EQ(found[0].lock_subject, std::optional<std::string>("user:u1"));
    EXPECT_EQ(found[0].lock_ms, cfg.brute_force_lock_ms);
    EXPECT_EQ(found[0].detail["failures"], 5);
    // More failures in the same incident: no second event.
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(d.OnAudit(BadPassword("u1"), NotAdmin, NoRanges).empty());
    // Another account is its own incident... below the threshold.
    EXPECT_TRUE(d.OnAudit(BadPassword("u2"), NotAdmin, NoRanges).empty());
    // A window later, a new incident.
    clock.Advance(milliseconds(cfg.brute_force_window_ms));
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(d.OnAudit(BadPassword("u1"), NotAdmin, NoRanges).empty());
    EXPECT_EQ(d.OnAudit(BadPassword("u1"), NotAdmin, NoRanges).size(), 1u);
}

TEST(SecurityDetector, FailuresSpreadOverMoreThanTheWindowAreNotBruteForce) {
    core::ManualClock clock;
    SecurityEventsConfig cfg;
    SecurityDetector d(clock, cfg);
    for (int i = 0; i < 20; ++i) {
        EXPECT_TRUE(d.OnAudit(BadPassword("u1"), NotAdmin, NoRanges).empty()) << i;
        clock.Advance(milliseconds(cfg.brute_force_window_ms / 4));
    }
}

TEST(SecurityDetector, CredentialStuffingFromOneIp) {
    core::ManualClock clock;
    SecurityEventsConfig cfg;
    cfg.stuffing_accounts = 4;
    SecurityDetector d(clock, cfg);
    // Unknown accounts count one each; the same account twice counts once.
    EXPECT_TRUE(d.OnAudit(BadPassword("a", "192.0.2.1"), NotAdmin, NoRanges).empty());
    EXPECT_TRUE(d.OnAudit(BadPassword("a", "192.0.2.1"), NotAdmin, NoRanges).empty());
    EXPECT_TRUE(d.OnAudit(BadPassword("b", "192.0.2.1"), NotAdmin, NoRanges).empty());
    EXPECT_TRUE(d.OnAudit(BadPassword("c", "192.0.2.99"), NotAdmin, NoRanges).empty());
    store::AuditEntry unknown = Entry("auth.login_failed", std::nullopt, "192.0.2.1",
                                      R"({"reason":"unknown_user"})");
    EXPECT_TRUE(d.OnAudit(unknown, NotAdmin, NoRanges).empty());
    auto found = d.OnAudit(BadPassword("d", "192.0.2.1"), NotAdmin, NoRanges);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].kind, "credential_stuffing");
    EXPECT_EQ(found[0].ip, "192.0.2.1");
    EXPECT_FALSE(found[0].user_id.has_value());
    EXPECT_EQ(found[0].detail["accounts"], 4);
    EXPECT_TRUE(d.OnAudit(BadPassword("e", "192.0.2.1"), NotAdmin, NoRanges).empty());
}

TEST(SecurityDetector, RefreshReuseAndMfaFailures) {
    core::ManualClock clock;
    SecurityEventsConfig cfg;
    SecurityDetector d(clock, cfg);
    auto reuse = [&](std::string u) {
        return d.OnAudit(Entry("auth.refresh_reuse", u, "198.51.100.1"), NotAdmin, NoRanges);
    };
    ASSERT_EQ(reuse("u1").size(), 1u);
    EXPECT_EQ(reuse("u1").size(), 0u);  // the same incident
    EXPECT_EQ(reuse("u2").size(), 1u);
    clock.Advance(milliseconds(cfg.refresh_reuse_window_ms));
    EXPECT_EQ(reuse("u1").size(), 1u);

    auto mfa = [&](std::string u) {
        return d.OnAudit(Entry("auth.mfa_failed", u, "198.51.100.1"), NotAdmin, NoRanges);
    };
    EXPECT_TRUE(mfa("u3").empty());
    EXPECT_TRUE(mfa("u3").empty());
    auto found = mfa("u3");
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].kind, "mfa_failures");
    EXPECT_FALSE(found[0].lock_subject.has_value()) << "no lock by default";
    EXPECT_TRUE(mfa("u3").empty());
}

TEST(SecurityDetector, AdminFromANewRange) {
    core::ManualClock clock;
    SecurityDetector d(clock, {});
    auto admin = [](const std::string& u) { return u == "boss"; };
    int history_reads = 0;
    auto earlier = [&](const std::string&, const std::string&) {
        ++history_reads;
        return std::vector<std::string>{"203.0.113.0/24"};
    };
    auto login = [&](std::string u, std::string ip) {
        return d.OnAudit(Entry("auth.login", u, std::move(ip)), admin, earlier);
    };
    EXPECT_TRUE(login("boss", "203.0.113.50").empty());  // a range seen before
    EXPECT_TRUE(login("boss", "203.0.113.51").empty());
    auto found = login("boss", "198.51.100.9");
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].kind, "admin_new_range");
    EXPECT_EQ(found[0].detail["range"], "198.51.100.0/24");
    EXPECT_TRUE(login("boss", "198.51.100.10").empty()) << "known now";
    EXPECT_EQ(login("boss", "2001:db8:1:2::5").size(), 1u);
    EXPECT_TRUE(login("boss", "2001:db8:1:ffff::5").empty()) << "same /48";
    EXPECT_TRUE(login("worker", "192.0.2.1").empty()) << "not an admin";
    EXPECT_EQ(history_reads, 1) << "the history is read once per admin";

    // An admin's first sign-in ever is the baseline, not an event.
    SecurityDetector fresh(clock, {});
    EXPECT_TRUE(fresh.OnAudit(Entry("auth.login", std::string("boss"), "192.0.2.1"), admin, NoRanges)
                    .empty());
    EXPECT_EQ(fresh.OnAudit(Entry("auth.login", std::string("boss"), "192.0.3.1"), admin, NoRanges)
                  .size(),
              1u);
}

store::ApiCall Call(std::int64_t cost, std::optional<std::string> key = std::nullopt) {
    store::ApiCall c;
    c.user_id = "u1";
    c.api_key_id = std::move(key);
    c.cost_micro_cny = cost;
    return c;
}

TEST(SecurityDetector, SpendSpikeAgainstTheBaseline) {
    core::ManualClock clock;
    SecurityEventsConfig cfg;  // 5 min window, 24 h baseline, >= 1 CNY and >= 10x
    SecurityDetector d(clock, cfg);
    // A steady 0.5 CNY per 5 minutes for 12 hours: never a spike (and never >= 1 CNY).
    for (int i = 0; i < 144; ++i) {
        EXPECT_TRUE(d.OnCall(Call(500'000, "k1")).empty()) << i;
        clock.Advance(milliseconds(cfg.spend_window_ms));
    }
    // The baseline: 72 CNY over the 287 windows before this one, 0.25 CNY per window; 10x is
    // 2.5 CNY. 2 CNY within 5 minutes is not a spike yet, 3 CNY is (for the user and the key).
    EXPECT_TRUE(d.OnCall(Call(1'000'000, "k1")).empty());
    EXPECT_TRUE(d.OnCall(Call(1'000'000, "k1")).empty());
    auto found = d.OnCall(Call(1'000'000, "k1"));
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].kind, "spend_spike");
    EXPECT_FALSE(found[0].lock_subject.has_value()) << "users are not locked";
    EXPECT_EQ(found[1].api_key_id, std::optional<std::string>("k1"));
    EXPECT_EQ(found[1].lock_subject, std::optional<std::string>("api_key:k1"));
    EXPECT_TRUE(d.OnCall(Call(5'000'000, "k1")).empty()) << "one event per incident";
    // Calls that cost nothing are not spend.
    EXPECT_TRUE(d.OnCall(Call(0, "k1")).empty());
}

TEST(SecurityDetector, SpendWithoutHistoryNeedsOnlyTheMinimum) {
    core::ManualClock clock;
    SecurityEventsConfig cfg;
    SecurityDetector d(clock, cfg);
    EXPECT_TRUE(d.OnCall(Call(999'999)).empty());
    auto found = d.OnCall(Call(1));
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].detail["window_cost_micro_cny"], 1'000'000);
}

// The window's and the baseline's sums are kept as calls enter the window, leave it and
// leave the baseline period: the figures an event reports are those sums.
TEST(SecurityDetector, SpendSumsFollowTheWindowAndTheBaseline) {
    core::ManualClock clock;
    SecurityEventsConfig cfg;
    cfg.spend_window_ms = 5 * 60'000;
    cfg.spend_baseline_ms = 60 * 60'000;  // 11 windows before the current one
    cfg.spend_min_micro_cny = 1'000;
    cfg.spend_factor = 2.0;
    SecurityDetector d(clock, cfg);
    EXPECT_TRUE(d.OnCall(Call(600)).empty());  // window 600: under the minimum
    clock.Advance(milliseconds(6 * 60'000));
    EXPECT_TRUE(d.OnCall(Call(600)).empty());  // the first call left the window: 600 and 600
    auto found = d.OnCall(Call(500));          // window 1,100, baseline 600 / 11 = 54
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].detail["window_cost_micro_cny"], 1'100);
    EXPECT_EQ(found[0].detail["baseline_cost_micro_cny"], 54);
    // An hour later every earlier call is past the baseline period: nothing is left of them.
    clock.Advance(milliseconds(61 * 60'000));
    found = d.OnCall(Call(1'000));
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].detail["window_cost_micro_cny"], 1'000);
    EXPECT_EQ(found[0].detail["baseline_cost_micro_cny"], 0);
}

// ---- the service, through AppendAudit ----

class SecurityEventsServiceTest : public store::testing::StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        auto defaults = auth::RolePermissions::FromRows(auth::DefaultRolePermissionRows());
        ASSERT_TRUE(defaults.ok());
        roles_.Replace(std::move(defaults.value()));
        cfg_.mfa_lock_ms = 60'000;
        events_ = std::make_unique<SecurityEvents>(store(), db_, roles_, clock_, cfg_);
        store().Audit().SetObserver(events_.get());
    }
    void TearDown() override { store().Audit().SetObserver(nullptr); }

    template <class T>
    T Await(net::awaitable<T> aw) {
        net::io_context io;
        std::optional<T> out;
        net::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
            if (e) std::rethrow_exception(e);
            out = std::move(v);
        });
        io.run();
        return std::move(*out);
    }
    void Write(const std::string& action, std::optional<std::string> actor,
               const std::string& detail = "{}", const std::string& ip = "198.51.100.7") {
        RequestMeta meta{ip, "test", "rid"};
        AppendAudit(store(), clock_, std::move(actor), action, "", meta, detail);
    }
    std::vector<store::SecurityEvent> Stored(std::optional<std::string> kind = std::nullopt) {
        store::SecurityEventFilter f;
        f.kind = std::move(kind);
        auto page = store().SecurityEvents().List(f, {});
        EXPECT_TRUE(page.ok());
        return page.ok() ? page->items : std::vector<store::SecurityEvent>{};
    }

    async::WorkerPool db_{"db", 1};
    auth::RoleTable roles_;
    SecurityEventsConfig cfg_;
    std::unique_ptr<SecurityEvents> events_;
};

TEST_F(SecurityEventsServiceTest, MfaFailuresWrittenThroughTheAuditServiceBecomeAnEvent) {
    std::string uid = NewUser("mfa-user").id;
    Write("auth.mfa_failed", uid);
    Write("auth.mfa_failed", uid);
    EXPECT_TRUE(Stored().empty());
    Write("auth.mfa_failed", uid);
    auto events = Stored("mfa_failures");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].user_id, std::optional<std::string>(uid));
    EXPECT_EQ(events[0].action, "account_locked");
    EXPECT_TRUE(events_->LockedUntil("user:" + uid).has_value());
    EXPECT_EQ(events_->Counts()["mfa_failures"], 1);
    Write("auth.mfa_failed", uid);
    EXPECT_EQ(Stored("mfa_failures").size(), 1u);
}

TEST_F(SecurityEventsServiceTest, BruteForceLocksUntilUnlockedOrOver) {
    std::string uid = NewUser("victim").id;
    for (int i = 0; i < cfg_.brute_force_failures; ++i)
        Write("auth.login_failed", uid, R"({"reason":"bad_password"})");
    auto events = Stored("brute_force");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].action, "account_locked");
    ASSERT_TRUE(events[0].locked_until.has_value());
    auto until = events_->LockedUntil("user:" + uid);
    ASSERT_TRUE(until.has_value());
    EXPECT_EQ(*until, *events[0].locked_until);

    // The lock survives a restart (a new service loads it).
    SecurityEvents restarted(store(), db_, roles_, clock_, cfg_);
    ASSERT_TRUE(restarted.LoadBlocking().ok());
    EXPECT_TRUE(restarted.LockedUntil("user:" + uid).has_value());

    // Only with security:read.
    auth::Principal user{"u1", "user", "s1"};
    auth::FillFromRole(user, *roles_.Snapshot());
    EXPECT_EQ(Await(events_->Unlock(user, events[0].id, {})).error().code,
              core::ErrorCode::kForbidden);
    EXPECT_EQ(Await(events_->List(user, {}, {})).error().code, core::ErrorCode::kForbidden);
    auth::Principal admin{NewUser("boss", "admin").id, "admin", "s2"};
    auth::FillFromRole(admin, *roles_.Snapshot());
    auto listed = Await(events_->List(admin, {}, {}));
    ASSERT_TRUE(listed.ok());
    EXPECT_EQ(listed->items.size(), 1u);
    EXPECT_EQ(Await(events_->Unlock(admin, "nope", {})).error().code, core::ErrorCode::kNotFound);
    auto unlocked = Await(events_->Unlock(admin, events[0].id, {"10.0.0.1", "t", "r"}));
    ASSERT_TRUE(unlocked.ok());
    EXPECT_EQ(unlocked->locked_until, std::optional<std::int64_t>(clock_.NowMs()))
        << "the event records that its lock ended now";
    EXPECT_FALSE(events_->LockedUntil("user:" + uid).has_value());
    store::AuditFilter f;
    f.action = "security.unlock";
    auto audit = store().Audit().List(f, {});
    ASSERT_TRUE(audit.ok());
    ASSERT_EQ(audit->items.size(), 1u);
    EXPECT_EQ(audit->items[0].target, "user:" + uid);

    // A lock also simply ends.
    for (int i = 0; i < cfg_.brute_force_failures; ++i)
        Write("auth.login_failed", uid, R"({"reason":"bad_password"})");
    EXPECT_FALSE(events_->LockedUntil("user:" + uid).has_value()) << "same incident window";
    clock_.Advance(milliseconds(cfg_.brute_force_window_ms));
    for (int i = 0; i < cfg_.brute_force_failures; ++i)
        Write("auth.login_failed", uid, R"({"reason":"bad_password"})");
    ASSERT_TRUE(events_->LockedUntil("user:" + uid).has_value());
    clock_.Advance(milliseconds(cfg_.brute_force_lock_ms));
    EXPECT_FALSE(events_->LockedUntil("user:" + uid).has_value());
}

TEST_F(SecurityEventsServiceTest, AdminSignInFromANewRangeUsesTheStoredHistory) {
    std::string boss = NewUser("boss", "admin").id;
    std::string worker = NewUser("worker").id;
    Write("auth.login", boss, "{}", "203.0.113.5");  // the first ever: baseline
    Write("auth.login", worker, "{}", "203.0.113.5");
    Write("auth.login", worker, "{}", "192.0.2.5");
    EXPECT_TRUE(Stored().empty());
    // A fresh service (restart) reads the admin's earlier ranges from the audit log.
    store().Audit().SetObserver(nullptr);
    SecurityEvents restarted(store(), db_, roles_, clock_, cfg_);
    store().Audit().SetObserver(&restarted);
    Write("auth.login", boss, "{}", "203.0.113.99");
    EXPECT_TRUE(Stored().empty());
    Write("auth.login", boss, "{}", "192.0.2.5");
    auto events = Stored("admin_new_range");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].user_id, std::optional<std::string>(boss));
    EXPECT_EQ(events[0].ip, "192.0.2.5");
    store().Audit().SetObserver(events_.get());
}

TEST_F(SecurityEventsServiceTest, SpendSpikeSuspendsTheKeyAtOnce) {
    cfg_.spend_min_micro_cny = 100;
    SecurityEvents events(store(), db_, roles_, clock_, cfg_);
    store::ApiCall c;
    c.user_id = "u1";
    c.api_key_id = "k1";
    c.cost_micro_cny = 100;
    events.OnCall(c);
    EXPECT_TRUE(events.LockedUntil("api_key:k1").has_value()) << "before the event is stored";
    Await(db_.Run([] { return 0; }));  // the single db thread has stored the events
    EXPECT_EQ(Stored("spend_spike").size(), 2u);
    auto locks = store().SecurityEvents().ActiveLocks(clock_.NowMs());
    ASSERT_TRUE(locks.ok());
    ASSERT_EQ(locks->size(), 1u);
    EXPECT_EQ((*locks)[0].subject, "api_key:k1");
    EXPECT_EQ(events.Counts()["spend_spike"], 2);
}

// Two hubs over one database: a lock set or lifted through hub A (events_) is in force, or
// gone, on hub B as soon as the event arrives (B re-reads it on its db pool).
TEST_F(SecurityEventsServiceTest, LocksSetAndLiftedOnAReachB) {
    testing::LinkedBuses buses;
    async::WorkerPool db_b{"db-b", 1};
    SecurityEvents b(store(), db_b, roles_, clock_, cfg_);
    events_->Connect(buses.a());
    b.Connect(buses.b());
    std::string uid = NewUser("victim").id;
    for (int i = 0; i < cfg_.brute_force_failures; ++i)
        Write("auth.login_failed", uid, R"({"reason":"bad_password"})");
    ASSERT_TRUE(events_->LockedUntil("user:" + uid).has_value());
    EXPECT_TRUE(testing::WaitUntil([&] { return b.LockedUntil("user:" + uid).has_value(); }));
    EXPECT_EQ(b.LockedUntil("user:" + uid), events_->LockedUntil("user:" + uid));

    auth::Principal admin{NewUser("boss", "admin").id, "admin", "s2"};
    auth::FillFromRole(admin, *roles_.Snapshot());
    auto events = Stored("brute_force");
    ASSERT_EQ(events.size(), 1u);
    ASSERT_TRUE(Await(events_->Unlock(admin, events[0].id, {"10.0.0.1", "t", "r"})).ok());
    EXPECT_TRUE(testing::WaitUntil([&] { return !b.LockedUntil("user:" + uid).has_value(); }));
    buses.Drain();
    EXPECT_EQ(buses.a().received(), 0u);  // no echo
    for (const auto& e : buses.b().log())
        EXPECT_EQ(e, (cache::BusEvent{cache::topic::kSecurityLocksChanged, "user:" + uid}));
    db_b.Stop();
}

TEST_F(SecurityEventsServiceTest, ResyncedReadsEveryLock) {
    async::WorkerPool db_b{"db-b", 1};
    SecurityEvents b(store(), db_b, roles_, clock_, cfg_);  // never told anything
    std::string uid = NewUser("victim").id;
    for (int i = 0; i < cfg_.brute_force_failures; ++i)
        Write("auth.login_failed", uid, R"({"reason":"bad_password"})");
    EXPECT_FALSE(b.LockedUntil("user:" + uid).has_value());
    b.Apply({cache::kBusResynced, ""});
    EXPECT_TRUE(testing::WaitUntil([&] { return b.LockedUntil("user:" + uid).has_value(); }));
    db_b.Stop();
}

}  // namespace
}  // namespace hub::services
