#include "store/sqlite/sqlite_store.hpp"

#include <algorithm>

#include "store/sqlite/db.hpp"
#include "store/sqlite/migrate.hpp"
#include "store/sqlite/repos.hpp"

namespace hub::store {

namespace {

using sqlite::Connection;
using sqlite::Database;

class SqliteStore final : public Store {
public:
    // `clock` may be null: the store then owns a system clock.
    SqliteStore(std::unique_ptr<Database> db, std::vector<Migration> migrations,
                const core::Clock* clock)
        : owned_clock_(clock != nullptr ? nullptr : std::make_unique<core::SystemClock>()),
          clock_(clock != nullptr ? *clock : *owned_clock_),
          db_(std::move(db)),
          migrations_(std::move(migrations)),
          users_(sqlite::MakeUserStore(Ctx())),
          roles_(sqlite::MakeRoleStore(Ctx())),
          sessions_(sqlite::MakeSessionStore(Ctx())),
          conversations_(sqlite::MakeConversationStore(Ctx())),
          messages_(sqlite::MakeMessageStore(Ctx())),
          api_calls_(sqlite::MakeApiCallStore(Ctx())),
          upstream_keys_(sqlite::MakeUpstreamKeyStore(Ctx())),
          api_keys_(sqlite::MakeApiKeyStore(Ctx())),
          images_(sqlite::MakeImageStore(Ctx())),
          audit_(sqlite::MakeAuditStore(Ctx())),
          upstream_tasks_(sqlite::MakeUpstreamTaskStore(Ctx())),
          uploads_(sqlite::MakeUploadStore(Ctx())) {}

    UserStore& Users() override { return *users_; }
    RoleStore& Roles() override { return *roles_; }
    SessionStore& Sessions() override { return *sessions_; }
    ConversationStore& Conversations() override { return *conversations_; }
    MessageStore& Messages() override { return *messages_; }
    ApiCallStore& ApiCalls() override { return *api_calls_; }
    UpstreamKeyStore& UpstreamKeys() override { return *upstream_keys_; }
    ApiKeyStore& ApiKeys() override { return *api_keys_; }
    ImageStore& Images() override { return *images_; }
    AuditStore& Audit() override { return *audit_; }
    UpstreamTaskStore& UpstreamTasks() override { return *upstream_tasks_; }
    UploadStore& Uploads() override { return *uploads_; }

    core::Result<void> Ping() override {
        return db_->Read([](Connection& c) -> core::Result<void> {
            HUB_SQL_TRY(c.QueryText("SELECT 1"));
            return core::Ok();
        });
    }

    core::Result<std::vector<int>> Migrate() override {
        return sqlite::ApplyMigrations(*db_, migrations_, clock_.NowMs());
    }

    core::Result<SchemaState> SchemaStatus() override {
        return sqlite::ReadSchemaState(*db_, migrations_);
    }

    std::string_view Dialect() const override { return "sqlite"; }

    // Readers are opened once the schema exists.
    core::Result<void> OpenReaders() { return db_->OpenReaders(); }

private:
    sqlite::RepoContext Ctx() { return sqlite::RepoContext{*db_, clock_}; }

    std::unique_ptr<core::Clock> owned_clock_;
    const core::Clock& clock_;
    std::unique_ptr<Database> db_;
    std::vector<Migration> migrations_;
    std::unique_ptr<UserStore> users_;
    std::unique_ptr<RoleStore> roles_;
    std::unique_ptr<SessionStore> sessions_;
    std::unique_ptr<ConversationStore> conversations_;
    std::unique_ptr<MessageStore> messages_;
    std::unique_ptr<ApiCallStore> api_calls_;
    std::unique_ptr<UpstreamKeyStore> upstream_keys_;
    std::unique_ptr<ApiKeyStore> api_keys_;
    std::unique_ptr<ImageStore> images_;
    std::unique_ptr<AuditStore> audit_;
    std::unique_ptr<UpstreamTaskStore> upstream_tasks_;
    std::unique_ptr<UploadStore> uploads_;
};

}  // namespace

core::Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
    std::vector<Migration> migrations =
        options.migrations ? *options.migrations : sqliteMigrations();
    HUB_SQL_ASSIGN(auto db, Database::Open({options.path, std::max(options.readers, 0),
                                            options.busy_timeout_ms}));
    auto store = std::make_unique<SqliteStore>(std::move(db), std::move(migrations), options.clock);
    if (options.migrate_on_open) HUB_SQL_TRY(store->Migrate());
    HUB_SQL_TRY(store->OpenReaders());
    return std::unique_ptr<Store>(std::move(store));
}

}  // namespace hub::store
