#pragma once
// Internal to the SQLite store: a thin C++ layer over the sqlite3 C API (which stays in
// db.cpp). Connection owns a cache of prepared statements; Stmt borrows one of them;
// Database owns one writer connection behind a mutex and a small pool of readers, and runs
// callbacks inside transactions.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "async/write_lane.hpp"
#include "core/result.hpp"
#include "store/sql/db.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace hub::store::sqlite {

using sql::Param;
using sql::Stmt;
using sql::Where;

// One prepared statement in a connection's cache.
class SqliteStmt final : public sql::StmtImpl {
public:
    SqliteStmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    void BindInt(int index, std::int64_t v) override;
    void BindText(int index, std::string_view v) override;
    void BindBlob(int index, std::string_view bytes) override;
    void BindNull(int index) override;
    core::Result<bool> Step() override;
    bool IsNull(int col) const override;
    std::int64_t Int(int col) const override;
    std::string_view Bytes(int col) const override;
    void Release() noexcept override;

    sqlite3_stmt* raw() const { return stmt_; }
    bool in_use = false;

private:
    void Check(int rc, int index) const;
    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

struct ConnectionOptions {
    std::string path;
    bool reader = false;  // query_only: this connection never writes
    int busy_timeout_ms = 5000;
    // The writer's synchronous mode: FULL (an fsync per COMMIT, power-loss durable) or, when
    // false, NORMAL (with WAL: survives a crash of the process, a power cut may lose the last
    // commits).
    bool sync_full = true;
};

class Connection final : public sql::Connection {
public:
    static core::Result<std::unique_ptr<Connection>> Open(const ConnectionOptions& options);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Statements assembled from optional filters come in many variants; past this many the
    // idle ones are finalized and the cache starts over.
    static constexpr std::size_t kMaxCachedStatements = 256;

    // A cached prepared statement. One Stmt per SQL text may be alive at a time.
    core::Result<Stmt> Prepare(std::string_view sql) override;
    sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }
    // Runs every statement of a script in turn, uncached (migrations).
    core::Result<void> ExecScript(std::string_view script);
    // Rows changed by the last INSERT/UPDATE/DELETE.
    std::int64_t Changes() const override;
    bool InTransaction() const;
    void RollbackQuietly() noexcept;
    // The first column of the first row of a statement as text (PRAGMA answers).
    core::Result<std::string> QueryText(std::string_view sql);
    // Copies this database, one consistent snapshot, into a new file at `dest` with SQLite's
    // online backup API (writers go on meanwhile; with WAL they are never blocked). The copy
    // is left in rollback-journal mode so that it is one self-contained file.
    core::Result<void> BackupTo(const std::string& dest);

private:
    explicit Connection(sqlite3* db) : db_(db) {}
    void EvictIdle();
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    sqlite3* db_;
    std::unordered_map<std::string, SqliteStmt, Hash, std::equal_to<>> cache_;
};

// A database error as a core::Error (codes as documented in store/store.hpp).
core::Error ErrorFromSqlite(sqlite3* db, int rc, std::string_view context = {});

using sql::NotFound;
using sql::RefineConflict;
using sql::UniqueRule;

struct DatabaseOptions {
    std::string path;
    int readers = 4;
    int busy_timeout_ms = 5000;
    bool sync_full = true;  // see ConnectionOptions::sync_full
};

class Database final : public sql::Database, public async::WriteLane {
public:
    // Opens the writer (WAL, foreign keys, busy timeout, synchronous=FULL or NORMAL). Readers are
    // opened by OpenReaders once the schema exists.
    static core::Result<std::unique_ptr<Database>> Open(const DatabaseOptions& options);
    core::Result<void> OpenReaders();

