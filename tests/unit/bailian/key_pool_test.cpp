#include "bailian/key_pool.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hub::bailian {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

UpstreamKey Key(std::string id, int weight = 1) {
    return UpstreamKey{id, "name-" + id, core::Secret<std::string>("sk-secret-value-" + id),
                       weight};
}

KeyPoolOptions Options() {
    KeyPoolOptions o;
    o.cooldown_base = milliseconds(1000);
    o.cooldown_max = milliseconds(8000);
    o.auth_reprobe_base = minutes(5);
    o.auth_reprobe_max = minutes(20);
    o.seed = 42;
    return o;
}

class KeyPoolTest : public ::testing::Test {
protected:
    KeyHealth Health(const std::string& id) const {
        for (const auto& h : pool_.Snapshot()) {
            if (h.id == id) return h;
        }
        ADD_FAILURE() << "no key " << id;
        return {};
    }
    KeyState State(const std::string& id) const { return Health(id).state; }

    KeyLease Take(const std::vector<std::string>& exclude = {}) {
        auto r = pool_.Acquire(exclude);
        if (!r.ok()) throw std::runtime_error("Acquire failed: " + r.error().detail);
        return std::move(r).value();
    }

    core::ManualClock clock_;
    KeyPool pool_{clock_, Options()};
};

TEST_F(KeyPoolTest, AddValidatesInput) {
    EXPECT_TRUE(pool_.Add(Key("a")).ok());
    auto dup = pool_.Add(Key("a"));
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().code, core::ErrorCode::kConflict);
    EXPECT_FALSE(pool_.Add(UpstreamKey{"", "n", core::Secret<std::string>("sk-x"), 1}).ok());
    EXPECT_FALSE(pool_.Add(UpstreamKey{"b", "n", core::Secret<std::string>(""), 1}).ok());
    EXPECT_FALSE(pool_.Add(Key("c", 0)).ok());
    EXPECT_FALSE(pool_.Add(Key("c", 1001)).ok());
    EXPECT_EQ(pool_.Snapshot().size(), 1u);
}

TEST_F(KeyPoolTest, EmptyPoolHasNoKey) {
    auto r = pool_.Acquire();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, core::ErrorCode::kUnavailable);
    EXPECT_EQ(r.error().api_code, "no_upstream_key");
}

TEST_F(KeyPoolTest, LeaseCarriesSecretAndHealthNeverDoes) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    KeyLease lease = Take();
    EXPECT_EQ(lease.key_id(), "a");
    EXPECT_EQ(lease.key_name(), "name-a");
    EXPECT_EQ(lease.secret().Reveal(), "sk-secret-value-a");
    EXPECT_EQ(lease.last4(), "ue-a");
    std::ostringstream printed;
    printed << lease.secret();
    EXPECT_EQ(printed.str(), "***");
    KeyHealth h = Health("a");
    EXPECT_EQ(h.last4, "ue-a");
    EXPECT_EQ(h.in_flight, 1);
    EXPECT_EQ(h.total_requests, 1);
    lease.Complete(KeyOutcome::kSuccess);
    EXPECT_TRUE(lease.completed());
    EXPECT_EQ(Health("a").in_flight, 0);
}

TEST_F(KeyPoolTest, LastHourCountsAndLastError) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    Take().Complete(KeyOutcome::kSuccess);
    KeyLease failing = Take();
    failing.Complete(KeyOutcome::kServerError);
    KeyHealth h = Health("a");
    EXPECT_EQ(h.calls_last_hour, 2);
    EXPECT_EQ(h.errors_last_hour, 1);
    EXPECT_EQ(h.last_error, "server_error");
    EXPECT_EQ(h.last_error_ms, clock_.NowMs());
    clock_.Advance(minutes(30));
    Take().Complete(KeyOutcome::kSuccess);
    EXPECT_EQ(Health("a").calls_last_hour, 3);
    clock_.Advance(minutes(31));  // the first two are now over an hour old
    h = Health("a");
    EXPECT_EQ(h.calls_last_hour, 1);
    EXPECT_EQ(h.errors_last_hour, 0);
    EXPECT_EQ(h.last_error, "server_error");  // the last error stays until the next one
    EXPECT_EQ(h.total_requests, 3);
}

