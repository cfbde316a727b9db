#include "store/sqlite/sqlite_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "async/write_lane.hpp"
#include "store/sqlite/db.hpp"
#include "store/sqlite/migrate.hpp"
#include "store/sql/sql_store.hpp"

namespace hub::store {

namespace {

using sqlite::Connection;
using sqlite::Database;

class SqliteStore final : public sql::SqlStore {
public:
    SqliteStore(std::unique_ptr<Database> db, std::vector<Migration> migrations,
                const core::Clock* clock)
        : SqlStore(clock), db_(std::move(db)), migrations_(std::move(migrations)) {
        MakeRepositories(*db_);
    }

    sql::Database& database() override { return *db_; }

    core::Result<void> Ping() override {
        return db_->Read([](Connection& c) -> core::Result<void> {
            HUB_SQL_TRY(c.QueryText("SELECT 1"));
            return core::Ok();
        });
    }

    core::Result<std::vector<int>> Migrate() override {
        return sqlite::ApplyMigrations(*db_, migrations_, clock().NowMs());
    }

    core::Result<SchemaState> SchemaStatus() override {
        return sqlite::ReadSchemaState(*db_, migrations_);
    }

    std::string_view Dialect() const override { return "sqlite"; }

    core::Result<SnapshotInfo> WriteSnapshot(const std::string& path) override {
        HUB_SQL_TRY(db_->BackupTo(path));
        return InspectSqliteFile(path);
    }

    core::Result<std::size_t> IndexSearch(std::size_t max_rows) override {
        // An empty queue (an idle hub, every second) costs a read, not a write transaction.
        HUB_SQL_ASSIGN(bool queued, db_->Read([](sql::Connection& c) -> core::Result<bool> {
            HUB_SQL_ASSIGN(sql::Stmt st,
                           c.Prepare("SELECT EXISTS (SELECT 1 FROM messages_fts_pending)"));
            HUB_SQL_ASSIGN(bool row, st.Step());
            return row && st.Int(0) != 0;
        }));
        if (!queued) return std::size_t{0};
        // On the process's write lane when it runs (in turn with the chat turns' writes, sharing
        // a COMMIT with them), else a write of its own.
        return async::RunWriteBlocking([&] { return IndexBatch(max_rows); });
    }

    Database& db() { return *db_; }

    // Readers are opened once the schema exists.
    core::Result<void> OpenReaders() { return db_->OpenReaders(); }

private:
    core::Result<std::size_t> IndexBatch(std::size_t max_rows) {
        return db_->Write([&](sql::Connection& c) -> core::Result<std::size_t> {
            std::int64_t upto = 0;
            std::size_t n = 0;
            {
                HUB_SQL_ASSIGN(sql::Stmt head,
                               c.Prepare("SELECT max(seq), count(*) FROM (SELECT seq FROM"
                                         " messages_fts_pending ORDER BY seq LIMIT ?1)"));
                HUB_SQL_ASSIGN(bool row,
                               head.BindAll(static_cast<std::int64_t>(max_rows)).Step());
                if (!row || head.IsNull(0)) return std::size_t{0};
                upto = head.Int(0);
                n = static_cast<std::size_t>(head.Int(1));
            }
            HUB_SQL_ASSIGN(sql::Stmt index,
                           c.Prepare("INSERT INTO messages_fts (rowid, content)"
                                     " SELECT m.seq, m.content FROM messages_fts_pending p"
                                     " JOIN messages m ON m.seq = p.seq WHERE p.seq <= ?1"));
            HUB_SQL_TRY(index.BindAll(upto).Run());
            HUB_SQL_ASSIGN(sql::Stmt dequeue,
                           c.Prepare("DELETE FROM messages_fts_pending WHERE seq <= ?1"));
            HUB_SQL_TRY(dequeue.BindAll(upto).Run());
            return n;
        });
    }

    std::unique_ptr<Database> db_;
    std::vector<Migration> migrations_;
};

// Restores by placing the snapshot file where the database belongs.
class SqliteRestoreTarget final : public RestoreTarget {
public:
    explicit SqliteRestoreTarget(std::string db_path) : path_(std::move(db_path)) {}
    std::string_view Dialect() const override { return "sqlite"; }

