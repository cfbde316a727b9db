#include "store_fixture.hpp"

#include "store/mysql/mysql_store.hpp"
#include "support/mariadb.hpp"

namespace hub::store::testing {

std::vector<std::string> StoreDialects() { return {"sqlite", "mysql"}; }

core::Result<std::unique_ptr<Store>> OpenTestStore(const std::string& dialect,
                                                   const std::string& dir,
                                                   const core::Clock& clock) {
    if (dialect == "mysql") {
        MysqlOptions options;
        options.url = hub::test::MariaDbServer::Shared().FreshDatabase();
        options.clock = &clock;
        return OpenMysqlStore(options);
    }
    SqliteOptions options;
    options.path = dir + "/hub.db";
    options.readers = 2;
    options.clock = &clock;
    return OpenSqliteStore(options);
}

}  // namespace hub::store::testing
