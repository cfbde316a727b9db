#pragma once
// Backups as the storage layer sees them, the same for every dialect: a store writes one
// consistent snapshot of its whole database into a file while it serves, and a restore target
// loads such a file into an empty database. SQLite: the online backup API and a copy of the
// file (sqlite/); a MariaDB store would write a consistent dump (one REPEATABLE READ
// transaction) and load it into an empty schema.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace hub::store {

struct SnapshotInfo {
    std::string dialect;      // "sqlite"
    int schema_version = 0;   // highest migration applied in the snapshot
    // Rows per table in the snapshot (search indexes left out: they are derived).
    std::map<std::string, std::int64_t> row_counts;
};

class RestoreTarget {
public:
    virtual ~RestoreTarget() = default;
    virtual std::string_view Dialect() const = 0;
    // True when the target database holds nothing yet (restores go only into empty ones).
    virtual core::Result<bool> IsEmpty() = 0;
    // Loads a snapshot file written by Store::WriteSnapshot of the same dialect. Blocking.
    virtual core::Result<void> Load(const std::string& snapshot_path) = 0;
};

}  // namespace hub::store
