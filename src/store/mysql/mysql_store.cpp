#include "store/mysql/mysql_store.hpp"

#include <unistd.h>

#include <filesystem>

#include "store/copy.hpp"
#include "store/mysql/db.hpp"
#include "store/mysql/migrate.hpp"
#include "store/mysql/replica.hpp"
#include "store/mysql/url.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace hub::store {

namespace {

using core::Error;
using core::ErrorCode;

class MysqlStore final : public sql::SqlStore {
public:
    MysqlStore(std::unique_ptr<mysql::Database> primary,
               std::unique_ptr<mysql::Database> replica, const MysqlOptions& options,
               std::vector<Migration> migrations)
        : SqlStore(options.clock), migrations_(std::move(migrations)) {
        if (replica) {
            mysql::ReplicaOptions ro;
            ro.max_lag_ms = options.replica_max_lag_ms;
            ro.probe_ms = options.replica_probe_ms;
            replicated_ = std::make_unique<mysql::ReplicatedDatabase>(
                std::move(primary), std::move(replica), ro, clock());
            primary_ = &replicated_->primary();
            MakeRepositories(*replicated_);
        } else {
            owned_primary_ = std::move(primary);
            primary_ = owned_primary_.get();
            MakeRepositories(*primary_);
        }
    }

    sql::Database& database() override {
        return replicated_ ? static_cast<sql::Database&>(*replicated_) : *primary_;
    }

    core::Result<void> Ping() override { return primary_->Ping(); }

    core::Result<std::vector<int>> Migrate() override {
        return mysql::ApplyMigrations(*primary_, migrations_, clock().NowMs());
    }

    core::Result<SchemaState> SchemaStatus() override {
        return mysql::ReadSchemaState(*primary_, migrations_);
    }

    std::string_view Dialect() const override { return "mysql"; }

    ReplicaState Replica() const override {
        return replicated_ ? replicated_->State() : ReplicaState{};
    }

    // A SQLite file with every row, read in one consistent snapshot of the primary.
    core::Result<SnapshotInfo> WriteSnapshot(const std::string& path) override {
        std::error_code ec;
        std::filesystem::remove(path, ec);
        {
            SqliteOptions so;
            so.path = path;
            so.readers = 0;
            HUB_SQL_ASSIGN(auto file, OpenSqliteStore(so));
            // CopyStore refuses a database at another schema version than the new file's
            // (this program's latest) before it copies anything.
            if (auto r = CopyStore(*this, *file); !r.ok()) {
                file.reset();
                std::filesystem::remove(path, ec);
                return r.error();
            }
        }
        HUB_SQL_ASSIGN(SnapshotInfo info, InspectSqliteFile(path));
        info.dialect = "mysql";
        return info;
    }

private:
    std::vector<Migration> migrations_;
    std::unique_ptr<mysql::Database> owned_primary_;
    std::unique_ptr<mysql::ReplicatedDatabase> replicated_;
    mysql::Database* primary_ = nullptr;
};

class MysqlRestoreTarget final : public RestoreTarget {
public:
    MysqlRestoreTarget(std::string url, std::string work_dir)
        : url_(std::move(url)), work_dir_(std::move(work_dir)) {}

    std::string_view Dialect() const override { return "mysql"; }

    core::Result<bool> IsEmpty() override {
        HUB_SQL_ASSIGN(Store * store, Target());
        HUB_SQL_ASSIGN(auto page, store->Users().List(UserQuery{}));
        return page.items.empty();
    }

    core::Result<void> Load(const std::string& snapshot_path) override {
        // The snapshot may be of an older schema: bring a working copy of it up to date first.
        std::string copy = work_dir_ + "/restore-" + std::to_string(::getpid()) + ".db";
        std::error_code ec;
        std::filesystem::copy_file(snapshot_path, copy,
                                   std::filesystem::copy_options::overwrite_existing, ec);
        if (ec) {
            return Error::Make(ErrorCode::kUnavailable, "restore_failed",
                               "the snapshot cannot be read", ec.message());
        }
        struct Remove {
            std::string path;
            ~Remove() {
                std::error_code e;
                std::filesystem::remove(path, e);
            }
        } remove{copy};
        SqliteOptions so;
        so.path = copy;
        so.readers = 0;
        HUB_SQL_ASSIGN(auto source, OpenSqliteStore(so));
        HUB_SQL_ASSIGN(Store * target, Target());
        HUB_SQL_TRY(CopyStore(*source, *target));
        return core::Ok();
    }

private:
    // The target store, opened (and migrated) once for IsEmpty and Load.
    core::Result<Store*> Target() {
        if (!store_) {
            MysqlOptions mo;
            mo.url = url_;
            HUB_SQL_ASSIGN(store_, OpenMysqlStore(mo));
        }
        return store_.get();
    }
    std::string url_;
    std::string work_dir_;
    std::unique_ptr<Store> store_;
};

}  // namespace

core::Result<std::unique_ptr<Store>> OpenMysqlStore(const MysqlOptions& options) {
    HUB_SQL_ASSIGN(mysql::UrlOptions url, mysql::ParseUrl(options.url));
    HUB_SQL_ASSIGN(auto primary, mysql::Database::Open(url));
    std::unique_ptr<mysql::Database> replica;
    if (!options.replica_url.empty()) {
        // A replica that is down now is skipped until it answers; it never stops the start.
        HUB_SQL_ASSIGN(mysql::UrlOptions rurl, mysql::ParseUrl(options.replica_url));
        replica = mysql::Database::OpenLazily(rurl);
    }
    std::vector<Migration> migrations =
        options.migrations ? *options.migrations : mysqlMigrations();
    auto store = std::make_unique<MysqlStore>(std::move(primary), std::move(replica), options,
                                              std::move(migrations));
    if (options.migrate_on_open) HUB_SQL_TRY(store->Migrate());
    return std::unique_ptr<Store>(std::move(store));
}

std::unique_ptr<RestoreTarget> MakeMysqlRestoreTarget(std::string url, std::string work_dir) {
    return std::make_unique<MysqlRestoreTarget>(std::move(url), std::move(work_dir));
}

}  // namespace hub::store
