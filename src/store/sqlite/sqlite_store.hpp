#pragma once
// The SQLite implementation of store::Store (the embedded default). Only app/ includes this.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/migration.hpp"
#include "store/store.hpp"

namespace hub::async {
class WriteLane;
}

namespace hub::store {

struct SqliteOptions {
    // A file path (its directory must exist), or ":memory:" for a private in-memory database
    // (tests; no reader pool, reads share the writer).
    std::string path;
    int readers = 4;  // read-only connections in the pool
    int busy_timeout_ms = 5000;
    // synchronous=FULL on the writer (an fsync per commit: a write that returned survives a
    // power cut), or false: NORMAL (with WAL it survives kill -9 of the process, but a power
    // cut or an OS crash may lose the last commits). BAILIAN_HUB_DB_SYNC.
    bool sync_full = true;
    // Apply pending migrations while opening (serve). `bailian-hub migrate` opens with false
    // and calls Migrate() itself to report what it applied.
    bool migrate_on_open = true;
    // Test hook: migrate with this list instead of the embedded sqliteMigrations().
    std::optional<std::vector<Migration>> migrations;
    // Source of created_at/updated_at/revoked_at...; nullptr = the system clock. Must outlive
    // the store.
    const core::Clock* clock = nullptr;
};

// Opens (creating the file if needed) with WAL, foreign keys on, busy timeout and
// synchronous=FULL (NORMAL without sync_full); one writer connection plus `readers` readers.
// Errors: kInvalidArgument for an empty path, kUnavailable "database_unavailable" when the file cannot be opened or
// is not a database (the detail names the path), "migration_failed" / "schema_too_new" from
// migrating on open.
core::Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

// The SQLite store's write lane, started now: one writer thread that commits every queued
// write in one transaction (see async::RunWrite and src/store/README.md); nullptr when
// `store` is not SQLite (MariaDB keeps the db pool). StopSqliteWriteLane runs what is queued
// and stops it (before the io_context of the waiting coroutines is destroyed).
// `run_idle_inline`: see Database::StartLane (false for a hub with one io thread).
async::WriteLane* StartSqliteWriteLane(Store& store, bool run_idle_inline);
void StopSqliteWriteLane(Store& store);

// Schema version and rows per table of a SQLite database file (a snapshot), read-only.
core::Result<SnapshotInfo> InspectSqliteFile(const std::string& path);

// Restores into the database file `db_path`: empty while the file does not exist (or has no
// tables); Load copies the snapshot there through a temp file, fsync and rename.
std::unique_ptr<RestoreTarget> MakeSqliteRestoreTarget(std::string db_path);

}  // namespace hub::store
