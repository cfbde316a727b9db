#pragma once
// Copies every row of one store into another, across dialects (`bailian-hub db copy`, and the
// MySQL store's snapshots, which are SQLite files). Ids, hashes and encrypted values are copied
// as they are.
#include <cstdint>
#include <map>
#include <string>

#include "core/result.hpp"
#include "store/store.hpp"

namespace hub::store {

struct CopyReport {
    std::map<std::string, std::int64_t> rows;  // per table, as counted in the source
};

// Reads `from` in one snapshot and writes `to` in one transaction. `to` must be migrated to the
// same schema version and hold nothing but the rows migrations seed (kConflict
// "target_not_empty" otherwise, and nothing is written). After the copy the rows of every table
// are counted in `to` and compared with the source's counts; a difference rolls everything
// back (kInternal "copy_mismatch"). Search indexes are derived: the target builds its own.
core::Result<CopyReport> CopyStore(Store& from, Store& to);

}  // namespace hub::store
