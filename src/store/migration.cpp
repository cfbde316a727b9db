#include "store/migration.hpp"

#include <algorithm>

namespace hub::store {

core::Error SchemaTooNew(const SchemaState& s) {
    return core::Error::Make(core::ErrorCode::kUnavailable, "schema_too_new",
                             "the database schema is newer than this program",
                             "database at version " + std::to_string(s.current) +
                                 ", this binary knows up to " + std::to_string(s.latest));
}

core::Result<void> ValidateMigrations(const std::vector<Migration>& migrations) {
    int previous = 0;
    for (const auto& m : migrations) {
        if (m.version <= previous) {
            return core::Error::Make(core::ErrorCode::kInternal, "bad_migrations",
                                     "the embedded migrations are inconsistent",
                                     "migration '" + m.name + "' has version " +
                                         std::to_string(m.version) + " after " +
                                         std::to_string(previous));
        }
        previous = m.version;
    }
    return core::Ok();
}

SchemaState ComputeSchemaState(const std::vector<Migration>& migrations,
                               const std::vector<int>& applied) {
    SchemaState s;
    for (int v : applied) s.current = std::max(s.current, v);
    for (const auto& m : migrations) {
        s.latest = std::max(s.latest, m.version);
        if (std::find(applied.begin(), applied.end(), m.version) == applied.end()) {
            s.pending.push_back(m.version);
        }
    }
    std::sort(s.pending.begin(), s.pending.end());
    return s;
}

}  // namespace hub::store
