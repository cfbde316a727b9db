#pragma once
// One numbered schema step of one SQL dialect (embedded from src/store/migrations/<dialect>/).
//
// Files are named NNNN_name.sql; the number is the version. cmake/embed_migrations.cmake
// turns a dialect's folder into `<dialect>Migrations()` at build time. A store applies every
// pending step of a run in one transaction and records each in schema_migrations(version,
// name, applied_at); a failing step rolls the whole run back.
#include <string>
#include <vector>

#include "core/result.hpp"

namespace hub::store {

struct Migration {
    int version;
    std::string name;
    std::string sql;
};

const std::vector<Migration>& sqliteMigrations();
const std::vector<Migration>& mysqlMigrations();

// Where the schema of a database stands against the migrations a binary carries.
struct SchemaState {
    int current = 0;           // highest applied version (0 = empty database)
    int latest = 0;            // highest version this binary knows
    std::vector<int> pending;  // known, not yet applied, ascending
    // Ready to serve: nothing pending and not newer than this binary.
    bool UpToDate() const { return pending.empty() && current <= latest; }
};

// kInternal / "bad_migrations" unless versions are positive and strictly increasing.
core::Result<void> ValidateMigrations(const std::vector<Migration>& migrations);

// kUnavailable "schema_too_new": the database has a version this binary does not know.
core::Error SchemaTooNew(const SchemaState& s);

// The state given the versions already applied (in any order).
SchemaState ComputeSchemaState(const std::vector<Migration>& migrations,
                               const std::vector<int>& applied);

}  // namespace hub::store
