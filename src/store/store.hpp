#pragma once
// The storage layer seen from above: one Store giving every repository, plus schema
// management. Implementations (sqlite/, later mysql/) are chosen by app/ only.
//
// Every method is synchronous and may block on disk or network: call it from the db worker
// pool (async::Offload), never from an io thread. Expected failures come back as values:
// kNotFound (missing or not the caller's), kConflict (uniqueness, lost races),
// kInvalidArgument (bad cursor "invalid_cursor", CHECK/NOT NULL "validation_failed"),
// kUnprocessable ("invalid_reference": a referenced row does not exist), kUnavailable
// (database busy or unreachable), kInternal (anything else; the detail names the database
// error). Lists are keyset-paginated with the one cursor codec of store/cursor.hpp.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/api_calls.hpp"
#include "store/api_keys.hpp"
#include "store/audit_log.hpp"
#include "store/conversations.hpp"
#include "store/data_exports.hpp"
#include "store/identities.hpp"
#include "store/image_tasks.hpp"
#include "store/images.hpp"
#include "store/leases.hpp"
#include "store/messages.hpp"
#include "store/mfa.hpp"
#include "store/migration.hpp"
#include "store/passkeys.hpp"
#include "store/roles.hpp"
#include "store/security_events.hpp"
#include "store/sessions.hpp"
#include "store/signing_keys.hpp"
#include "store/snapshot.hpp"
#include "store/upstream_keys.hpp"
#include "store/upstream_tasks.hpp"
#include "store/uploads.hpp"
#include "store/users.hpp"

namespace hub::store {

// The read replica of a store that has one (/readyz, /metrics).
struct ReplicaState {
    bool configured = false;
    bool healthy = false;             // heavy reads go to it
    std::int64_t lag_ms = -1;         // -1: unknown
    std::string reason;               // why it is skipped, while it is
    std::uint64_t reads_replica = 0;  // heavy reads it served
    std::uint64_t reads_primary = 0;  // heavy reads the primary served instead
};

class Store {
public:
    virtual ~Store() = default;

    virtual UserStore& Users() = 0;
    virtual RoleStore& Roles() = 0;
    virtual SessionStore& Sessions() = 0;
    virtual ConversationStore& Conversations() = 0;
    virtual MessageStore& Messages() = 0;
    virtual ApiCallStore& ApiCalls() = 0;
    virtual UpstreamKeyStore& UpstreamKeys() = 0;
    virtual ApiKeyStore& ApiKeys() = 0;
    virtual ImageStore& Images() = 0;
    virtual AuditStore& Audit() = 0;
    virtual UpstreamTaskStore& UpstreamTasks() = 0;
    virtual DataExportStore& DataExports() = 0;
    virtual UploadStore& Uploads() = 0;
    virtual PasskeyStore& Passkeys() = 0;
    virtual MfaStore& Mfa() = 0;
    virtual IdentityStore& Identities() = 0;  // single sign-on (OIDC)
    virtual SecurityEventStore& SecurityEvents() = 0;
    virtual SigningKeyStore& SigningKeys() = 0;  // the JWT key ring, sealed
    virtual LeaseStore& Leases() = 0;            // work that runs on one hub at a time
    virtual ImageTaskStore& ImageTasks() = 0;    // image generations settled exactly once

    // A cheap round trip to the database (/readyz).
    virtual core::Result<void> Ping() = 0;
    // Applies every pending migration in one transaction; returns the versions applied now
    // (empty when up to date). On failure nothing is applied.
    virtual core::Result<std::vector<int>> Migrate() = 0;
    virtual core::Result<SchemaState> SchemaStatus() = 0;
    // Writes one consistent snapshot of the whole database into a new file at `path` while
    // the store keeps serving (backups), and describes it (schema version, rows per table,
    // counted in the snapshot itself).
    virtual core::Result<SnapshotInfo> WriteSnapshot(const std::string& path) = 0;
    virtual std::string_view Dialect() const = 0;  // "sqlite", "mysql"
    virtual ReplicaState Replica() const { return {}; }
    // Moves up to `max_rows` of the messages written since the last call (the oldest first)
    // into the search index, in one transaction (on the process's write lane when there is one:
    // blocks, so call it from a pool thread); returns how many. Search finds a message before it
    // is indexed too (more slowly): this keeps the unindexed tail short. A dialect whose index
    // keeps itself up to date (MySQL's FULLTEXT) has nothing to do.
    virtual core::Result<std::size_t> IndexSearch(std::size_t max_rows) {
        (void)max_rows;
        return std::size_t{0};
    }
};

}  // namespace hub::store
