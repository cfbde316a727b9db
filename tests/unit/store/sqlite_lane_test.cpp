// The SQLite write lane: batches of queued write jobs, each in one transaction (each write in
// its own SAVEPOINT) with one commit, then every job completed (a job given to an idle lane
// runs at once on the submitting thread, the rest on the lane's thread); and
// async::RunWrite, through which coroutines on io threads await it.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "async/offload.hpp"
#include "async/write_lane.hpp"
#include "store/sqlite/db.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::store::sqlite {
namespace {

// A file database as the hub runs it (WAL, readers), with table t and a child table whose
// foreign key is checked only at COMMIT (DEFERRABLE INITIALLY DEFERRED): an orphan child
// makes the batch's COMMIT fail.
std::unique_ptr<Database> OpenLaneDb(const std::string& dir, int busy_timeout_ms = 5000,
                                     bool run_idle_inline = true) {
    auto r = Database::Open({dir + "/lane.db", 2, busy_timeout_ms});
    EXPECT_TRUE(r.ok());
    auto db = std::move(r).value();
    EXPECT_TRUE(db->Write([](Connection& c) -> core::Result<void> {
                      return c.ExecScript(
                          "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL CHECK (v >= 0));"
                          "CREATE TABLE child (k TEXT PRIMARY KEY, parent TEXT NOT NULL "
                          "REFERENCES t(k) DEFERRABLE INITIALLY DEFERRED);");
                  }).ok());
    EXPECT_TRUE(db->OpenReaders().ok());
    db->StartLane(run_idle_inline);
    return db;
}

core::Result<void> Insert(Connection& c, const std::string& k, int v) {
    auto st = c.Prepare("INSERT INTO t (k, v) VALUES (?1, ?2)");
    if (!st.ok()) return st.error();
    return st.value().BindAll(k, v).Run();
}

// What a repository does: one Write on the database.
core::Result<void> Put(Database& db, const std::string& k, int v) {
    return db.Write([&](Connection& c) { return Insert(c, k, v); });
}

core::Result<bool> Has(Database& db, const std::string& k) {
    return db.Read([&](Connection& c) -> core::Result<bool> {
        HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT 1 FROM t WHERE k = ?1"));
        st.BindAll(k);
        return st.Step();
    });
}

std::vector<std::string> KeysInRowidOrder(Database& db) {
    auto r = db.Read([](Connection& c) -> core::Result<std::vector<std::string>> {
        HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT k FROM t ORDER BY rowid"));
        std::vector<std::string> out;
        while (true) {
            HUB_SQL_ASSIGN(bool row, st.Step());
            if (!row) return out;
            out.push_back(st.Text(0));
        }
    });
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value() : std::vector<std::string>{};
}

// Makes `lane` the process's write lane for one test.
class UseLane {
public:
    explicit UseLane(async::WriteLane* lane) { async::ProcessWriteLane().store(lane); }
    ~UseLane() { async::ProcessWriteLane().store(nullptr); }
};

// A job through the lane, completed on the calling thread's wait (the raw Submit seam).
struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
    std::vector<std::optional<core::Error>> failed;
};

// Holds the lane inside a batch until released: the jobs submitted meanwhile queue up and
// run together in the next batch. Submitted from a thread of its own, which an idle lane
// runs the batch on.
class LaneBlocker {
public:
    explicit LaneBlocker(Database& db)
        : thread_([this, &db] {
              async::WriteLane::Job job;
              job.run = [this] {
                  running_ = true;
                  while (!release_.load()) std::this_thread::yield();
              };
              job.done = [this](const core::Error*) { done_ = true; };
              db.Submit(std::move(job));
          }) {
        while (!running_.load()) std::this_thread::yield();
    }
    ~LaneBlocker() {
        Release();
        thread_.join();
    }
    void Release() { release_ = true; }
    bool done() const { return done_.load(); }

private:
    std::atomic<bool> running_{false}, release_{false}, done_{false};
    std::thread thread_;
};

// One RunWrite of `fn` from a coroutine on `io`, run to its end: what it returned.
template <class F>
std::optional<std::invoke_result_t<F>> RunOne(net::io_context& io, async::WorkerPool& pool, F fn) {
    std::optional<std::invoke_result_t<F>> out;
    io.restart();
    net::co_spawn(
        io, [&]() -> net::awaitable<void> { out.emplace(co_await async::RunWrite(pool, fn)); },
        net::detached);
    io.run();
    return out;
}

