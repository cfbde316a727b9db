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
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

// Early return of the error of a Result expression.
#define HUB_SQL_TRY(expr)                                     \
    do {                                                      \
        if (auto hub_sql_try_ = (expr); !hub_sql_try_.ok()) { \
            return hub_sql_try_.error();                      \
        }                                                     \
    } while (0)

#define HUB_SQL_CONCAT_INNER(a, b) a##b
#define HUB_SQL_CONCAT(a, b) HUB_SQL_CONCAT_INNER(a, b)
// `decl` = value of a Result expression, or early return of its error.
#define HUB_SQL_ASSIGN(decl, expr) \
    HUB_SQL_ASSIGN_IMPL(HUB_SQL_CONCAT(hub_sql_r_, __LINE__), decl, expr)
#define HUB_SQL_ASSIGN_IMPL(tmp, decl, expr)      \
    auto tmp = (expr);                            \
    if (!tmp.ok()) return std::move(tmp).error(); \
    decl = std::move(tmp).value()

namespace hub::store::sqlite {

// A positional parameter of a statement assembled at run time (optional filters).
using Param = std::variant<std::nullptr_t, std::int64_t, std::string>;

class Stmt {
public:
    Stmt(sqlite3* db, sqlite3_stmt* stmt, bool* in_use);
    Stmt(Stmt&& other) noexcept;
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt& operator=(Stmt&&) = delete;
    ~Stmt();  // resets the statement and gives it back to the cache

    // Parameters are 1-based. Binding errors are bugs and throw std::logic_error.
    Stmt& Bind(int index, std::int64_t v);
    Stmt& Bind(int index, int v) { return Bind(index, static_cast<std::int64_t>(v)); }
    Stmt& Bind(int index, bool v) { return Bind(index, std::int64_t{v ? 1 : 0}); }
    Stmt& Bind(int index, std::string_view v);
    Stmt& Bind(int index, const std::string& v) { return Bind(index, std::string_view(v)); }
    Stmt& Bind(int index, const char* v) { return Bind(index, std::string_view(v)); }
    Stmt& Bind(int index, std::nullptr_t);
    Stmt& Bind(int index, const Param& p);
    template <class T>
    Stmt& Bind(int index, const std::optional<T>& v) {
        return v ? Bind(index, *v) : Bind(index, nullptr);
    }
    Stmt& BindBlob(int index, std::string_view bytes);
    Stmt& BindBlob(int index, const std::string& bytes) {
        return BindBlob(index, std::string_view(bytes));
    }
    Stmt& BindBlob(int index, const std::optional<std::string>& bytes);
    // Binds the arguments to ?1, ?2, ... in order.
    template <class... A>
    Stmt& BindAll(const A&... args) {
        int i = 0;
        (Bind(++i, args), ...);
        return *this;
    }
    Stmt& BindParams(const std::vector<Param>& params);

    core::Result<bool> Step();  // true: a row is ready to read
    core::Result<void> Run();   // steps to the end, ignoring rows

    // Columns are 0-based.
    bool IsNull(int col) const;
    std::int64_t Int(int col) const;
    bool Bool(int col) const { return Int(col) != 0; }
    std::string Text(int col) const;
    // The text without a copy; valid until the next Step() or Reset().
    std::string_view TextView(int col) const;
    std::string Blob(int col) const;
    std::optional<std::int64_t> OptInt(int col) const;
    std::optional<std::string> OptText(int col) const;
    std::optional<std::string> OptBlob(int col) const;

private:
    void Check(int rc, int index) const;
    sqlite3* db_;
    sqlite3_stmt* stmt_;
    bool* in_use_;
};

struct ConnectionOptions {
    std::string path;
    bool reader = false;  // query_only: this connection never writes
    int busy_timeout_ms = 5000;
};

class Connection {
public:
    static core::Result<std::unique_ptr<Connection>> Open(const ConnectionOptions& options);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Statements assembled from optional filters come in many variants; past this many the
    // idle ones are finalized and the cache starts over.
    static constexpr std::size_t kMaxCachedStatements = 256;

    // A cached prepared statement. One Stmt per SQL text may be alive at a time.
    core::Result<Stmt> Prepare(std::string_view sql);
    // Prepares (cached) and runs a statement without parameters.
    core::Result<void> Exec(std::string_view sql);
    // Runs every statement of a script in turn, uncached (migrations).
    core::Result<void> ExecScript(std::string_view script);
    // Rows changed by the last INSERT/UPDATE/DELETE.
    std::int64_t Changes() const;
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
    struct Cached {
        sqlite3_stmt* stmt = nullptr;
        bool in_use = false;
    };
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    sqlite3* db_;
    std::unordered_map<std::string, Cached, Hash, std::equal_to<>> cache_;
};

// A database error as a core::Error (codes as documented in store/store.hpp).
core::Error ErrorFromSqlite(sqlite3* db, int rc, std::string_view context = {});

// Refines a kConflict from a UNIQUE constraint into a specific api code when the constraint
// names `column` ("table.column" as SQLite reports it).
struct UniqueRule {
    std::string_view column;
    std::string_view api_code;
    std::string_view message;
};
core::Error RefineConflict(core::Error e, std::initializer_list<UniqueRule> rules);

core::Error NotFound(std::string_view what);  // kNotFound "<what>_not_found"

struct DatabaseOptions {
    std::string path;
    int readers = 4;
    int busy_timeout_ms = 5000;
};

class Database {
public:
    // Opens the writer (WAL, foreign keys, busy timeout, synchronous=NORMAL). Readers are
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
    template <class F>
    auto Write(F&& f) -> std::invoke_result_t<F&, Connection&> {
        using R = std::invoke_result_t<F&, Connection&>;
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
    template <class F>
    auto Read(F&& f) -> std::invoke_result_t<F&, Connection&> {
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
        std::unique_lock lock(writer_mu_);
        group_done_.wait(lock, [&] { return !group_; });  // let an open group commit first
        return f(*writer_);
    }

    // A consistent copy of the whole database in a new file (Connection::BackupTo), read on a
    // connection of its own so the readers' pool is not held.
    core::Result<void> BackupTo(const std::string& dest);

    bool in_memory() const { return in_memory_; }
    // Writes that have arrived and not yet run their statements; COMMITs done (tests, metrics).
    int arrivals() const { return arrivals_.load(); }
    std::uint64_t commits() const { return commits_.load(); }
    std::size_t reader_count() const { return readers_.size(); }

private:
    Database() = default;

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
    std::mutex readers_mu_;
    std::condition_variable reader_free_;
    std::vector<std::unique_ptr<Connection>> readers_;
    std::vector<Connection*> idle_readers_;
};

// Appends " AND <clause>" pieces and their parameters to build a WHERE at run time from a
// fixed set of fragments (each distinct text is one cached statement).
class Where {
public:
    Where& And(std::string_view clause) {
        sql_ += sql_.empty() ? " WHERE " : " AND ";
        sql_ += clause;
        return *this;
    }
    template <class... P>
    Where& And(std::string_view clause, P&&... params) {
        And(clause);
        (params_.emplace_back(std::forward<P>(params)), ...);
        return *this;
    }
    const std::string& sql() const { return sql_; }
    std::vector<Param>& params() { return params_; }

private:
    std::string sql_;
    std::vector<Param> params_;
};

}  // namespace hub::store::sqlite