TEST_F(KeyPoolTest, ShortSecretHasNoLast4) {
    ASSERT_TRUE(pool_.Add(UpstreamKey{"s", "short", core::Secret<std::string>("abc123"), 1}).ok());
    EXPECT_EQ(Health("s").last4, "");
}

TEST_F(KeyPoolTest, CoolingBackoffProbeAndRecovery) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    ASSERT_TRUE(pool_.Add(Key("b")).ok());
    const std::int64_t t0 = clock_.NowMs();

    // A 429 on "a" cools it for 1 s; all traffic goes to "b".
    KeyLease la = Take({"b"});
    la.Complete(KeyOutcome::kThrottled);
    EXPECT_EQ(State("a"), KeyState::kCooling);
    EXPECT_EQ(Health("a").cooldown_until_ms, t0 + 1000);
    EXPECT_EQ(Health("a").consecutive_failures, 1);
    for (int i = 0; i < 20; ++i) {
        KeyLease l = Take();
        EXPECT_EQ(l.key_id(), "b");
        EXPECT_FALSE(l.is_probe());
        l.Complete(KeyOutcome::kSuccess);
    }

    // Cooldown over: the next request is the probe, only one at a time.
    clock_.Advance(milliseconds(1000));
    KeyLease probe = Take();
    EXPECT_EQ(probe.key_id(), "a");
    EXPECT_TRUE(probe.is_probe());
    EXPECT_EQ(State("a"), KeyState::kProbing);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(Take().key_id(), "b");

    // The probe fails: cooling again, twice as long.
    probe.Complete(KeyOutcome::kThrottled);
    EXPECT_EQ(State("a"), KeyState::kCooling);
    EXPECT_EQ(Health("a").cooldown_until_ms, clock_.NowMs() + 2000);
    clock_.Advance(milliseconds(1999));
    EXPECT_EQ(Take().key_id(), "b");
    clock_.Advance(milliseconds(1));
    KeyLease probe2 = Take();
    EXPECT_EQ(probe2.key_id(), "a");
    probe2.Complete(KeyOutcome::kServerError);
    EXPECT_EQ(Health("a").cooldown_until_ms, clock_.NowMs() + 4000);

    // Backoff is capped (8 s).
    for (int i = 0; i < 5; ++i) {
        clock_.Advance(milliseconds(10'000));
        KeyLease p = Take();
        ASSERT_EQ(p.key_id(), "a");
        p.Complete(KeyOutcome::kThrottled);
    }
    EXPECT_EQ(Health("a").cooldown_until_ms, clock_.NowMs() + 8000);

    // A successful probe makes the key active again and resets the backoff.
    clock_.Advance(milliseconds(8000));
    KeyLease good = Take();
    ASSERT_TRUE(good.is_probe());
    good.Complete(KeyOutcome::kSuccess);
    EXPECT_EQ(State("a"), KeyState::kActive);
    EXPECT_EQ(Health("a").consecutive_failures, 0);
    EXPECT_EQ(Health("a").cooldown_until_ms, 0);
    KeyLease again = Take({"b"});
    again.Complete(KeyOutcome::kThrottled);
    EXPECT_EQ(Health("a").cooldown_until_ms, clock_.NowMs() + 1000);
}

TEST_F(KeyPoolTest, ConcurrentFailuresCountOnce) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    std::vector<KeyLease> leases;
    for (int i = 0; i < 10; ++i) leases.push_back(Take());
    EXPECT_EQ(Health("a").in_flight, 10);
    for (auto& l : leases) l.Complete(KeyOutcome::kThrottled);
    KeyHealth h = Health("a");
    EXPECT_EQ(h.state, KeyState::kCooling);
    EXPECT_EQ(h.cooldown_until_ms, clock_.NowMs() + 1000);  // not 2^9 s
    EXPECT_EQ(h.in_flight, 0);
    EXPECT_EQ(h.total_failures, 10);
}