// One Put of `key` through RunWrite from a coroutine on an io_context run on this thread, with
// `db` as the process's lane: the thread the write ran on (it must succeed and be readable).
std::thread::id WriteFromIoThread(Database& db, const std::string& key) {
    async::WorkerPool pool("db", 1);
    UseLane use(&db);
    net::io_context io;
    std::thread::id write_on;
    auto r = RunOne(io, pool, [&]() {
        write_on = std::this_thread::get_id();
        return Put(db, key, 2);
    });
    EXPECT_TRUE(r.has_value() && r->ok());
    EXPECT_TRUE(Has(db, key).value());
    return write_on;
}

TEST(SqliteLane, QueuedJobsRunInOrderInOneBatchWithOneCommit) {
    testing::TempDir dir;
    auto db = OpenLaneDb(dir.path().string());
    LaneBlocker blocker(*db);
    const auto commits = db->commits();
    const auto batches = db->lane_batches();
    Waiter w;
    constexpr int kJobs = 50;
    w.failed.resize(kJobs);
    std::vector<int> order;
    for (int i = 0; i < kJobs; ++i) {
        async::WriteLane::Job job;
        job.run = [&, i] {
            order.push_back(i);
            EXPECT_TRUE(Put(*db, "k" + std::to_string(100 + i), i).ok());
            // A read inside the batch sees the batch's writes so far.
            EXPECT_TRUE(Has(*db, "k" + std::to_string(100 + i)).value());
        };
        job.done = [&, i](const core::Error* failed) {
            // Durable when told: a new reader connection sees the row.
            std::lock_guard lock(w.mu);
            if (failed != nullptr) w.failed[i] = *failed;
            ++w.done;
            w.cv.notify_all();
        };
        db->Submit(std::move(job));
    }
    blocker.Release();
    {
        std::unique_lock lock(w.mu);
        w.cv.wait(lock, [&] { return w.done == kJobs; });
    }
    EXPECT_TRUE(blocker.done());
    for (int i = 0; i < kJobs; ++i) EXPECT_FALSE(w.failed[i]) << i;
    ASSERT_EQ(order.size(), static_cast<std::size_t>(kJobs));
    for (int i = 0; i < kJobs; ++i) EXPECT_EQ(order[i], i);
    auto keys = KeysInRowidOrder(*db);
    ASSERT_EQ(keys.size(), static_cast<std::size_t>(kJobs));
    for (int i = 0; i < kJobs; ++i) EXPECT_EQ(keys[i], "k" + std::to_string(100 + i));
    // The blocker's batch, then every queued job in one batch: two COMMITs, not 51.
    EXPECT_EQ(db->lane_batches(), batches + 2);
    EXPECT_EQ(db->commits(), commits + 2);
}

// An idle lane (nothing queued, no batch running) runs a job at once on the submitting thread,
// as a committed batch of one, before Submit returns; RunWrite from an io thread then runs
// its write there and resumes on the same thread.
TEST(SqliteLane, AnIdleLaneRunsAJobOnTheSubmittingThread) {
    testing::TempDir dir;
    auto db = OpenLaneDb(dir.path().string());
    const auto commits = db->commits();
    const auto batches = db->lane_batches();
    std::thread::id ran_on;
    bool done = false, failed = true;
    async::WriteLane::Job job;
    job.run = [&] {
        ran_on = std::this_thread::get_id();
        EXPECT_TRUE(Put(*db, "inline", 1).ok());
    };
    job.done = [&](const core::Error* error) {
        done = true;
        failed = error != nullptr;
    };
    db->Submit(std::move(job));
    EXPECT_TRUE(done);
    EXPECT_FALSE(failed);
    EXPECT_EQ(ran_on, std::this_thread::get_id());
    EXPECT_EQ(db->commits(), commits + 1);
    EXPECT_EQ(db->lane_batches(), batches + 1);
    EXPECT_TRUE(Has(*db, "inline").value());

    EXPECT_EQ(WriteFromIoThread(*db, "via-io"), std::this_thread::get_id());
    EXPECT_EQ(db->InFlight(), 0);
}

