#include "store_fixture.hpp"

namespace hub::store::testing {

std::vector<std::string> StoreDialects() { return {"sqlite"}; }

core::Result<std::unique_ptr<Store>> OpenTestStore(const std::string& dialect,
                                                   const std::string& dir,
                                                   const core::Clock& clock) {
    if (dialect != "sqlite") {
        return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_config",
                                 "no such dialect: " + dialect);
    }
    SqliteOptions options;
    options.path = dir + "/hub.db";
    options.readers = 2;
    options.clock = &clock;
    return OpenSqliteStore(options);
}

}  // namespace hub::store::testing
