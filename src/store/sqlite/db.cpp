#include "store/sqlite/db.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace hub::store::sqlite {

using core::Error;
using core::ErrorCode;

// ---- errors ----

Error ErrorFromSqlite(sqlite3* db, int rc, std::string_view context) {
    std::string detail = "sqlite: ";
    if (!context.empty()) {
        detail += context;
        detail += ": ";
    }
    detail += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    detail += " (" + std::to_string(rc) + ")";
    switch (rc & 0xff) {
        case SQLITE_CONSTRAINT:
            switch (rc) {
                case SQLITE_CONSTRAINT_UNIQUE:
                case SQLITE_CONSTRAINT_PRIMARYKEY:
                    return Error::Make(ErrorCode::kConflict, "conflict", "it already exists",
                                       std::move(detail));
                case SQLITE_CONSTRAINT_FOREIGNKEY:
                    return Error::Make(ErrorCode::kUnprocessable, "invalid_reference",
                                       "a referenced record does not exist", std::move(detail));
                default:
                    return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                                       "a value is not allowed", std::move(detail));
            }
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return Error::Make(ErrorCode::kUnavailable, "database_busy",
                               "the database is busy, try again", std::move(detail));
        case SQLITE_CANTOPEN:
        case SQLITE_NOTADB:
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_FULL:
        case SQLITE_IOERR:
            return Error::Make(ErrorCode::kUnavailable, "database_unavailable",
                               "the database is unavailable", std::move(detail));
        default:
            return Error::Make(ErrorCode::kInternal, "database_error", "database error",
                               std::move(detail));
    }
}

// ---- SqliteStmt ----

void SqliteStmt::Release() noexcept {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    in_use = false;
}

void SqliteStmt::Check(int rc, int index) const {
    if (rc != SQLITE_OK) {
        throw std::logic_error("sqlite bind " + std::to_string(index) + " of '" +
                               sqlite3_sql(stmt_) + "': " + sqlite3_errstr(rc));
    }
}

void SqliteStmt::BindInt(int index, std::int64_t v) {
    Check(sqlite3_bind_int64(stmt_, index, v), index);
}

void SqliteStmt::BindText(int index, std::string_view v) {
    Check(sqlite3_bind_text64(stmt_, index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
          index);
}

void SqliteStmt::BindNull(int index) { Check(sqlite3_bind_null(stmt_, index), index); }

void SqliteStmt::BindBlob(int index, std::string_view bytes) {
    Check(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT), index);
}

core::Result<bool> SqliteStmt::Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return ErrorFromSqlite(db_, sqlite3_extended_errcode(db_));
}

bool SqliteStmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

std::int64_t SqliteStmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string_view SqliteStmt::Bytes(int col) const {
    // A blob column read as text would be converted; read blobs as blobs.
    const void* p = sqlite3_column_type(stmt_, col) == SQLITE_BLOB ? sqlite3_column_blob(stmt_, col)
                                                                  : sqlite3_column_text(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p != nullptr ? std::string_view(static_cast<const char*>(p), static_cast<size_t>(n))
                        : std::string_view();
}

// ---- Connection ----

core::Result<std::unique_ptr<Connection>> Connection::Open(const ConnectionOptions& options) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
    int rc = sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        Error e = ErrorFromSqlite(db, rc, "cannot open database '" + options.path + "'");
        sqlite3_close(db);  // a handle is returned even on failure
        return e;
    }
    sqlite3_extended_result_codes(db, 1);
    std::unique_ptr<Connection> conn(new Connection(db));
    sqlite3_busy_timeout(db, options.busy_timeout_ms);
    // Reading the schema here turns "not a database" into an error at open time.
    HUB_SQL_TRY(conn->Exec("PRAGMA foreign_keys = ON"));
    if (options.reader) {
        HUB_SQL_TRY(conn->Exec("PRAGMA query_only = ON"));
    } else {
        HUB_SQL_TRY(conn->Exec(options.sync_full ? std::string_view("PRAGMA synchronous = FULL")
                                                 : std::string_view("PRAGMA synchronous = NORMAL")));
        // Each write of a group runs in a savepoint, whose undo pages go to the statement
        // journal: keep it in memory rather than in a temporary file.
        HUB_SQL_TRY(conn->Exec("PRAGMA temp_store = MEMORY"));
    }
    HUB_SQL_ASSIGN(std::string fk, conn->QueryText("PRAGMA foreign_keys"));
    if (fk != "1") {
        return Error::Make(ErrorCode::kUnavailable, "database_unavailable",
                           "the database is unavailable",
                           "sqlite: foreign keys cannot be enabled on '" + options.path + "'");
    }
    return conn;
}