// Started without inline runs (a hub with one io thread), an idle lane hands the job to its
// own thread: Submit returns at once, the job runs and commits there, and a coroutine awaiting
// RunWrite resumes on its io thread when the commit is done.
TEST(SqliteLane, WithoutInlineRunsEveryJobOnTheLanesThread) {
    testing::TempDir dir;
    auto db = OpenLaneDb(dir.path().string(), 5000, /*run_idle_inline=*/false);
    const auto commits = db->commits();
    std::mutex mu;
    std::condition_variable cv;
    std::thread::id ran_on;
    bool done = false, failed = true;
    async::WriteLane::Job job;
    job.run = [&] {
        std::lock_guard lock(mu);
        ran_on = std::this_thread::get_id();
        EXPECT_TRUE(Put(*db, "queued", 1).ok());
    };
    job.done = [&](const core::Error* error) {
        std::lock_guard lock(mu);
        done = true;
        failed = error != nullptr;
        cv.notify_all();
    };
    db->Submit(std::move(job));
    {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return done; });
    }
    EXPECT_FALSE(failed);
    EXPECT_NE(ran_on, std::thread::id{});
    EXPECT_NE(ran_on, std::this_thread::get_id());
    EXPECT_EQ(db->commits(), commits + 1);
    EXPECT_TRUE(Has(*db, "queued").value());

    EXPECT_EQ(WriteFromIoThread(*db, "via-io"), ran_on);  // the lane's thread, not this one
}

// RunWrite from coroutines on an io_context: each resumes on its own executor with its own
// result; a failing write undoes only itself; an exception reaches its awaiter.
TEST(SqliteLane, RunWriteFailingWriteAndExceptionStayWithTheirJob) {
    testing::TempDir dir;
    auto db = OpenLaneDb(dir.path().string());
    async::WorkerPool pool("db", 2);
    UseLane use(db.get());
    net::io_context io;
    auto blocker = std::make_unique<LaneBlocker>(*db);

    std::optional<core::Result<void>> good, bad, after;
    bool threw = false;
    std::thread::id io_thread;
    std::vector<std::thread::id> resumed_on;
    int finished = 0;
    auto run = [&]() -> net::awaitable<void> {
        good.emplace(co_await async::RunWrite(pool, [&db](std::string k) { return Put(*db, k, 1); },
                                            std::string("good")));
        resumed_on.push_back(std::this_thread::get_id());
        ++finished;
    };
    auto run_bad = [&]() -> net::awaitable<void> {
        bad.emplace(co_await async::RunWrite(pool, [&db]() -> core::Result<void> {
            HUB_SQL_TRY(Put(*db, "bad-part", 1));  // its own write, kept by itself...
            return Put(*db, "bad", -1);             // ...but this one fails (CHECK)
        }));
        resumed_on.push_back(std::this_thread::get_id());
        ++finished;
    };
    auto run_throw = [&]() -> net::awaitable<void> {
        try {
            (void)co_await async::RunWrite(pool, [&db]() -> core::Result<void> {
                auto r = db->Write([](Connection& c) -> core::Result<void> {
                    HUB_SQL_TRY(Insert(c, "thrown", 1));
                    throw std::runtime_error("bug");
                });
                return r;
            });
        } catch (const std::runtime_error&) {
            threw = true;
        }
        resumed_on.push_back(std::this_thread::get_id());
        ++finished;
    };
    net::co_spawn(io, run(), net::detached);
    net::co_spawn(io, run_bad(), net::detached);
    net::co_spawn(io, run_throw(), net::detached);
    // Every job is queued before the lane goes on: they share a batch.
    io.poll();
    while (db->InFlight() < 3) io.poll();
    const auto commits = db->commits();
    blocker->Release();
    io_thread = std::this_thread::get_id();
    io.run();
    EXPECT_EQ(finished, 3);
    for (auto id : resumed_on) EXPECT_EQ(id, io_thread);
    ASSERT_TRUE(good.has_value());
    EXPECT_TRUE(good->ok());
    ASSERT_TRUE(bad.has_value());
    ASSERT_FALSE(bad->ok());
    EXPECT_EQ(bad->error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_TRUE(threw);
    EXPECT_EQ(db->commits(), commits + 2);  // the blocker's batch, then the three jobs' one
    EXPECT_TRUE(Has(*db, "good").value());
    EXPECT_TRUE(Has(*db, "bad-part").value());  // a write of its own, which succeeded
    EXPECT_FALSE(Has(*db, "bad").value());
    EXPECT_FALSE(Has(*db, "thrown").value());
    EXPECT_EQ(db->InFlight(), 0);

    // The lane goes on afterwards.
    after = RunOne(io, pool, [&db]() { return Put(*db, "after", 1); });
    ASSERT_TRUE(after.has_value());
    EXPECT_TRUE(after->ok());
    EXPECT_TRUE(Has(*db, "after").value());
}

// A COMMIT that fails (a deferred foreign key) fails every job of the batch, and nothing of
// the batch stays; the next batch commits normally.
TEST(SqliteLane, AFailedCommitFailsTheWholeBatch) {
    testing::TempDir dir;
    auto db = OpenLaneDb(dir.path().string());
    async::WorkerPool pool("db", 1);
    UseLane use(db.get());
    net::io_context io;
    auto blocker = std::make_unique<LaneBlocker>(*db);
    std::optional<core::Result<void>> innocent, orphan;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            innocent.emplace(co_await async::RunWrite(pool, [&db]() { return Put(*db, "innocent", 1); }));
        },
        net::detached);
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            orphan.emplace(co_await async::RunWrite(pool, [&db]() {
                return db->Write([](Connection& c) -> core::Result<void> {
                    HUB_SQL_ASSIGN(Stmt st,
                                   c.Prepare("INSERT INTO child (k, parent) VALUES ('c', 'none')"));
                    return st.Run();  // accepted now, refused at COMMIT
                });
            }));
        },
        net::detached);
    while (db->InFlight() < 2) io.poll();
    blocker->Release();
    io.run();
    ASSERT_TRUE(innocent.has_value() && orphan.has_value());
    ASSERT_FALSE(innocent->ok());
    ASSERT_FALSE(orphan->ok());
    EXPECT_EQ(innocent->error().api_code, "invalid_reference") << innocent->error().detail;
    EXPECT_EQ(orphan->error().api_code, "invalid_reference");
    EXPECT_FALSE(Has(*db, "innocent").value());
    ASSERT_TRUE(Put(*db, "blocking-after", 1).ok());  // the blocking path works afterwards
    auto next = RunOne(io, pool, [&db]() { return Put(*db, "next", 1); });
    ASSERT_TRUE(next.has_value());
    EXPECT_TRUE(next->ok());
    EXPECT_TRUE(Has(*db, "next").value());
}

