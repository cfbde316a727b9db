#pragma once
// Internal to the stores: a Store made of the repositories of store/sql/ over one
// sql::Database. A dialect's store (SQLite, MySQL) derives from it and adds what only it knows:
// schema management, snapshots, pings.
#include <memory>

#include "core/clock.hpp"
#include "store/sql/db.hpp"
#include "store/sql/repos.hpp"
#include "store/sql/run_once.hpp"
#include "store/store.hpp"

namespace hub::store::sql {

class SqlStore : public Store {
public:
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
    DataExportStore& DataExports() override { return *data_exports_; }
    UploadStore& Uploads() override { return *uploads_; }
    PasskeyStore& Passkeys() override { return *passkeys_; }
    MfaStore& Mfa() override { return *mfa_; }
    IdentityStore& Identities() override { return *identities_; }
    SecurityEventStore& SecurityEvents() override { return *security_events_; }
    SigningKeyStore& SigningKeys() override { return *signing_keys_; }
    LeaseStore& Leases() override { return *leases_; }
    ImageTaskStore& ImageTasks() override { return *image_tasks_; }

    // The database under the repositories (copies between stores, snapshots).
    virtual Database& database() = 0;

protected:
    // `clock` may be null: the store then owns a system clock.
    explicit SqlStore(const core::Clock* clock)
        : owned_clock_(clock != nullptr ? nullptr : std::make_unique<core::SystemClock>()),
          clock_(clock != nullptr ? *clock : *owned_clock_) {}

    // Builds every repository over `db` (call once, from the derived constructor).
    void MakeRepositories(Database& db) {
        RepoContext ctx{db, clock_};
        users_ = MakeUserStore(ctx);
        roles_ = MakeRoleStore(ctx);
        sessions_ = MakeSessionStore(ctx);
        conversations_ = MakeConversationStore(ctx);
        messages_ = MakeMessageStore(ctx);
        api_calls_ = MakeApiCallStore(ctx);
        upstream_keys_ = MakeUpstreamKeyStore(ctx);
        api_keys_ = MakeApiKeyStore(ctx);
        images_ = MakeImageStore(ctx);
        audit_ = MakeAuditStore(ctx);
        upstream_tasks_ = MakeUpstreamTaskStore(ctx);
        data_exports_ = MakeDataExportStore(ctx);
        uploads_ = MakeUploadStore(ctx);
        passkeys_ = MakePasskeyStore(ctx);
        mfa_ = MakeMfaStore(ctx);
        identities_ = MakeIdentityStore(ctx);
        security_events_ = MakeSecurityEventStore(ctx);
        signing_keys_ = MakeSigningKeyStore(ctx);
        leases_ = MakeLeaseStore(ctx);
        image_tasks_ = MakeImageTaskStore(ctx);
    }

    const core::Clock& clock() const { return clock_; }

private:
    std::unique_ptr<core::Clock> owned_clock_;
    const core::Clock& clock_;
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
    std::unique_ptr<DataExportStore> data_exports_;
    std::unique_ptr<UploadStore> uploads_;
    std::unique_ptr<PasskeyStore> passkeys_;
    std::unique_ptr<MfaStore> mfa_;
    std::unique_ptr<IdentityStore> identities_;
    std::unique_ptr<SecurityEventStore> security_events_;
    std::unique_ptr<SigningKeyStore> signing_keys_;
    std::unique_ptr<LeaseStore> leases_;
    std::unique_ptr<ImageTaskStore> image_tasks_;
};

}  // namespace hub::store::sql
