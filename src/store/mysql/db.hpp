#pragma once
// Internal to the MariaDB/MySQL store: the sql:: seam (store/sql/db.hpp) over the MariaDB
// Connector/C (which stays in db.cpp). Connection owns one MYSQL* and a cache of server-side
// prepared statements; Database owns a bounded pool of connections, reopened after a
// connection-level error (so the hub recovers by itself when the server comes back).
//
// Session settings of every connection (so the repositories' SQLite-flavoured SQL means the
// same here): utf8mb4 / utf8mb4_unicode_ci; sql_mode ANSI_QUOTES ("x" quotes identifiers),
// PIPES_AS_CONCAT (|| concatenates), NO_BACKSLASH_ESCAPES (LIKE ... ESCAPE '\' and '\' is a
// plain character), STRICT_ALL_TABLES (a too-long or out-of-range value is an error, never a
// truncated row), NO_ZERO_DATE, NO_ENGINE_SUBSTITUTION, ERROR_FOR_DIVISION_BY_ZERO;
// time_zone +00:00; CLIENT_FOUND_ROWS (Changes() counts matched rows, like SQLite).
//
// Isolation: writes run READ COMMITTED (no gap locks, so concurrent inserts rarely deadlock;
// a plain SELECT inside a write sees the latest committed rows, like SQLite's single writer
// does), reads run REPEATABLE READ WITH CONSISTENT SNAPSHOT (one snapshot per Read, like a
// SQLite read transaction).
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "store/mysql/url.hpp"
#include "store/sql/db.hpp"

struct st_mysql;

namespace hub::store::mysql {

// SQLite's parameters (?N, a number may repeat; plain ? = the highest number so far + 1) as
// MySQL's plain `?`, skipping quoted text and comments. numbers[i] is the number of the i-th
// placeholder; highest is the largest number (the statement's valid Bind indexes are 1..highest).
struct RewrittenSql {
    std::string sql;
    std::vector<int> numbers;
    int highest = 0;
};
core::Result<RewrittenSql> RewriteParams(std::string_view sql);

// A server or client error number and message as a core::Error (codes as documented in
// store/store.hpp). `context` goes into the detail, which starts "mysql: ".
core::Error ErrorFromMysql(unsigned error_number, std::string_view message,
                           std::string_view context = {});
// Errors after which the connection cannot be used any more (lost, killed, server gone).
bool IsConnectionError(unsigned error_number);

class Statement;

class Connection final : public sql::Connection {
public:
    // Connects and sets up the session (see above). Errors: kUnavailable
    // "database_unavailable" (cannot connect, access denied, unknown database).
    static core::Result<std::unique_ptr<Connection>> Open(const UrlOptions& options);
    ~Connection() override;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    static constexpr std::size_t kMaxCachedStatements = 256;

    core::Result<sql::Stmt> Prepare(std::string_view sql) override;
    std::int64_t Changes() const override { return changes_; }
    sql::Dialect dialect() const override { return sql::Dialect::kMysql; }

    // Runs one statement over the text protocol, uncached (transaction control, DDL); any
    // result rows are discarded.
    core::Result<void> Query(std::string_view sql);
    void RollbackQuietly() noexcept;
    core::Result<void> Ping();

    // A connection-level error happened: the connection must be closed and reopened.
    bool broken() const { return broken_; }
    // The server's number of the last error on this connection (0 after a success of Query).
    unsigned last_error() const { return last_error_; }
    void clear_last_error() { last_error_ = 0; }

private:
    friend class Statement;
    Connection(st_mysql* db, UrlOptions options);
    core::Error ErrorOf(unsigned number, std::string_view message, std::string_view context,
                        std::string_view target_table);
    // "table.col1, table.col2" of a unique index (loaded from information_schema once).
    std::string UniqueColumns(std::string_view index, std::string_view target_table);
    void EvictIdle();

    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    st_mysql* db_;
    UrlOptions options_;
    std::unordered_map<std::string, std::unique_ptr<Statement>, Hash, std::equal_to<>> cache_;
    std::int64_t changes_ = 0;
    bool broken_ = false;
    unsigned last_error_ = 0;
    bool unique_loaded_ = false;
    // "table\nindex" -> "table.col1, table.col2"
    std::unordered_map<std::string, std::string> unique_columns_;
};

struct PoolStats {
    int size = 0;    // connections at most
    int open = 0;    // connections open now
    int in_use = 0;  // connections lent out now
};

class Database final : public sql::Database {
public:
    // Opens one connection at once, so a wrong password or an unreachable server is reported
    // here; the pool grows on demand up to options.pool.
    static core::Result<std::unique_ptr<Database>> Open(const UrlOptions& options);
    // Connects on first use instead (a read replica that may be down when the hub starts).
    static std::unique_ptr<Database> OpenLazily(const UrlOptions& options);
    ~Database() override;

    sql::Dialect dialect() const override { return sql::Dialect::kMysql; }

    core::Result<void> Ping();
    PoolStats Stats() const;
    // f on a pooled connection with no transaction around it (the migration runner).
    using ConnectionFn = sql::FunctionRef<core::Result<void>(Connection&)>;
    core::Result<void> WithConnection(ConnectionFn f);

    // Deadlocks retried by RunWrite (tests, metrics).
    std::uint64_t deadlock_retries() const;

    static constexpr int kMaxDeadlockRetries = 3;

protected:
    core::Result<void> RunWrite(sql::Body body) override;
    core::Result<void> RunRead(sql::Body body) override;

private:
    explicit Database(UrlOptions options);
    class Lease;
    // A connection from the pool, opened (or reopened) as needed. kUnavailable "database_busy"
    // when none is free within the timeout; "database_unavailable" when it cannot connect.
    core::Result<std::unique_ptr<Lease>> Acquire();
    void Give(int slot);

    UrlOptions options_;
    mutable std::mutex mu_;
    std::condition_variable freed_;
    std::vector<std::unique_ptr<Connection>> slots_;
    std::vector<int> idle_;  // slots free to take
    int in_use_ = 0;
    std::uint64_t deadlock_retries_ = 0;
};

}  // namespace hub::store::mysql