// The batch cannot begin (another process holds the write lock past the busy timeout): every
// job fails with database_busy, none ran, none hangs.
TEST(SqliteLane, ABatchThatCannotBeginFailsItsJobsWithoutRunningThem) {
    testing::TempDir dir;
    auto db = OpenLaneDb(dir.path().string(), 100);
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() / "lane.db").string().c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    async::WorkerPool pool("db", 1);
    UseLane use(db.get());
    net::io_context io;
    std::atomic<int> ran{0};
    auto r = RunOne(io, pool, [&]() {
        ++ran;
        return Put(*db, "x", 1);
    });
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    ASSERT_TRUE(r.has_value());
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(r->error().api_code, "database_busy");
    EXPECT_EQ(ran.load(), 0);
    EXPECT_FALSE(Has(*db, "x").value());
}

// Stopping runs everything already queued (each job completes, durable), and a job submitted
// after the stop fails at once with database_unavailable: none hangs, none is lost.
TEST(SqliteLane, StopRunsTheQueueThenRefuses) {
    testing::TempDir dir;
    auto db = OpenLaneDb(dir.path().string());
    async::WorkerPool pool("db", 1);
    UseLane use(db.get());
    net::io_context io;
    auto blocker = std::make_unique<LaneBlocker>(*db);
    constexpr int kJobs = 20;
    std::vector<std::optional<core::Result<void>>> results(kJobs);
    for (int i = 0; i < kJobs; ++i) {
        net::co_spawn(
            io,
            [&, i]() -> net::awaitable<void> {
                results[i].emplace(co_await async::RunWrite(pool, 
                    [&db](int n) { return Put(*db, "q" + std::to_string(n), n); }, i));
            },
            net::detached);
    }
    while (db->InFlight() < kJobs) io.poll();
    std::thread stopper([&] { db->StopLane(); });  // waits for the queue to drain
    blocker->Release();
    stopper.join();
    io.run();
    for (int i = 0; i < kJobs; ++i) {
        ASSERT_TRUE(results[i].has_value()) << i;
        EXPECT_TRUE(results[i]->ok()) << i;
        EXPECT_TRUE(Has(*db, "q" + std::to_string(i)).value()) << i;
    }
    bool ran = false;
    auto late = RunOne(io, pool, [&]() {
        ran = true;
        return Put(*db, "late", 1);
    });
    ASSERT_TRUE(late.has_value());
    ASSERT_FALSE(late->ok());
    EXPECT_EQ(late->error().api_code, "database_unavailable");
    EXPECT_FALSE(ran);
    EXPECT_EQ(db->InFlight(), 0);
    // The blocking path still writes after the lane stopped (CLI, shutdown).
    EXPECT_TRUE(Put(*db, "blocking", 1).ok());
}

