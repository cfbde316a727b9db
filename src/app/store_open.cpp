#include "app/store_open.hpp"

#include <algorithm>
#include <iostream>

#include "store/copy.hpp"
#include "store/migration.hpp"
#include "store/mysql/mysql_store.hpp"
#include "store/mysql/url.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace hub::app {

namespace {

// A URL as it may be printed: a MySQL password becomes ***.
std::string Printable(const std::string& url) {
    return url.rfind("mysql://", 0) == 0 ? store::mysql::Redacted(url) : url;
}

}  // namespace

core::Result<std::unique_ptr<store::Store>> OpenStore(const Config& cfg) {
    if (cfg.UsesMysql()) {
        store::MysqlOptions opts;
        opts.url = cfg.database_url;
        opts.replica_url = cfg.database_replica_url;
        opts.replica_max_lag_ms = cfg.database_replica_max_lag_ms;
        opts.migrate_on_open = false;
        return store::OpenMysqlStore(opts);
    }
    store::SqliteOptions opts;
    opts.path = cfg.SqlitePath();
    // A reader per worker up to 8 (each has its own page cache); more workers share them.
    opts.readers = static_cast<int>(std::clamp<std::size_t>(cfg.db_workers, 2, 8));
    opts.sync_full = cfg.db_sync != "normal";
    opts.migrate_on_open = false;
    return store::OpenSqliteStore(opts);
}

core::Result<std::unique_ptr<store::Store>> OpenStoreAt(const std::string& url) {
    if (url.rfind("mysql://", 0) == 0) {
        store::MysqlOptions opts;
        opts.url = url;
        return store::OpenMysqlStore(opts);
    }
    if (std::string path = SqlitePathOfUrl(url); !path.empty()) {
        store::SqliteOptions opts;
        opts.path = path;
        opts.readers = 1;
        return store::OpenSqliteStore(opts);
    }
    return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_config",
                             "a database URL is sqlite:PATH or mysql://USER:PASSWORD@HOST:PORT/DB");
}

std::unique_ptr<store::RestoreTarget> RestoreTargetFor(const Config& cfg) {
    if (cfg.UsesMysql()) return store::MakeMysqlRestoreTarget(cfg.database_url, cfg.data_dir);
    return store::MakeSqliteRestoreTarget(cfg.SqlitePath());
}

int LatestSchemaVersion(const Config& cfg) {
    int latest = 0;
    const auto& migrations = cfg.UsesMysql() ? store::mysqlMigrations() : store::sqliteMigrations();
    for (const auto& m : migrations) latest = std::max(latest, m.version);
    return latest;
}

int DbCopyCommand(const std::string& from, const std::string& to) {
    auto say = [](const std::string& what, const core::Error& e) {
        std::cerr << "bailian-hub: db copy: " << what << ": " << e.public_message;
        if (!e.detail.empty()) std::cerr << " (" << e.detail << ")";
        std::cerr << "\n";
    };
    if (from == to) {
        std::cerr << "bailian-hub: db copy: --from and --to are the same database\n";
        return 2;
    }
    auto source = OpenStoreAt(from);
    if (!source.ok()) {
        say("cannot open the source " + Printable(from), source.error());
        return source.error().code == core::ErrorCode::kInvalidArgument ? 2 : 1;
    }
    auto target = OpenStoreAt(to);
    if (!target.ok()) {
        say("cannot open the target " + Printable(to), target.error());
        return target.error().code == core::ErrorCode::kInvalidArgument ? 2 : 1;
    }
    auto report = store::CopyStore(**source, **target);
    if (!report.ok()) {
        say("nothing was copied", report.error());
        return 1;
    }
    std::int64_t total = 0;
    for (const auto& [table, rows] : report->rows) {
        std::cout << table << ": " << rows << "\n";
        total += rows;
    }
    std::cout << "copied " << total << " row(s) in " << report->rows.size() << " table(s) from "
              << Printable(from) << " to " << Printable(to) << "; every count verified\n";
    return 0;
}

}  // namespace hub::app