TEST_F(KeyPoolTest, StaleSuccessDoesNotRecoverACoolingKey) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    KeyLease slow = Take();
    KeyLease fast = Take();
    fast.Complete(KeyOutcome::kThrottled);
    slow.Complete(KeyOutcome::kSuccess);  // started before the 429: says nothing new
    EXPECT_EQ(State("a"), KeyState::kCooling);
}

TEST_F(KeyPoolTest, ServerErrorThreshold) {
    KeyPoolOptions o = Options();
    o.server_errors_to_cool = 3;
    KeyPool pool(clock_, o);
    ASSERT_TRUE(pool.Add(Key("a")).ok());
    auto state = [&] { return pool.Snapshot()[0].state; };
    for (int i = 0; i < 2; ++i) {
        auto l = pool.Acquire();
        ASSERT_TRUE(l.ok());
        l->Complete(KeyOutcome::kServerError);
        EXPECT_EQ(state(), KeyState::kActive);
    }
    {
        auto ok = pool.Acquire();  // a success resets the streak
        ok->Complete(KeyOutcome::kSuccess);
    }
    for (int i = 0; i < 3; ++i) {
        auto l = pool.Acquire();
        ASSERT_TRUE(l.ok());
        l->Complete(KeyOutcome::kServerError);
    }
    EXPECT_EQ(state(), KeyState::kCooling);
}

TEST_F(KeyPoolTest, AuthFailureDisablesWithTimedReprobe) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    ASSERT_TRUE(pool_.Add(Key("b")).ok());
    KeyLease la = Take({"b"});
    la.Complete(KeyOutcome::kAuthFailed);
    KeyHealth h = Health("a");
    EXPECT_EQ(h.state, KeyState::kDisabled);
    EXPECT_FALSE(h.admin_disabled);
    EXPECT_EQ(h.cooldown_until_ms, clock_.NowMs() + 5 * 60 * 1000);
    EXPECT_EQ(pool_.HealthyCount(), 1u);

    clock_.Advance(minutes(4));
    EXPECT_EQ(Take().key_id(), "b");
    clock_.Advance(minutes(1));
    KeyLease probe = Take();
    EXPECT_EQ(probe.key_id(), "a");
    EXPECT_TRUE(probe.is_probe());
    probe.Complete(KeyOutcome::kAuthFailed);  // still bad: re-probe in 10 min
    EXPECT_EQ(Health("a").cooldown_until_ms, clock_.NowMs() + 10 * 60 * 1000);
    clock_.Advance(minutes(10));
    KeyLease probe2 = Take();
    ASSERT_EQ(probe2.key_id(), "a");
    probe2.Complete(KeyOutcome::kSuccess);  // the account was fixed
    EXPECT_EQ(State("a"), KeyState::kActive);
    EXPECT_EQ(pool_.HealthyCount(), 2u);
}

TEST_F(KeyPoolTest, AdminDisableAndEnable) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    ASSERT_TRUE(pool_.Disable("a").ok());
    KeyHealth h = Health("a");
    EXPECT_EQ(h.state, KeyState::kDisabled);
    EXPECT_TRUE(h.admin_disabled);
    clock_.Advance(std::chrono::hours(24));
    EXPECT_FALSE(pool_.Acquire().ok());  // never probed
    EXPECT_TRUE(pool_.IsDrained("a"));
    ASSERT_TRUE(pool_.Enable("a").ok());
    EXPECT_FALSE(pool_.IsDrained("a"));
    EXPECT_EQ(State("a"), KeyState::kActive);
    EXPECT_EQ(Take().key_id(), "a");

    // Enable also clears an automatic disable right away.
    KeyLease l = Take();
    l.Complete(KeyOutcome::kAuthFailed);
    EXPECT_EQ(State("a"), KeyState::kDisabled);
    ASSERT_TRUE(pool_.Enable("a").ok());
    EXPECT_EQ(State("a"), KeyState::kActive);
    EXPECT_EQ(Health("a").consecutive_failures, 0);
    EXPECT_FALSE(pool_.Enable("zzz").ok());
    EXPECT_FALSE(pool_.Disable("zzz").ok());
}