Connection::~Connection() {
    for (auto& [sql, c] : cache_) sqlite3_finalize(c.raw());
    sqlite3_close(db_);
}

core::Result<Stmt> Connection::Prepare(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        if (cache_.size() >= kMaxCachedStatements) EvictIdle();
        sqlite3_stmt* stmt = nullptr;
        int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (rc != SQLITE_OK) {
            return ErrorFromSqlite(db_, sqlite3_extended_errcode(db_),
                                   "prepare '" + std::string(sql.substr(0, 120)) + "'");
        }
        it = cache_.try_emplace(std::string(sql), db_, stmt).first;
    }
    if (it->second.in_use) {
        throw std::logic_error("sqlite statement used twice at once: " + it->first);
    }
    it->second.in_use = true;
    return Stmt(&it->second);
}

void Connection::EvictIdle() {
    for (auto it = cache_.begin(); it != cache_.end();) {
        if (it->second.in_use) {
            ++it;
        } else {
            sqlite3_finalize(it->second.raw());
            it = cache_.erase(it);
        }
    }
}

core::Result<std::string> Connection::QueryText(std::string_view sql) {
    HUB_SQL_ASSIGN(Stmt stmt, Prepare(sql));
    HUB_SQL_ASSIGN(bool row, stmt.Step());
    return row ? stmt.Text(0) : std::string();
}

core::Result<void> Connection::ExecScript(std::string_view script) {
    const char* p = script.data();
    const char* end = script.data() + script.size();
    while (p < end) {
        sqlite3_stmt* stmt = nullptr;
        const char* tail = nullptr;
        int rc = sqlite3_prepare_v2(db_, p, static_cast<int>(end - p), &stmt, &tail);
        if (rc != SQLITE_OK) {
            return ErrorFromSqlite(db_, sqlite3_extended_errcode(db_), "prepare");
        }
        p = tail;
        if (stmt == nullptr) continue;  // only whitespace or comments
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        }
        if (rc != SQLITE_DONE) {
            Error e = ErrorFromSqlite(db_, sqlite3_extended_errcode(db_),
                                      std::string(sqlite3_sql(stmt)).substr(0, 120));
            sqlite3_finalize(stmt);
            return e;
        }
        sqlite3_finalize(stmt);
    }
    return core::Ok();
}

std::int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

void Connection::RollbackQuietly() noexcept {
    if (!InTransaction()) return;
    // A direct exec: no statement of the cache may be needed to recover.
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

// ---- Database ----

namespace {
bool IsInMemory(const std::string& path) {
    return path == ":memory:" || path.find("mode=memory") != std::string::npos ||
           path.rfind("file::memory:", 0) == 0;
}
}  // namespace

core::Result<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
    if (options.path.empty()) {
        return Error::Make(ErrorCode::kInvalidArgument, "invalid_config",
                           "the database path is empty");
    }
    std::unique_ptr<Database> db(new Database());
    db->options_ = options;
    db->in_memory_ = IsInMemory(options.path);
    HUB_SQL_ASSIGN(db->writer_, Connection::Open({options.path, false, options.busy_timeout_ms,
                                                  options.sync_full}));
    if (!db->in_memory_) {
        HUB_SQL_ASSIGN(std::string mode, db->writer_->QueryText("PRAGMA journal_mode = WAL"));
        if (mode != "wal") {
            return Error::Make(
                ErrorCode::kUnavailable, "database_unavailable", "the database is unavailable",
                "sqlite: cannot use WAL on '" + options.path + "' (journal mode " + mode + ")");
        }
    }
    return db;
}