    core::Result<bool> IsEmpty() override {
        namespace fs = std::filesystem;
        std::error_code ec;
        for (const char* suffix : {"", "-wal", "-journal"}) {
            auto p = fs::path(path_ + suffix);
            if (fs::exists(p, ec) && fs::file_size(p, ec) > 0) return false;
        }
        return true;
    }

    core::Result<void> Load(const std::string& snapshot_path) override {
        namespace fs = std::filesystem;
        std::error_code ec;
        const std::string tmp = path_ + ".restoring";
        fs::copy_file(snapshot_path, tmp, fs::copy_options::overwrite_existing, ec);
        if (ec) {
            return core::Error::Make(core::ErrorCode::kInternal, "restore_failed",
                                     "The database could not be restored.",
                                     "copy to " + tmp + ": " + ec.message());
        }
        fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write,
                        fs::perm_options::replace, ec);
        // The copy must be on disk before its name is.
        int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            (void)::fsync(fd);
            ::close(fd);
        }
        for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(path_ + suffix, ec);
        if (::rename(tmp.c_str(), path_.c_str()) != 0) {
            fs::remove(tmp, ec);
            return core::Error::Make(core::ErrorCode::kInternal, "restore_failed",
                                     "The database could not be restored.", "rename to " + path_);
        }
        return core::Ok();
    }

private:
    std::string path_;
};

}  // namespace

core::Result<SnapshotInfo> InspectSqliteFile(const std::string& path) {
    HUB_SQL_ASSIGN(auto conn, sqlite::Connection::Open({path, true, 5000}));
    SnapshotInfo info;
    info.dialect = "sqlite";
    HUB_SQL_ASSIGN(std::string version,
                   conn->QueryText("SELECT coalesce(max(version), 0) FROM schema_migrations"));
    info.schema_version = std::atoi(version.c_str());
    std::vector<std::string> tables;
    {
        HUB_SQL_ASSIGN(sqlite::Stmt st,
                       conn->Prepare("SELECT name FROM sqlite_master WHERE type = 'table'"
                                     " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%'"
                                     " ORDER BY name"));
        while (true) {
            HUB_SQL_ASSIGN(bool row, st.Step());
            if (!row) break;
            tables.push_back(st.Text(0));
        }
    }
    for (const auto& t : tables) {
        // Names come from sqlite_master of the snapshot: quote them as identifiers.
        std::string quoted = "\"";
        for (char ch : t) {
            quoted += ch;
            if (ch == '"') quoted += '"';
        }
        quoted += '"';
        HUB_SQL_ASSIGN(std::string n, conn->QueryText("SELECT count(*) FROM " + quoted));
        info.row_counts[t] = std::atoll(n.c_str());
    }
    return info;
}

std::unique_ptr<RestoreTarget> MakeSqliteRestoreTarget(std::string db_path) {
    return std::make_unique<SqliteRestoreTarget>(std::move(db_path));
}

async::WriteLane* StartSqliteWriteLane(Store& store, bool run_idle_inline) {
    auto* sqlite = dynamic_cast<SqliteStore*>(&store);
    if (sqlite == nullptr) return nullptr;
    sqlite->db().StartLane(run_idle_inline);
    return &sqlite->db();
}

void StopSqliteWriteLane(Store& store) {
    if (auto* sqlite = dynamic_cast<SqliteStore*>(&store)) sqlite->db().StopLane();
}

core::Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
    std::vector<Migration> migrations =
        options.migrations ? *options.migrations : sqliteMigrations();
    HUB_SQL_ASSIGN(auto db, Database::Open({options.path, std::max(options.readers, 0),
                                            options.busy_timeout_ms, options.sync_full}));
    auto store = std::make_unique<SqliteStore>(std::move(db), std::move(migrations), options.clock);
    if (options.migrate_on_open) HUB_SQL_TRY(store->Migrate());
    HUB_SQL_TRY(store->OpenReaders());
    return std::unique_ptr<Store>(std::move(store));
}

}  // namespace hub::store
