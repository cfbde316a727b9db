// Leases (one hub at a time) and the image-generation writes that make a poller's work happen
// once: ClaimSubmit, RecordTask, Settle. On both dialects; the races use real concurrency (the
// MariaDB store has a pool of connections, so the threads' transactions really overlap).
#include <atomic>
#include <thread>
#include <vector>

#include "core/id.hpp"
#include "store/image_tasks.hpp"
#include "store/leases.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class LeaseStoreTest : public testing::DialectStoreTest {
protected:
    // Waits (a bounded number of tries, no sleeping) until `holder` takes `name`: the lease
    // expires in the database's clock, which the test cannot move on MariaDB.
    LeaseState TakeWhenExpired(const std::string& name, const std::string& holder) {
        if (!mysql()) Advance(1'001);
        LeaseState s;
        for (int i = 0; i < 2'000'000; ++i) {
            auto r = store().Leases().TryAcquire(name, holder, 1'000);
            EXPECT_TRUE(r.ok());
            if (!r.ok()) return s;
            s = *r;
            if (s.held) return s;
        }
        ADD_FAILURE() << "the lease never expired";
        return s;
    }
};

TEST_P(LeaseStoreTest, FirstHolderTakesItOthersAreRefused) {
    ASSERT_OK_AND_ASSIGN(LeaseState a, store().Leases().TryAcquire("images", "hub-a", 60'000));
    EXPECT_TRUE(a.held);
    EXPECT_EQ(a.lease.holder, "hub-a");
    EXPECT_EQ(a.lease.generation, 1);
    EXPECT_GE(a.lease.expires_at, a.lease.now + 60'000);

    ASSERT_OK_AND_ASSIGN(LeaseState b, store().Leases().TryAcquire("images", "hub-b", 60'000));
    EXPECT_FALSE(b.held);
    EXPECT_EQ(b.lease.holder, "hub-a");  // who has it
    EXPECT_EQ(b.lease.generation, 1);

    // Another job's lease is independent.
    ASSERT_OK_AND_ASSIGN(LeaseState other, store().Leases().TryAcquire("backups", "hub-b", 60'000));
    EXPECT_TRUE(other.held);
    ASSERT_OK_AND_ASSIGN(Lease got, store().Leases().Get("images"));
    EXPECT_EQ(got.holder, "hub-a");
    EXPECT_ERROR(store().Leases().Get("nothing"), ErrorCode::kNotFound, "lease_not_found");
}

TEST_P(LeaseStoreTest, HolderRenewsAndKeepsItsGeneration) {
    ASSERT_OK_AND_ASSIGN(LeaseState a, store().Leases().TryAcquire("images", "hub-a", 1'000));
    Advance(600);
    ASSERT_OK_AND_ASSIGN(LeaseState renewed, store().Leases().TryAcquire("images", "hub-a", 1'000));
    EXPECT_TRUE(renewed.held);
    EXPECT_EQ(renewed.lease.generation, a.lease.generation);
    EXPECT_GE(renewed.lease.expires_at, a.lease.expires_at);
    if (!mysql()) {
        EXPECT_EQ(renewed.lease.expires_at, testing::kT0 + 1'600);
    }
    // Renewed: after the first expiry it is still hub-a's.
    Advance(600);
    ASSERT_OK_AND_ASSIGN(LeaseState b, store().Leases().TryAcquire("images", "hub-b", 1'000));
    if (!mysql()) {
        EXPECT_FALSE(b.held);
    }
}

TEST_P(LeaseStoreTest, ExpiredLeaseIsTakenOverWithANewGenerationAndTheStaleHolderIsRefused) {
    ASSERT_OK_AND_ASSIGN(LeaseState a, store().Leases().TryAcquire("images", "hub-a", 1'000));
    LeaseState b = TakeWhenExpired("images", "hub-b");
    ASSERT_TRUE(b.held);
    EXPECT_EQ(b.lease.holder, "hub-b");
    EXPECT_EQ(b.lease.generation, a.lease.generation + 1);  // fencing: the holder changed

    // hub-a comes back (a pause, a partition): it may not renew, nor release hub-b's lease.
    ASSERT_OK_AND_ASSIGN(LeaseState stale, store().Leases().TryAcquire("images", "hub-a", 1'000));
    if (!mysql()) {
        EXPECT_FALSE(stale.held);
        EXPECT_EQ(stale.lease.holder, "hub-b");
    }
    ASSERT_OK_AND_ASSIGN(bool released, store().Leases().Release("images", "hub-a", a.lease.generation));
    EXPECT_FALSE(released);
    ASSERT_OK_AND_ASSIGN(Lease now, store().Leases().Get("images"));
    if (!mysql()) {
        EXPECT_EQ(now.holder, "hub-b");
    }
}

TEST_P(LeaseStoreTest, ReleaseFreesItAtOnceForAnotherHub) {
    ASSERT_OK_AND_ASSIGN(LeaseState a, store().Leases().TryAcquire("images", "hub-a", 60'000));
    // A wrong generation releases nothing.
    ASSERT_OK_AND_ASSIGN(bool wrong, store().Leases().Release("images", "hub-a", a.lease.generation + 7));
    EXPECT_FALSE(wrong);
    ASSERT_OK_AND_ASSIGN(bool released, store().Leases().Release("images", "hub-a", a.lease.generation));
    EXPECT_TRUE(released);
    ASSERT_OK_AND_ASSIGN(LeaseState b, store().Leases().TryAcquire("images", "hub-b", 60'000));
    EXPECT_TRUE(b.held);
    EXPECT_EQ(b.lease.generation, a.lease.generation + 1);
    // The same hub taking it again after its own release is a new generation too.
    ASSERT_OK(store().Leases().Release("images", "hub-b", b.lease.generation));
    ASSERT_OK_AND_ASSIGN(LeaseState again, store().Leases().TryAcquire("images", "hub-b", 60'000));
    EXPECT_EQ(again.lease.generation, b.lease.generation + 1);
}

TEST_P(LeaseStoreTest, BadArgumentsAreRefused) {
    EXPECT_ERROR(store().Leases().TryAcquire("", "hub-a", 1'000), ErrorCode::kInvalidArgument,
                 "invalid_lease");
    EXPECT_ERROR(store().Leases().TryAcquire("images", "", 1'000), ErrorCode::kInvalidArgument,
                 "invalid_lease");
    EXPECT_ERROR(store().Leases().TryAcquire("images", "hub-a", 0), ErrorCode::kInvalidArgument,
                 "invalid_lease");
    EXPECT_ERROR(store().Leases().Get("images"), ErrorCode::kNotFound, "lease_not_found");
}

// Hubs racing for a free lease, then for an expired one: exactly one wins each round.
TEST_P(LeaseStoreTest, RacingHubsExactlyOneWins) {
    constexpr int kHubs = 6;
    for (int round = 0; round < 4; ++round) {
        const std::string name = "race-" + std::to_string(round);
        if (round % 2 == 1) {
            // An expired lease of a dead hub.
            ASSERT_OK(store().Leases().TryAcquire(name, "dead-hub", 1));
            if (!mysql()) Advance(2);
            // MariaDB: its clock moves on by itself; wait until the lease has expired there.
            for (int i = 0; mysql() && i < 1'000'000; ++i) {
                ASSERT_OK_AND_ASSIGN(Lease l, store().Leases().Get(name));
                if (l.now > l.expires_at) break;
            }
        }
        std::atomic<int> go{0};
        std::atomic<int> winners{0};
        std::atomic<int> errors{0};
        std::vector<std::thread> threads;
        for (int h = 0; h < kHubs; ++h) {
            threads.emplace_back([&, h] {
                ++go;
                while (go.load() < kHubs) {
                }
                auto r = store().Leases().TryAcquire(name, "hub-" + std::to_string(h), 60'000);
                if (!r.ok()) ++errors;
                else if (r->held) ++winners;
            });
        }
        for (auto& t : threads) t.join();
        EXPECT_EQ(errors.load(), 0) << name;
        EXPECT_EQ(winners.load(), 1) << name;
        ASSERT_OK_AND_ASSIGN(Lease l, store().Leases().Get(name));
        EXPECT_NE(l.holder, "dead-hub");
        EXPECT_EQ(l.generation, round % 2 == 1 ? 2 : 1);
    }
}

TEST_P(LeaseStoreTest, ScheduledRunIsClaimedOncePerSlot) {
    ASSERT_OK_AND_ASSIGN(bool a, store().Leases().ClaimRun("backups", "1733500800000", "hub-a"));
    EXPECT_TRUE(a);
    ASSERT_OK_AND_ASSIGN(bool b, store().Leases().ClaimRun("backups", "1733500800000", "hub-b"));
    EXPECT_FALSE(b);
    ASSERT_OK_AND_ASSIGN(bool next, store().Leases().ClaimRun("backups", "1733587200000", "hub-b"));
    EXPECT_TRUE(next);
    // Racing for one slot: one claim.
    std::atomic<int> claims{0};
    std::vector<std::thread> threads;
    for (int h = 0; h < 4; ++h) {
        threads.emplace_back([&, h] {
            auto r = store().Leases().ClaimRun("backups", "slot-race", "hub-" + std::to_string(h));
            if (r.ok() && *r) ++claims;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(claims.load(), 1);
}

// ---- image generations: submitted once, billed once ----

ImageGeneration NewGeneration(const std::string& user_id) {
    ImageGeneration g;
    g.user_id = user_id;
    g.endpoint = "images";
    g.model = "wan2.2-t2i-flash";
    g.prompt = "a lighthouse";
    g.size = "1024*1024";
    return g;
}

ApiCall RowFor(const ImageGeneration& g) {
    ApiCall c;
    c.id = core::NewId();
    c.user_id = g.user_id;
    c.endpoint = g.endpoint;
    c.model = g.model;
    c.status_code = 200;
    c.image_count = 1;
    c.upstream_task_id = g.task_id;
    c.created_at = g.created_at;
    return c;
}

std::int64_t CallsOf(Store& s, const std::string& user_id) {
    ApiCallFilter f;
    f.user_id = user_id;
    PageRequest page;
    page.limit = 100;
    auto r = s.ApiCalls().List(f, page);
    EXPECT_TRUE(r.ok());
    return r.ok() ? static_cast<std::int64_t>(r->items.size()) : -1;
}

TEST_P(LeaseStoreTest, SubmitIsClaimedOnceAndTheTaskRecordedOnce) {
    User u = NewUser("painter");
    ASSERT_OK_AND_ASSIGN(ImageGeneration g, store().Images().Create(NewGeneration(u.id)));
    ASSERT_OK_AND_ASSIGN(auto none, store().ImageTasks().SubmitStartedAt(g.id));
    EXPECT_FALSE(none.has_value());
    ASSERT_OK_AND_ASSIGN(bool first, store().ImageTasks().ClaimSubmit(g.id, testing::kT0 + 1));
    EXPECT_TRUE(first);
    ASSERT_OK_AND_ASSIGN(bool second, store().ImageTasks().ClaimSubmit(g.id, testing::kT0 + 2));
    EXPECT_FALSE(second);  // a second poller never submits it again
    ASSERT_OK_AND_ASSIGN(auto claimed, store().ImageTasks().SubmitStartedAt(g.id));
    EXPECT_EQ(claimed, testing::kT0 + 1);
    EXPECT_ERROR(store().ImageTasks().SubmitStartedAt("missing"), ErrorCode::kNotFound,
                 "image_generation_not_found");

    // A submit that certainly failed withdraws the intent: it may be submitted again.
    ASSERT_OK(store().ImageTasks().ReleaseSubmit(g.id));
    ASSERT_OK_AND_ASSIGN(bool again, store().ImageTasks().ClaimSubmit(g.id, testing::kT0 + 3));
    EXPECT_TRUE(again);

    GenerationPatch p;
    p.task_id = "task-1";
    p.upstream_request_id = "req-1";
    p.submitted_at = testing::kT0 + 4;
    p.polls = 0;
    ASSERT_OK_AND_ASSIGN(bool recorded, store().ImageTasks().RecordTask(g.id, p));
    EXPECT_TRUE(recorded);
    p.task_id = "task-2";  // a stale poller's late answer
    ASSERT_OK_AND_ASSIGN(bool late, store().ImageTasks().RecordTask(g.id, p));
    EXPECT_FALSE(late);
    ASSERT_OK_AND_ASSIGN(ImageGeneration got, store().Images().GetAny(g.id));
    EXPECT_EQ(got.task_id, "task-1");
    ASSERT_OK_AND_ASSIGN(auto done, store().ImageTasks().SubmitStartedAt(g.id));
    EXPECT_FALSE(done.has_value());  // submitted, no longer "begun"
    EXPECT_EQ(got.submitted_at, testing::kT0 + 4);
    // With a task id nobody claims a submit any more; a missing generation is not claimed.
    ASSERT_OK_AND_ASSIGN(bool after, store().ImageTasks().ClaimSubmit(g.id, testing::kT0 + 5));
    EXPECT_FALSE(after);
    ASSERT_OK_AND_ASSIGN(bool missing, store().ImageTasks().ClaimSubmit("missing", testing::kT0));
    EXPECT_FALSE(missing);

    // A generation ended by another poller does not take a late task id.
    ASSERT_OK_AND_ASSIGN(ImageGeneration h, store().Images().Create(NewGeneration(u.id)));
    GenerationPatch failed;
    failed.status = GenerationStatus::kFailed;
    failed.error_code = "submit_interrupted";
    ASSERT_OK(store().Images().Finish(h.id, failed, {}));
    ASSERT_OK_AND_ASSIGN(bool ended, store().ImageTasks().RecordTask(h.id, p));
    EXPECT_FALSE(ended);
}

TEST_P(LeaseStoreTest, SettleBillsOnceEvenWhenPollersRace) {
    User u = NewUser("painter");
    ASSERT_OK_AND_ASSIGN(ImageGeneration g, store().Images().Create(NewGeneration(u.id)));
    GenerationPatch done;
    done.status = GenerationStatus::kSucceeded;
    done.finished_at = testing::kT0 + 10;
    ASSERT_OK_AND_ASSIGN(ImageGeneration finished, store().Images().Finish(g.id, done, {}));

    std::atomic<int> settled{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int h = 0; h < 4; ++h) {
        threads.emplace_back([&] {
            auto r = store().ImageTasks().Settle(finished.id, RowFor(finished), testing::kT0 + 20);
            if (!r.ok()) ++errors;
            else if (*r) ++settled;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(settled.load(), 1);
    EXPECT_EQ(CallsOf(store(), u.id), 1);
    ASSERT_OK_AND_ASSIGN(ImageGeneration got, store().Images().GetAny(g.id));
    EXPECT_EQ(got.accounted_at, testing::kT0 + 20);
    ASSERT_OK_AND_ASSIGN(auto unsettled, store().Images().ListUnsettled(10));
    EXPECT_TRUE(unsettled.empty());

    // Later attempts write nothing; a deleted generation is never billed by the poller.
    ASSERT_OK_AND_ASSIGN(bool late, store().ImageTasks().Settle(g.id, RowFor(finished), testing::kT0 + 30));
    EXPECT_FALSE(late);
    ASSERT_OK_AND_ASSIGN(bool missing, store().ImageTasks().Settle("missing", RowFor(finished), testing::kT0));
    EXPECT_FALSE(missing);
    EXPECT_EQ(CallsOf(store(), u.id), 1);
}

HUB_STORE_DIALECTS(LeaseStoreTest);

}  // namespace
}  // namespace hub::store
