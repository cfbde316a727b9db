#include "store/mysql/migrate.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "store/sql/repos.hpp"

namespace hub::store::mysql {

namespace {

using core::Error;
using core::ErrorCode;

constexpr std::string_view kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT NOT NULL PRIMARY KEY,"
    " name VARCHAR(255) NOT NULL,"
    " applied_at BIGINT NOT NULL"
    ") ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci";

Error MigrationFailed(std::string detail) {
    return Error::Make(ErrorCode::kInternal, "migration_failed", "the database migration failed",
                       std::move(detail));
}

core::Result<bool> TableExists(Connection& c) {
    HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("SELECT count(*) FROM information_schema.TABLES"
                                           " WHERE TABLE_SCHEMA = DATABASE()"
                                           " AND TABLE_NAME = 'schema_migrations'"));
    HUB_SQL_TRY(st.Step());
    return st.Int(0) > 0;
}

core::Result<std::vector<int>> AppliedVersions(Connection& c) {
    HUB_SQL_ASSIGN(bool exists, TableExists(c));
    if (!exists) return std::vector<int>{};
    return sql::RecordedVersions(c);
}

// Takes the named lock, waiting in steps of one second (each shorter than the connection's
// read timeout) until lock_timeout_ms has passed.
core::Result<void> Lock(Connection& c, int lock_timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(lock_timeout_ms);
    while (true) {
        HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("SELECT GET_LOCK(?1, 1)"));
        st.Bind(1, kMigrateLock);
        HUB_SQL_TRY(st.Step());
        if (!st.IsNull(0) && st.Int(0) == 1) return core::Ok();
        if (std::chrono::steady_clock::now() >= deadline) {
            return Error::Make(ErrorCode::kUnavailable, "database_busy",
                               "the database is busy, try again",
                               "mysql: another process holds the migration lock '" +
                                   std::string(kMigrateLock) + "'");
        }
    }
}

void Unlock(Connection& c) {
    auto st = c.Prepare("SELECT RELEASE_LOCK(?1)");
    if (!st.ok()) return;
    st->Bind(1, kMigrateLock);
    (void)st->Run();
}

core::Result<std::vector<int>> Migrate(Connection& c, const std::vector<Migration>& migrations,
                                       std::int64_t now_ms) {
    if (auto r = c.Query(kCreateVersionTable); !r.ok()) {
        return MigrationFailed("cannot create schema_migrations: " + r.error().detail);
    }
    HUB_SQL_ASSIGN(std::vector<int> applied, AppliedVersions(c));
    SchemaState state = ComputeSchemaState(migrations, applied);
    if (state.current > state.latest) return SchemaTooNew(state);
    std::vector<int> done;
    for (const Migration& m : migrations) {
        if (std::find(state.pending.begin(), state.pending.end(), m.version) ==
            state.pending.end()) {
            continue;
        }
        std::vector<std::string> statements = SplitStatements(m.sql);
        for (std::size_t i = 0; i < statements.size(); ++i) {
            if (auto r = c.Query(statements[i]); !r.ok()) {
                if (r.error().code == ErrorCode::kUnavailable &&
                    r.error().api_code == "database_unavailable") {
                    return r.error();
                }
                return MigrationFailed("migration " + m.name + ".sql, statement " +
                                       std::to_string(i + 1) + ": " + r.error().detail);
            }
        }
        HUB_SQL_ASSIGN(sql::Stmt ins, c.Prepare("INSERT INTO schema_migrations"
                                                " (version, name, applied_at) VALUES (?1, ?2, ?3)"));
        if (auto r = ins.BindAll(m.version, m.name, now_ms).Run(); !r.ok()) {
            return MigrationFailed("migration " + m.name + ".sql: recording it: " +
                                   r.error().detail);
        }
        done.push_back(m.version);
    }
    return done;
}

}  // namespace

std::vector<std::string> SplitStatements(std::string_view script) {
    std::vector<std::string> out;
    std::string current;
    bool has_code = false;  // current holds more than comments and blanks
    auto flush = [&] {
        if (has_code) {
            auto first = current.find_first_not_of(" \t\r\n");
            auto last = current.find_last_not_of(" \t\r\n");
            out.push_back(current.substr(first, last - first + 1));
        }
        current.clear();
        has_code = false;
    };
    std::size_t i = 0;
    const std::size_t n = script.size();
    while (i < n) {
        char c = script[i];
        if (c == '\'' || c == '"' || c == '`') {
            std::size_t j = i + 1;
            while (j < n) {
                if (script[j] == c) {
                    if (j + 1 < n && script[j + 1] == c) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                ++j;
            }
            std::size_t end = std::min(j + 1, n);
            current.append(script.substr(i, end - i));
            has_code = true;
            i = end;
        } else if ((c == '-' && i + 1 < n && script[i + 1] == '-') || c == '#') {
            auto end = script.find('\n', i);
            i = end == std::string_view::npos ? n : end;  // the comment is dropped
        } else if (c == '/' && i + 1 < n && script[i + 1] == '*') {
            auto end = script.find("*/", i + 2);
            i = end == std::string_view::npos ? n : end + 2;
            current.push_back(' ');
        } else if (c == ';') {
            flush();
            ++i;
        } else {
            if (!std::isspace(static_cast<unsigned char>(c))) has_code = true;
            current.push_back(c);
            ++i;
        }
    }
    flush();
    return out;
}

core::Result<std::vector<int>> ApplyMigrations(Database& db,
                                               const std::vector<Migration>& migrations,
                                               std::int64_t now_ms, int lock_timeout_ms) {
    HUB_SQL_TRY(ValidateMigrations(migrations));
    std::vector<int> done;
    auto run = [&](Connection& c) -> core::Result<void> {
        HUB_SQL_TRY(Lock(c, lock_timeout_ms));
        auto r = Migrate(c, migrations, now_ms);
        Unlock(c);  // also released by the server if the connection is lost
        if (!r.ok()) return r.error();
        done = std::move(r.value());
        return core::Ok();
    };
    HUB_SQL_TRY(db.WithConnection(Database::ConnectionFn(run)));
    return done;
}

core::Result<SchemaState> ReadSchemaState(Database& db, const std::vector<Migration>& migrations) {
    // On a plain connection rather than db.Read(): g++ 12 at -O2 reports a false
    // -Wfree-nonheap-object for a Result<SchemaState> made inside sql::Database::Erased.
    SchemaState state;
    auto read = [&](Connection& c) -> core::Result<void> {
        HUB_SQL_ASSIGN(std::vector<int> applied, AppliedVersions(c));
        state = ComputeSchemaState(migrations, applied);
        return core::Ok();
    };
    HUB_SQL_TRY(db.WithConnection(Database::ConnectionFn(read)));
    return state;
}

}  // namespace hub::store::mysql
