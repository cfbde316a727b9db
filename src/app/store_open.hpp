#pragma once
// Opening the configured store (SQLite or MySQL/MariaDB, with its replica), and the
// `bailian-hub db copy` command that moves an installation between them.
#include <memory>
#include <string>

#include "app/config.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace hub::app {

// The store of BAILIAN_HUB_DATABASE_URL (and _REPLICA_URL), not migrated: callers migrate
// explicitly and report what they did.
core::Result<std::unique_ptr<store::Store>> OpenStore(const Config& cfg);

// A store at a database URL (sqlite:PATH or mysql://...), migrated to this binary's schema.
core::Result<std::unique_ptr<store::Store>> OpenStoreAt(const std::string& url);

// Where a backup of this configuration is restored to, and the schema version it must reach.
std::unique_ptr<store::RestoreTarget> RestoreTargetFor(const Config& cfg);
int LatestSchemaVersion(const Config& cfg);

// `bailian-hub db copy --from URL --to URL`: every row, verified; the target must be empty.
int DbCopyCommand(const std::string& from, const std::string& to);

}  // namespace hub::app