    // f(Connection&) -> Result<T>, run on the writer; returns once its changes are durable.
    //
    // Group commit: writes that arrive together share one transaction and one COMMIT (one
    // fsync with synchronous=FULL). Each runs inside its own SAVEPOINT, so an error or an
    // exception from f undoes f's changes only. The last writer of a group to finish (no
    // other writer waiting to join, or the group full) commits for all; everyone returns
    // after that COMMIT, and a failed COMMIT fails every write of the group. A write never
    // returns success before its data is on disk.
    //
    // On the write lane's thread (a job of Submit) the write runs inside the lane's open
    // transaction in a SAVEPOINT of its own and returns before the COMMIT: the job's completion
    // (WriteLane::Job::done) reports the COMMIT.
    template <class F>
    auto Write(F&& f) -> std::invoke_result_t<F&, Connection&> {
        using R = std::invoke_result_t<F&, Connection&>;
        if (OnLane()) return LaneWrite(f);
        ++arrivals_;  // before the lock: a group about to commit waits for this write
        std::unique_lock lock(writer_mu_);
        core::Error error;
        auto group = JoinGroup(&error);
        if (!group) return R(error);
        if (auto sp = writer_->Exec("SAVEPOINT hub_write"); !sp.ok()) {
            Finished();
            (void)AwaitCommit(lock, group);
            return R(sp.error());
        }
        std::optional<R> r;
        try {
            r.emplace(f(*writer_));
        } catch (...) {
            EndWrite(*group, false);
            (void)AwaitCommit(lock, group);
            throw;
        }
        EndWrite(*group, r->ok());
        auto committed = AwaitCommit(lock, group);
        if (!r->ok()) return std::move(*r);
        if (!committed.ok()) return R(committed.error());
        return std::move(*r);
    }

    // f(Connection&) -> Result<T>, run on a reader inside a read transaction (one snapshot).
    // An in-memory database has no readers and reads on the writer.
    // On the write lane's thread it reads on the writer inside the lane's transaction (it
    // sees the writes of the batch so far, as a read after a write saw them before).
    template <class F>
    auto Read(F&& f) -> std::invoke_result_t<F&, Connection&> {
        if (OnLane()) return f(*writer_);
        if (readers_.empty()) {
            std::lock_guard lock(writer_mu_);
            // Inside an open write group the writer's transaction is the snapshot.
            if (group_) return f(*writer_);
            return InTransaction(*writer_, "BEGIN", f);
        }
        ReaderLease lease(*this);
        return InTransaction(lease.conn(), "BEGIN", f);
    }

    // f(Connection&) on the writer with no transaction around it (the migration runner
    // manages its own).
    template <class F>
    auto WithWriter(F&& f) -> std::invoke_result_t<F&, Connection&> {
        if (OnLane()) return f(*writer_);
        std::unique_lock lock(writer_mu_);
        group_done_.wait(lock, [&] { return !group_; });  // let an open group commit first
        return f(*writer_);
    }

    // ---- the write lane (async::WriteLane) ----
    // One batch at a time runs the queued jobs in order inside one transaction (BEGIN
    // IMMEDIATE; each Write of a job in its own SAVEPOINT, as in a group above), COMMITs once
    // (one fsync with synchronous=FULL), then calls every job's done: nullptr, or the error
    // that failed the batch (the COMMIT, or the BEGIN: then no job ran). A job submitted to an
    // idle lane (no batch running, nothing queued) runs at once on the submitting thread, as a
    // batch of one; jobs submitted while a batch runs queue up and the lane's own thread runs
    // them together next. Blocking Write calls from other threads still work meanwhile (they
    // wait for the lane's batch to end). `run_idle_inline` false: every job goes to the lane's
    // thread. A hub with one io thread must not run batches on it: during the batch's fsync no
    // connection would be served and nothing could queue, so every batch would be one job.
    void StartLane(bool run_idle_inline = true);
    // Runs what is queued, then stops the thread; jobs submitted afterwards fail at once
    // ("database_unavailable", shutting down). Idempotent; the destructor calls it.
    void StopLane();
    void Submit(async::WriteLane::Job job) override;
    // Batches the lane has committed or failed (tests, metrics).
    std::uint64_t lane_batches() const { return lane_batches_.load(); }
    ~Database() override;

    // A consistent copy of the whole database in a new file (Connection::BackupTo), read on a
    // connection of its own so the readers' pool is not held.
    core::Result<void> BackupTo(const std::string& dest);

    sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }
    bool in_memory() const { return in_memory_; }
    // Writes that have arrived and not yet run their statements; COMMITs done (tests, metrics).
    int arrivals() const { return arrivals_.load(); }
    std::uint64_t commits() const { return commits_.load(); }
    std::size_t reader_count() const { return readers_.size(); }

protected:
    core::Result<void> RunWrite(sql::Body body) override {
        return Write([&](Connection& c) { return body(c); });
    }
    core::Result<void> RunRead(sql::Body body) override {
        return Read([&](Connection& c) { return body(c); });
    }