TEST_F(KeyPoolTest, AllKeysDownStillProbesTheSoonestDue) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    ASSERT_TRUE(pool_.Add(Key("b")).ok());
    ASSERT_TRUE(pool_.Add(Key("c")).ok());
    {
        KeyLease l = Take({"b", "c"});
        l.Complete(KeyOutcome::kAuthFailed);  // a: re-probe in 5 min
    }
    {
        KeyLease l = Take({"a", "c"});
        l.Complete(KeyOutcome::kThrottled);  // b: probe in 1 s
    }
    clock_.Advance(milliseconds(100));
    {
        KeyLease l = Take({"a", "b"});
        l.Complete(KeyOutcome::kThrottled);  // c: probe at +1.1 s
    }
    EXPECT_EQ(pool_.HealthyCount(), 0u);

    // Nothing is due, nothing healthy: the key due soonest (b) is probed early.
    KeyLease p = Take();
    EXPECT_EQ(p.key_id(), "b");
    EXPECT_TRUE(p.is_probe());
    // While b's probe is out, the next soonest (c) is tried, then a.
    KeyLease q = Take();
    EXPECT_EQ(q.key_id(), "c");
    KeyLease r = Take();
    EXPECT_EQ(r.key_id(), "a");
    // All probes in flight: nothing left to try.
    EXPECT_FALSE(pool_.Acquire().ok());
    // b recovers.
    p.Complete(KeyOutcome::kSuccess);
    EXPECT_EQ(Take().key_id(), "b");
    // An abandoned probe makes the key due again, not stuck in probing.
    q.Complete(KeyOutcome::kAbandoned);
    EXPECT_EQ(State("c"), KeyState::kCooling);
    r.Complete(KeyOutcome::kAuthFailed);
}

TEST_F(KeyPoolTest, EarlyProbingCanBeTurnedOff) {
    KeyPoolOptions o = Options();
    o.probe_early_when_all_down = false;
    KeyPool pool(clock_, o);
    ASSERT_TRUE(pool.Add(Key("a")).ok());
    pool.Acquire()->Complete(KeyOutcome::kThrottled);
    EXPECT_FALSE(pool.Acquire().ok());
    clock_.Advance(milliseconds(1000));
    EXPECT_TRUE(pool.Acquire().ok());
}

TEST_F(KeyPoolTest, ExcludeListMeansTryAnother) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    KeyLease l = Take();
    l.Complete(KeyOutcome::kThrottled);
    auto other = pool_.Acquire({"a"});  // the only key was already tried for this request
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().code, core::ErrorCode::kUnavailable);
}

