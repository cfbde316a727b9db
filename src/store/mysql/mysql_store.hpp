#pragma once
// The MariaDB/MySQL implementation of store::Store (BAILIAN_HUB_DATABASE_URL=mysql://...),
// optionally with a read replica. Only app/ includes this.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/migration.hpp"
#include "store/store.hpp"

namespace hub::store {

struct MysqlOptions {
    std::string url;          // mysql://user:password@host:port/db[?socket=&tls=required&pool=N]
    std::string replica_url;  // empty: no replica
    std::int64_t replica_max_lag_ms = 5000;
    std::int64_t replica_probe_ms = 500;
    // Apply pending migrations while opening (serve). `bailian-hub migrate` opens with false.
    bool migrate_on_open = true;
    // Test hook: migrate with this list instead of the embedded mysqlMigrations().
    std::optional<std::vector<Migration>> migrations;
    const core::Clock* clock = nullptr;  // nullptr = the system clock; must outlive the store
};

// Connects (one connection at once, so a wrong password or an unreachable server is reported
// here; the replica is connected lazily and may be down). Errors: kInvalidArgument
// "invalid_config" for a malformed URL, kUnavailable "database_unavailable" when the server
// cannot be reached or refuses the user, "migration_failed" / "schema_too_new" from migrating.
// No error carries the password.
core::Result<std::unique_ptr<Store>> OpenMysqlStore(const MysqlOptions& options);

// Restores a snapshot written by a MySQL store's WriteSnapshot (a SQLite file holding every
// row) into the database of `url`, which must hold nothing yet.
std::unique_ptr<RestoreTarget> MakeMysqlRestoreTarget(std::string url, std::string work_dir);

}  // namespace hub::store