private:
    Database() = default;

    bool OnLane() const { return lane_db_ == this; }
    // A Write on the lane's thread: a SAVEPOINT inside the lane's open transaction.
    template <class F>
    auto LaneWrite(F& f) -> std::invoke_result_t<F&, Connection&> {
        using R = std::invoke_result_t<F&, Connection&>;
        if (auto sp = writer_->Exec("SAVEPOINT hub_write"); !sp.ok()) return R(sp.error());
        std::optional<R> r;
        try {
            r.emplace(f(*writer_));
        } catch (...) {
            EndLaneWrite(false);
            throw;
        }
        EndLaneWrite(r->ok());
        return std::move(*r);
    }
    // Releases the savepoint (keep) or rolls back to it; a failure fails the whole batch.
    void EndLaneWrite(bool keep);
    void LaneLoop();
    void RunInline(async::WriteLane::Job job);
    void RunBatch(std::vector<async::WriteLane::Job>& batch);

    template <class F>
    static auto InTransaction(Connection& c, std::string_view begin, F& f)
        -> std::invoke_result_t<F&, Connection&> {
        using R = std::invoke_result_t<F&, Connection&>;
        if (auto b = c.Exec(begin); !b.ok()) return R(b.error());
        struct Guard {
            Connection& c;
            bool armed = true;
            ~Guard() {
                if (armed) c.RollbackQuietly();
            }
        } guard{c};
        R r = f(c);
        if (!r.ok()) return r;  // the guard rolls back
        if (auto e = c.Exec("COMMIT"); !e.ok()) return R(e.error());
        guard.armed = false;
        return r;
    }

    class ReaderLease {
    public:
        explicit ReaderLease(Database& db);
        ~ReaderLease();
        ReaderLease(const ReaderLease&) = delete;
        ReaderLease& operator=(const ReaderLease&) = delete;
        Connection& conn() { return *conn_; }

    private:
        Database& db_;
        Connection* conn_;
    };

    // One transaction shared by the writes of a group (see Write).
    struct WriteGroup {
        int writes = 0;       // writes that kept their changes
        bool done = false;    // committed or rolled back
        std::optional<core::Error> error;  // why the group failed (every write fails with it)
    };
    static constexpr int kMaxGroupWrites = 256;

    // With writer_mu_ held. Joins the open group or opens one (BEGIN IMMEDIATE); nullptr and
    // *error when that fails (the arrival is then withdrawn).
    std::shared_ptr<WriteGroup> JoinGroup(core::Error* error);
    // Releases the savepoint (keep) or rolls back to it, then Finished().
    void EndWrite(WriteGroup& group, bool keep);
    // This arrival has run its statements (or given up): a waiting group may commit.
    void Finished();
    // Waits until `group` is committed, committing it when this is the last write to wait.
    core::Result<void> AwaitCommit(std::unique_lock<std::mutex>& lock,
                                   const std::shared_ptr<WriteGroup>& group);

    DatabaseOptions options_;
    bool in_memory_ = false;
    std::mutex writer_mu_;
    std::unique_ptr<Connection> writer_;
    std::atomic<int> arrivals_{0};  // writes that have not finished their statements yet
    std::atomic<std::uint64_t> commits_{0};
    std::shared_ptr<WriteGroup> group_;  // the open group, if any (guarded by writer_mu_)
    std::condition_variable group_done_;
    // The lane: the database whose batch this thread is running (nullptr elsewhere).
    static thread_local Database* lane_db_;
    std::mutex lane_mu_;
    std::condition_variable lane_cv_;
    std::vector<async::WriteLane::Job> lane_queue_;  // guarded by lane_mu_
    bool lane_running_ = false;                      // guarded by lane_mu_
    bool lane_busy_ = false;  // guarded by lane_mu_: a batch runs (on any thread)
    bool lane_inline_ = true;  // guarded by lane_mu_: an idle lane runs a job on its submitter
    bool lane_stopping_ = false;                     // guarded by lane_mu_
    std::mutex lane_join_mu_;
    std::thread lane_thread_;
    std::optional<core::Error> lane_error_;  // a savepoint that could not end: the batch fails
    std::atomic<std::uint64_t> lane_batches_{0};
    std::mutex readers_mu_;
    std::condition_variable reader_free_;
    std::vector<std::unique_ptr<Connection>> readers_;
    std::vector<Connection*> idle_readers_;
};

}  // namespace hub::store::sqlite