TEST_F(KeyPoolTest, WeightedDistributionWithSeededRng) {
    ASSERT_TRUE(pool_.Add(Key("a", 1)).ok());
    ASSERT_TRUE(pool_.Add(Key("b", 3)).ok());
    ASSERT_TRUE(pool_.Add(Key("c", 6)).ok());
    std::map<std::string, int> counts;
    const int n = 20'000;
    for (int i = 0; i < n; ++i) {
        KeyLease l = Take();
        ++counts[l.key_id()];
        l.Complete(KeyOutcome::kSuccess);
    }
    EXPECT_NEAR(counts["a"] / double(n), 0.1, 0.015);
    EXPECT_NEAR(counts["b"] / double(n), 0.3, 0.015);
    EXPECT_NEAR(counts["c"] / double(n), 0.6, 0.015);

    // Same seed, same sequence.
    KeyPool p1(clock_, Options());
    KeyPool p2(clock_, Options());
    for (auto* p : {&p1, &p2}) {
        ASSERT_TRUE(p->Add(Key("a", 1)).ok());
        ASSERT_TRUE(p->Add(Key("b", 3)).ok());
    }
    for (int i = 0; i < 100; ++i) EXPECT_EQ(p1.Acquire()->key_id(), p2.Acquire()->key_id());

    // Weight changes apply.
    ASSERT_TRUE(pool_.SetWeight("a", 1000).ok());
    EXPECT_FALSE(pool_.SetWeight("a", 0).ok());
    counts.clear();
    for (int i = 0; i < 2000; ++i) ++counts[Take().key_id()];
    EXPECT_GT(counts["a"], 1900);
}

TEST_F(KeyPoolTest, RotationWithLeasesInFlight) {
    ASSERT_TRUE(pool_.Add(Key("old")).ok());
    KeyLease l1 = Take();
    KeyLease l2 = Take();
    ASSERT_EQ(l1.key_id(), "old");

    ASSERT_TRUE(pool_.Rotate("old", Key("new")).ok());
    EXPECT_EQ(State("old"), KeyState::kRetiring);
    EXPECT_FALSE(pool_.IsDrained("old"));
    EXPECT_EQ(Health("old").in_flight, 2);
    // New requests only get the new key.
    for (int i = 0; i < 10; ++i) EXPECT_EQ(Take().key_id(), "new");
    // In-flight work finishes normally; a failure does not matter any more.
    l1.Complete(KeyOutcome::kThrottled);
    EXPECT_EQ(State("old"), KeyState::kRetiring);
    EXPECT_FALSE(pool_.IsDrained("old"));
    l2.Complete(KeyOutcome::kSuccess);
    EXPECT_TRUE(pool_.IsDrained("old"));
    KeyHealth h = Health("old");
    EXPECT_EQ(h.state, KeyState::kDisabled);
    EXPECT_TRUE(h.retired);
    EXPECT_TRUE(h.admin_disabled);
    EXPECT_EQ(h.in_flight, 0);
    clock_.Advance(std::chrono::hours(24));
    for (int i = 0; i < 10; ++i) EXPECT_EQ(Take().key_id(), "new");  // never probed
    EXPECT_TRUE(pool_.Remove("old").ok());
    EXPECT_EQ(pool_.Snapshot().size(), 1u);
}

TEST_F(KeyPoolTest, RotationErrorsChangeNothing) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    EXPECT_EQ(pool_.Rotate("missing", Key("n")).error().code, core::ErrorCode::kNotFound);
    EXPECT_EQ(pool_.Rotate("a", Key("a")).error().code, core::ErrorCode::kConflict);
    EXPECT_EQ(pool_.Snapshot().size(), 1u);
    EXPECT_EQ(State("a"), KeyState::kActive);
}

TEST_F(KeyPoolTest, AdminDisableWhileRetiringStillDrains) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    KeyLease l = Take();
    ASSERT_TRUE(pool_.Retire("a").ok());
    ASSERT_TRUE(pool_.Disable("a").ok());
    EXPECT_FALSE(pool_.IsDrained("a"));
    l.Complete(KeyOutcome::kSuccess);
    EXPECT_TRUE(pool_.IsDrained("a"));
}

TEST_F(KeyPoolTest, RetireIdleKeyDrainsAtOnce) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    ASSERT_TRUE(pool_.Retire("a").ok());
    EXPECT_TRUE(pool_.IsDrained("a"));
    EXPECT_TRUE(pool_.Retire("a").ok());  // idempotent
    EXPECT_FALSE(pool_.Acquire().ok());
}