core::Result<void> Connection::BackupTo(const std::string& dest) {
    sqlite3* out = nullptr;
    int rc = sqlite3_open_v2(dest.c_str(), &out,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    struct Closer {
        sqlite3*& db;
        ~Closer() { sqlite3_close(db); }
    } closer{out};
    if (rc != SQLITE_OK) return ErrorFromSqlite(out, rc, "cannot create snapshot '" + dest + "'");
    sqlite3_backup* b = sqlite3_backup_init(out, "main", db_, "main");
    if (b == nullptr) return ErrorFromSqlite(out, sqlite3_errcode(out), "backup init");
    // One step copies every page under one read lock: one snapshot, however long it takes.
    rc = sqlite3_backup_step(b, -1);
    int finish = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) return ErrorFromSqlite(out, rc, "backup step");
    if (finish != SQLITE_OK) return ErrorFromSqlite(out, finish, "backup finish");
    char* err = nullptr;
    rc = sqlite3_exec(out, "PRAGMA journal_mode = DELETE", nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return ErrorFromSqlite(out, rc, "snapshot journal mode");
    return core::Ok();
}

core::Result<void> Database::BackupTo(const std::string& dest) {
    if (in_memory_) {
        return WithWriter([&](Connection& c) { return c.BackupTo(dest); });
    }
    HUB_SQL_ASSIGN(auto conn, Connection::Open({options_.path, true, options_.busy_timeout_ms}));
    return conn->BackupTo(dest);
}

core::Result<void> Database::OpenReaders() {
    if (in_memory_ || !readers_.empty()) return core::Ok();
    for (int i = 0; i < options_.readers; ++i) {
        HUB_SQL_ASSIGN(auto conn,
                       Connection::Open({options_.path, true, options_.busy_timeout_ms}));
        idle_readers_.push_back(conn.get());
        readers_.push_back(std::move(conn));
    }
    return core::Ok();
}

std::shared_ptr<Database::WriteGroup> Database::JoinGroup(core::Error* error) {
    if (!group_) {
        if (auto b = writer_->Exec("BEGIN IMMEDIATE"); !b.ok()) {
            *error = b.error();
            Finished();
            return nullptr;
        }
        group_ = std::make_shared<WriteGroup>();
    }
    return group_;
}

void Database::Finished() {
    --arrivals_;
    group_done_.notify_all();  // a group waiting for this arrival may commit now
}

void Database::EndWrite(WriteGroup& group, bool keep) {
    if (keep) {
        if (auto r = writer_->Exec("RELEASE hub_write"); !r.ok()) {
            group.error = r.error();
        } else {
            ++group.writes;
        }
    } else {
        auto undo = writer_->Exec("ROLLBACK TO hub_write");
        auto release = writer_->Exec("RELEASE hub_write");
        // If the savepoint cannot be undone, this write's changes may still be in the
        // transaction: then nothing of the group may be committed.
        if (!undo.ok()) group.error = undo.error();
        else if (!release.ok()) group.error = release.error();
    }
    Finished();
}

core::Result<void> Database::AwaitCommit(std::unique_lock<std::mutex>& lock,
                                         const std::shared_ptr<WriteGroup>& group) {
    group_done_.wait(lock, [&] {
        return group->done || arrivals_.load() == 0 || group->writes >= kMaxGroupWrites;
    });
    if (!group->done) {
        // The leader: nobody else is about to join, so commit for the whole group (with the
        // lock held: new writers queue on it and form the next group meanwhile).
        if (!group->error) {
            if (auto c = writer_->Exec("COMMIT"); !c.ok()) group->error = c.error();
            else ++commits_;
        }
        if (group->error) writer_->RollbackQuietly();
        group->done = true;
        group_.reset();
        group_done_.notify_all();
    }
    if (group->error) return *group->error;
    return core::Ok();
}

// ---- the write lane ----

thread_local Database* Database::lane_db_ = nullptr;

Database::~Database() { StopLane(); }

void Database::StartLane(bool run_idle_inline) {
    std::lock_guard lock(lane_mu_);
    if (lane_running_ || lane_stopping_) return;
    lane_running_ = true;
    lane_inline_ = run_idle_inline;
    lane_thread_ = std::thread([this] { LaneLoop(); });
}

void Database::StopLane() {
    {
        std::lock_guard lock(lane_mu_);
        lane_stopping_ = true;
    }
    lane_cv_.notify_all();
    std::lock_guard join(lane_join_mu_);  // StopLane from two threads at once: one joins
    if (lane_thread_.joinable() && lane_thread_.get_id() != std::this_thread::get_id())
        lane_thread_.join();
}

void Database::Submit(async::WriteLane::Job job) {
    {
        std::unique_lock lock(lane_mu_);
        if (lane_running_ && !lane_stopping_) {
            if (lane_inline_ && !lane_busy_ && lane_queue_.empty()) {
                // Idle: this thread runs the batch of one itself, without waking the writer
                // thread and waiting for it to be scheduled.
                lane_busy_ = true;
                lock.unlock();
                RunInline(std::move(job));
                return;
            }
            lane_queue_.push_back(std::move(job));
            // A busy lane looks at the queue when its batch ends; an idle writer thread that
            // has not yet taken the queue was woken by the first job.
            if (!lane_busy_ && lane_queue_.size() == 1) lane_cv_.notify_one();
            return;
        }
    }
    Error stopped = Error::Make(ErrorCode::kUnavailable, "database_unavailable",
                                "the database is unavailable",
                                "sqlite: the writer has stopped (shutting down)");
    job.done(&stopped);
}

void Database::RunInline(async::WriteLane::Job job) {
    std::vector<async::WriteLane::Job> batch;
    batch.push_back(std::move(job));
    RunBatch(batch);
    {
        std::lock_guard lock(lane_mu_);
        lane_busy_ = false;
        // What was queued meanwhile (or a stop) is the writer thread's now. Notified under
        // the lock: once it is released this thread no longer touches the database.
        lane_cv_.notify_one();
    }
}

void Database::LaneLoop() {
    std::vector<async::WriteLane::Job> batch;
    while (true) {
        {
            std::unique_lock lock(lane_mu_);
            lane_cv_.wait(lock, [&] {
                return !lane_busy_ && (lane_stopping_ || !lane_queue_.empty());
            });
            if (lane_queue_.empty()) return;  // stopping, and nothing left to run
            batch.swap(lane_queue_);
            lane_busy_ = true;
        }
        RunBatch(batch);
        batch.clear();
        std::lock_guard lock(lane_mu_);
        lane_busy_ = false;
    }
}

void Database::RunBatch(std::vector<async::WriteLane::Job>& batch) {
    std::optional<Error> failed;
    {
        std::unique_lock lock(writer_mu_);
        group_done_.wait(lock, [&] { return !group_; });  // a blocking group commits first
        if (auto b = writer_->Exec("BEGIN IMMEDIATE"); !b.ok()) {
            failed = b.error();
        } else {
            lane_db_ = this;
            lane_error_.reset();
            for (auto& job : batch) job.run();
            lane_db_ = nullptr;
            if (lane_error_) {
                failed = std::move(lane_error_);
                lane_error_.reset();
            } else if (auto c = writer_->Exec("COMMIT"); !c.ok()) {
                failed = c.error();
            } else {
                ++commits_;
            }
            if (failed) writer_->RollbackQuietly();
        }
    }
    group_done_.notify_all();  // blocking writers (WithWriter) waiting for the writer
    ++lane_batches_;
    for (auto& job : batch) job.done(failed ? &*failed : nullptr);
}

void Database::EndLaneWrite(bool keep) {
    if (keep) {
        if (auto r = writer_->Exec("RELEASE hub_write"); !r.ok() && !lane_error_)
            lane_error_ = r.error();
        return;
    }
    auto undo = writer_->Exec("ROLLBACK TO hub_write");
    auto release = writer_->Exec("RELEASE hub_write");
    // If the savepoint cannot be undone, this write's changes may still be in the
    // transaction: then nothing of the batch may be committed.
    if (!lane_error_) {
        if (!undo.ok()) lane_error_ = undo.error();
        else if (!release.ok()) lane_error_ = release.error();
    }
}

Database::ReaderLease::ReaderLease(Database& db) : db_(db) {
    std::unique_lock lock(db_.readers_mu_);
    db_.reader_free_.wait(lock, [&] { return !db_.idle_readers_.empty(); });
    conn_ = db_.idle_readers_.back();
    db_.idle_readers_.pop_back();
}

Database::ReaderLease::~ReaderLease() {
    {
        std::lock_guard lock(db_.readers_mu_);
        db_.idle_readers_.push_back(conn_);
    }
    db_.reader_free_.notify_one();
}

}  // namespace hub::store::sqlite
