#pragma once
// The SQLite migration runner (internal).
#include <cstdint>
#include <vector>

#include "core/result.hpp"
#include "store/migration.hpp"
#include "store/sqlite/db.hpp"

namespace hub::store::sqlite {

// Applies every pending migration, in version order, inside one BEGIN IMMEDIATE transaction
// (which also serialises concurrent runners across processes) and records each in
// schema_migrations. Any failure rolls the whole run back: the database is left as it was.
// Returns the versions applied now. kUnavailable "schema_too_new" when the database has a
// version this binary does not know.
core::Result<std::vector<int>> ApplyMigrations(Database& db,
                                               const std::vector<Migration>& migrations,
                                               std::int64_t now_ms);

core::Result<SchemaState> ReadSchemaState(Database& db, const std::vector<Migration>& migrations);

}  // namespace hub::store::sqlite