TEST_F(KeyPoolTest, DroppedLeaseIsAbandonedNotLost) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    { KeyLease l = Take(); }
    EXPECT_EQ(Health("a").in_flight, 0);
    EXPECT_EQ(State("a"), KeyState::kActive);

    // Moving a lease transfers the obligation; completing twice counts once.
    KeyLease a = Take();
    KeyLease b = std::move(a);
    EXPECT_TRUE(a.completed());  // NOLINT(bugprone-use-after-move): checking moved-from state
    EXPECT_EQ(Health("a").in_flight, 1);
    b.Complete(KeyOutcome::kThrottled);
    b.Complete(KeyOutcome::kThrottled);
    EXPECT_EQ(Health("a").total_failures, 1);

    // Move-assigning over a live lease releases it.
    clock_.Advance(milliseconds(1000));
    KeyLease probe = Take();
    ASSERT_TRUE(probe.is_probe());
    ASSERT_TRUE(pool_.Enable("a").ok());
    KeyLease other = Take();
    other = Take();
    EXPECT_EQ(Health("a").in_flight, 2);      // the stale probe and `other`
    probe.Complete(KeyOutcome::kAuthFailed);  // stale: from before the admin's Enable
    EXPECT_EQ(State("a"), KeyState::kActive);
}

TEST_F(KeyPoolTest, RemovedKeyAndDestroyedPoolLeaveLeasesInert) {
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    KeyLease l = Take();
    ASSERT_TRUE(pool_.Remove("a").ok());
    EXPECT_EQ(l.secret().Reveal(), "sk-secret-value-a");  // the lease keeps its copy
    l.Complete(KeyOutcome::kSuccess);
    EXPECT_FALSE(pool_.Remove("a").ok());

    // Re-adding the same id does not inherit old leases.
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    KeyLease fresh = Take();
    ASSERT_TRUE(pool_.Remove("a").ok());
    ASSERT_TRUE(pool_.Add(Key("a")).ok());
    fresh.Complete(KeyOutcome::kThrottled);
    EXPECT_EQ(State("a"), KeyState::kActive);
    EXPECT_EQ(Health("a").in_flight, 0);

    std::optional<KeyLease> outlives;
    {
        KeyPool temp(clock_, Options());
        ASSERT_TRUE(temp.Add(Key("t")).ok());
        outlives.emplace(std::move(temp.Acquire().value()));
    }
    outlives->Complete(KeyOutcome::kSuccess);  // no crash, nothing happens
}

TEST_F(KeyPoolTest, ConcurrentUseKeepsCountsConsistent) {
    ASSERT_TRUE(pool_.Add(Key("a", 2)).ok());
    ASSERT_TRUE(pool_.Add(Key("b", 1)).ok());
    constexpr int kThreads = 4;
    constexpr int kOps = 2000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([this, t] {
            for (int i = 0; i < kOps; ++i) {
                auto lease = pool_.Acquire();
                if (!lease.ok()) continue;  // all keys briefly probing
                lease->Complete((i + t) % 50 == 0 ? KeyOutcome::kThrottled : KeyOutcome::kSuccess);
                (void)pool_.Snapshot();
            }
        });
    }
    for (auto& th : threads) th.join();
    std::int64_t requests = 0;
    for (const auto& h : pool_.Snapshot()) {
        EXPECT_EQ(h.in_flight, 0);
        requests += h.total_requests;
    }
    EXPECT_GT(requests, 0);
    EXPECT_LE(requests, kThreads * kOps);
}

TEST(KeyStateName, Names) {
    EXPECT_EQ(KeyStateName(KeyState::kActive), "active");
    EXPECT_EQ(KeyStateName(KeyState::kCooling), "cooling");
    EXPECT_EQ(KeyStateName(KeyState::kProbing), "probing");
    EXPECT_EQ(KeyStateName(KeyState::kDisabled), "disabled");
    EXPECT_EQ(KeyStateName(KeyState::kRetiring), "retiring");
}

}  // namespace
}  // namespace hub::bailian
