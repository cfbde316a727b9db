#pragma once
// The MariaDB/MySQL migration runner (internal).
//
// DDL is not transactional in MySQL, so unlike SQLite's runner a failed run cannot be rolled
// back: each migration file is applied on its own, statement by statement, and its version is
// recorded in schema_migrations only after the whole file succeeded. A named server lock
// (GET_LOCK('bailian_hub_migrate')) makes hubs that start together migrate one at a time: the
// others wait for it, then find nothing pending.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/migration.hpp"
#include "store/mysql/db.hpp"

namespace hub::store::mysql {

// The statements of a script: split at semicolons outside quotes ('...', "...", `...`) and
// comments (-- to the end of the line, # likewise, /* ... */); each trimmed; statements that
// hold nothing but comments and blanks are left out.
std::vector<std::string> SplitStatements(std::string_view script);

constexpr std::string_view kMigrateLock = "bailian_hub_migrate";

// Applies every pending migration in version order and returns the versions applied now.
// Errors: kInternal "migration_failed" naming the file and the server's message (a file that
// failed half-way leaves its earlier statements applied and is not recorded);
// kUnavailable "schema_too_new" when the database has a version this binary does not know;
// kUnavailable "database_busy" when the lock is not had within lock_timeout_ms.
core::Result<std::vector<int>> ApplyMigrations(Database& db,
                                               const std::vector<Migration>& migrations,
                                               std::int64_t now_ms, int lock_timeout_ms = 120000);

core::Result<SchemaState> ReadSchemaState(Database& db, const std::vector<Migration>& migrations);

}  // namespace hub::store::mysql