// RunWriteBlocking (background work on a pool thread, such as indexing the search queue)
// waits its turn on a busy lane behind the writes queued before it, runs on the lane's thread
// in the next batch, and returns after that batch's COMMIT, whose failure it reports.
TEST(SqliteLane, RunWriteBlockingTakesItsTurnOnTheLaneAndReportsTheCommit) {
    testing::TempDir dir;
    auto db = OpenLaneDb(dir.path().string());
    UseLane use(db.get());
    auto blocker = std::make_unique<LaneBlocker>(*db);
    async::WriteLane::Job first;  // queued before the blocking call
    first.run = [&db] { ASSERT_TRUE(Put(*db, "first", 1).ok()); };
    first.done = [](const core::Error*) {};
    db->Submit(std::move(first));
    std::thread::id ran_on;
    std::optional<core::Result<void>> r;
    std::thread caller([&] {
        r.emplace(async::RunWriteBlocking([&]() {
            ran_on = std::this_thread::get_id();
            return Put(*db, "second", 2);
        }));
    });
    while (db->InFlight() < 1) std::this_thread::yield();  // queued behind "first"
    blocker->Release();
    caller.join();
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->ok());
    EXPECT_NE(ran_on, caller.get_id());  // the lane's thread, not the caller's
    EXPECT_EQ(KeysInRowidOrder(*db), (std::vector<std::string>{"first", "second"}));

    // A COMMIT that fails (an orphan child, refused only then) comes back as the result.
    blocker = std::make_unique<LaneBlocker>(*db);
    async::WriteLane::Job orphan;
    orphan.run = [&db] {
        (void)db->Write([](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("INSERT INTO child (k, parent) VALUES ('c', 'none')"));
            return st.Run();
        });
    };
    orphan.done = [](const core::Error*) {};
    db->Submit(std::move(orphan));
    std::thread failing([&] {
        r.emplace(async::RunWriteBlocking([&]() { return Put(*db, "lost", 3); }));
    });
    while (db->InFlight() < 1) std::this_thread::yield();
    blocker->Release();
    failing.join();
    ASSERT_TRUE(r.has_value());
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(r->error().api_code, "invalid_reference");
    EXPECT_FALSE(Has(*db, "lost").value());

    // Without a lane it runs on the calling thread.
    async::ProcessWriteLane().store(nullptr);
    auto direct = async::RunWriteBlocking([&]() -> core::Result<std::thread::id> {
        return std::this_thread::get_id();
    });
    ASSERT_TRUE(direct.ok());
    EXPECT_EQ(direct.value(), std::this_thread::get_id());
}

// Without a lane (MariaDB) RunWrite is Run: the pool.
TEST(SqliteLane, RunWriteWithoutALaneUsesThePool) {
    async::WorkerPool pool("db", 1);
    net::io_context io;
    std::thread::id ran_on;
    auto r = RunOne(io, pool, [&]() -> core::Result<int> {
        ran_on = std::this_thread::get_id();
        return 7;
    });
    ASSERT_TRUE(r.has_value() && r->ok());
    EXPECT_EQ(r->value(), 7);
    EXPECT_NE(ran_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace hub::store::sqlite
