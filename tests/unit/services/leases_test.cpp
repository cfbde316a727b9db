// The lease runner: the pure tracker (when to renew, when to give up), and two runners sharing
// one store, as two hubs would, on a manual clock.
#include "services/leases.hpp"

#include <gtest/gtest.h>

#include "unit/store/store_fixture.hpp"

namespace hub::services {
namespace {

using Change = LeaseTracker::Change;
using store::testing::StoreTest;

core::Result<store::LeaseState> Held(std::int64_t generation, bool held = true,
                                     std::string holder = "me") {
    store::LeaseState s;
    s.held = held;
    s.lease.name = "images";
    s.lease.holder = std::move(holder);
    s.lease.generation = generation;
    return s;
}

core::Result<store::LeaseState> Down() {
    return core::Error::Make(core::ErrorCode::kUnavailable, "database_unavailable",
                             "The database is unavailable.");
}

TEST(LeaseTracker, RenewsEveryThirdOfTheTtlOneAttemptAtATime) {
    LeaseTracker t(3'000);
    EXPECT_TRUE(t.Due(0));
    t.Started(0);
    EXPECT_FALSE(t.Due(5'000));  // one in flight
    EXPECT_EQ(t.Finished(0, Held(4), 10), Change::kGained);
    EXPECT_TRUE(t.held());
    EXPECT_EQ(t.generation(), 4);
    EXPECT_FALSE(t.Due(999));
    EXPECT_TRUE(t.Due(1'000));
    t.Started(1'000);
    EXPECT_EQ(t.Finished(1'000, Held(4), 1'010), Change::kNone);  // renewed
    EXPECT_EQ(t.deadline(), 3'000);                                // 1000 + 2/3 of 3000
}

TEST(LeaseTracker, KeepsTheJobThroughABlipButStopsBeforeTheLeaseCanExpire) {
    LeaseTracker t(3'000);
    t.Started(0);
    ASSERT_EQ(t.Finished(0, Held(1), 5), Change::kGained);
    t.Started(1'000);
    EXPECT_EQ(t.Finished(1'000, Down(), 1'005), Change::kNone);  // still ours until 2000
    EXPECT_TRUE(t.held());
    EXPECT_EQ(t.last_error(), "database_unavailable");
    EXPECT_EQ(t.Check(1'999), Change::kNone);
    EXPECT_EQ(t.Check(2'000), Change::kLost);  // 2/3 of the ttl after the last renewal began
    EXPECT_FALSE(t.held());
    EXPECT_EQ(t.Check(2'500), Change::kNone);  // told once
    // The database is back and nobody took it: the same hub takes it again.
    t.Started(2'500);
    EXPECT_EQ(t.Finished(2'500, Held(1), 2'510), Change::kGained);
}

TEST(LeaseTracker, AHangingRenewalDoesNotKeepTheJobAlive) {
    LeaseTracker t(3'000);
    t.Started(0);
    ASSERT_EQ(t.Finished(0, Held(1), 5), Change::kGained);
    t.Started(1'000);  // never answers in time
    EXPECT_EQ(t.Check(2'000), Change::kLost);
    // Its answer arrives later still: counted from when it began (the lease in the database
    // runs from after that), it is overdue too, and is not taken as a fresh lease.
    EXPECT_EQ(t.Finished(1'000, Held(1), 3'000), Change::kNone);
    EXPECT_FALSE(t.held());

    // A slow answer still in time (2/3 of the ttl after it began) gives the lease back.
    LeaseTracker u(3'000);
    u.Started(0);
    ASSERT_EQ(u.Finished(0, Held(1), 5), Change::kGained);
    u.Started(1'000);
    EXPECT_EQ(u.Check(2'000), Change::kLost);
    EXPECT_EQ(u.Finished(1'000, Held(1), 2'600), Change::kGained);
    EXPECT_EQ(u.deadline(), 3'000);
}

TEST(LeaseTracker, TakenOverOrRetakenUnderANewGenerationIsLost) {
    LeaseTracker t(3'000);
    t.Started(0);
    ASSERT_EQ(t.Finished(0, Held(1), 5), Change::kGained);
    t.Started(1'000);
    EXPECT_EQ(t.Finished(1'000, Held(2, false, "hub-b"), 1'005), Change::kLost);
    EXPECT_EQ(t.other_holder(), "hub-b");
    t.Started(2'000);
    EXPECT_EQ(t.Finished(2'000, Held(2, false, "hub-b"), 2'005), Change::kNone);

    LeaseTracker u(3'000);
    u.Started(0);
    ASSERT_EQ(u.Finished(0, Held(1), 5), Change::kGained);
    u.Started(1'000);
    // Held, but under another generation: someone held it in between; the job restarts.
    EXPECT_EQ(u.Finished(1'000, Held(3), 1'005), Change::kLost);
    u.Started(2'000);
    EXPECT_EQ(u.Finished(2'000, Held(3), 2'005), Change::kGained);
    EXPECT_EQ(u.generation(), 3);
}

// Two hubs on one database.
class LeaseRunnerTest : public StoreTest {
protected:
    struct Hub {
        int gained = 0;
        int lost = 0;
        std::int64_t generation = 0;
        std::unique_ptr<LeaseRunner> runner;  // last: its destructor still tells the others
    };

    void MakeHub(Hub& h, const std::string& name) {
        LeaseRunnerConfig cfg;
        cfg.ttl = std::chrono::milliseconds(3'000);
        cfg.holder = name;
        h.runner = std::make_unique<LeaseRunner>(store().Leases(), db_, clock_,
                                                 io_.get_executor(), cfg);
        h.runner->Add(
            "images",
            [&h](std::int64_t g) {
                ++h.gained;
                h.generation = g;
            },
            [&h] { ++h.lost; });
    }

    void Tick(Hub& h) {
        net::co_spawn(io_, h.runner->Tick(), [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
        io_.restart();
        io_.run();
    }

    net::io_context io_;
    async::WorkerPool db_{"db", 2};
    Hub a_, b_;
};

TEST_F(LeaseRunnerTest, OneHubRunsTheJobADeadHubsLeaseIsTakenOverAfterTheTtl) {
    MakeHub(a_, "hub-a");
    MakeHub(b_, "hub-b");
    Tick(a_);
    Tick(b_);
    EXPECT_EQ(a_.gained, 1);
    EXPECT_EQ(a_.generation, 1);
    EXPECT_TRUE(a_.runner->Holds("images"));
    EXPECT_EQ(b_.gained, 0);
    EXPECT_FALSE(b_.runner->Holds("images"));
    ASSERT_EQ(a_.runner->Held().size(), 1u);
    EXPECT_EQ(a_.runner->Held()[0].name, "images");

    // A renews every ttl/3; B keeps trying and keeps being refused.
    for (int i = 0; i < 5; ++i) {
        Advance(1'000);
        Tick(a_);
        Tick(b_);
    }
    EXPECT_EQ(a_.gained, 1);
    EXPECT_EQ(a_.lost, 0);
    EXPECT_EQ(b_.gained, 0);

    // A stops (killed): B takes over once the lease expired, under a new generation.
    Advance(1'000);
    Tick(b_);
    Advance(1'000);
    Tick(b_);
    EXPECT_EQ(b_.gained, 0);  // 2 s since A's last renewal: not yet expired
    Advance(1'001);
    Tick(b_);
    EXPECT_EQ(b_.gained, 1);
    EXPECT_EQ(b_.generation, 2);

    // A comes back: its lease is overdue, it stops the job and does not get it back.
    Tick(a_);
    EXPECT_EQ(a_.lost, 1);
    EXPECT_FALSE(a_.runner->Holds("images"));
    Advance(1'000);
    Tick(a_);
    EXPECT_EQ(a_.gained, 1);
}

TEST_F(LeaseRunnerTest, ShutdownStopsTheJobAndReleasesTheLeaseForTheOtherHubAtOnce) {
    MakeHub(a_, "hub-a");
    MakeHub(b_, "hub-b");
    Tick(a_);
    ASSERT_EQ(a_.gained, 1);
    a_.runner->Stop();
    EXPECT_EQ(a_.lost, 1);
    a_.runner->ReleaseBlocking();
    EXPECT_FALSE(a_.runner->Holds("images"));
    Tick(b_);  // no need to wait for the ttl
    EXPECT_EQ(b_.gained, 1);
    EXPECT_EQ(b_.generation, 2);
    // A stopped runner neither ticks nor gains again.
    Advance(10'000);
    Tick(a_);
    EXPECT_EQ(a_.gained, 1);
}

}  // namespace
}  // namespace hub::services
