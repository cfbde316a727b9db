#include "store/sqlite/migrate.hpp"

#include <algorithm>
#include <string>

#include "store/sql/repos.hpp"

namespace hub::store::sqlite {

namespace {

using core::Error;
using core::ErrorCode;

constexpr std::string_view kCreateVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL) STRICT";

core::Result<std::vector<int>> AppliedVersions(Connection& c) {
    HUB_SQL_ASSIGN(Stmt exists, c.Prepare("SELECT count(*) FROM sqlite_master"
                                          " WHERE type = 'table' AND name = 'schema_migrations'"));
    HUB_SQL_TRY(exists.Step());
    if (exists.Int(0) == 0) return std::vector<int>{};
    return sql::RecordedVersions(c);
}

}  // namespace

core::Result<std::vector<int>> ApplyMigrations(Database& db,
                                               const std::vector<Migration>& migrations,
                                               std::int64_t now_ms) {
    HUB_SQL_TRY(ValidateMigrations(migrations));
    return db.Write([&](Connection& c) -> core::Result<std::vector<int>> {
        HUB_SQL_TRY(c.Exec(kCreateVersionTable));
        HUB_SQL_ASSIGN(std::vector<int> applied, AppliedVersions(c));
        SchemaState state = ComputeSchemaState(migrations, applied);
        if (state.current > state.latest) return SchemaTooNew(state);
        std::vector<int> done;
        for (const Migration& m : migrations) {
            if (std::find(state.pending.begin(), state.pending.end(), m.version) ==
                state.pending.end()) {
                continue;
            }
            if (auto r = c.ExecScript(m.sql); !r.ok()) {
                return Error::Make(ErrorCode::kInternal, "migration_failed",
                                   "the database migration failed",
                                   "migration " + m.name + ": " + r.error().detail);
            }
            HUB_SQL_ASSIGN(Stmt ins, c.Prepare("INSERT INTO schema_migrations"
                                               " (version, name, applied_at) VALUES (?1, ?2, ?3)"));
            HUB_SQL_TRY(ins.BindAll(m.version, m.name, now_ms).Run());
            done.push_back(m.version);
        }
        return done;
    });
}

core::Result<SchemaState> ReadSchemaState(Database& db, const std::vector<Migration>& migrations) {
    return db.Read([&](Connection& c) -> core::Result<SchemaState> {
        HUB_SQL_ASSIGN(std::vector<int> applied, AppliedVersions(c));
        return ComputeSchemaState(migrations, applied);
    });
}

}  // namespace hub::store::sqlite
