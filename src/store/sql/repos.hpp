#pragma once
// Internal to the stores: the repositories, written once for every dialect against
// store/sql/db.hpp, their factories and the helpers they share.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/sql/db.hpp"
#include "store/store.hpp"

namespace hub::store::sql {

struct RepoContext {
    Database& db;
    const core::Clock& clock;
    bool mysql() const { return db.dialect() == Dialect::kMysql; }
};

std::unique_ptr<UserStore> MakeUserStore(RepoContext ctx);
std::unique_ptr<RoleStore> MakeRoleStore(RepoContext ctx);
std::unique_ptr<SessionStore> MakeSessionStore(RepoContext ctx);
std::unique_ptr<ConversationStore> MakeConversationStore(RepoContext ctx);
std::unique_ptr<MessageStore> MakeMessageStore(RepoContext ctx);
std::unique_ptr<ApiCallStore> MakeApiCallStore(RepoContext ctx);
std::unique_ptr<UpstreamKeyStore> MakeUpstreamKeyStore(RepoContext ctx);
std::unique_ptr<ApiKeyStore> MakeApiKeyStore(RepoContext ctx);
std::unique_ptr<ImageStore> MakeImageStore(RepoContext ctx);
std::unique_ptr<AuditStore> MakeAuditStore(RepoContext ctx);
std::unique_ptr<UpstreamTaskStore> MakeUpstreamTaskStore(RepoContext ctx);
std::unique_ptr<DataExportStore> MakeDataExportStore(RepoContext ctx);
std::unique_ptr<UploadStore> MakeUploadStore(RepoContext ctx);
std::unique_ptr<PasskeyStore> MakePasskeyStore(RepoContext ctx);
std::unique_ptr<MfaStore> MakeMfaStore(RepoContext ctx);
std::unique_ptr<IdentityStore> MakeIdentityStore(RepoContext ctx);
std::unique_ptr<SecurityEventStore> MakeSecurityEventStore(RepoContext ctx);
std::unique_ptr<SigningKeyStore> MakeSigningKeyStore(RepoContext ctx);

// Writes and reads several repositories share inside one transaction (on the caller's `c`).
// Inserts one api_calls row (image settlement, a chat turn's answer).
core::Result<void> InsertApiCallOn(Connection& c, const ApiCall& call);
// The user's conversation, kNotFound "conversation_not_found" when missing, foreign or deleted.
core::Result<Conversation> GetConversationOn(Connection& c, std::string_view user_id,
                                             std::string_view id);

// Every row of a query, each read by `read(stmt)`.
template <class T, class R>
core::Result<std::vector<T>> QueryRows(Connection& c, const std::string& sql,
                                       const std::vector<Param>& params, R read) {
    HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
    st.BindParams(params);
    std::vector<T> rows;
    while (true) {
        HUB_SQL_ASSIGN(bool row, st.Step());
        if (!row) break;
        rows.push_back(read(st));
    }
    return rows;
}

// "<insert> ON CONFLICT (<key>) DO UPDATE SET <set>" in the dialect, where `set` names the
// proposed row's values excluded.<column> (MySQL: ON DUPLICATE KEY UPDATE ... VALUES(<column>);
// there the conflict is on any unique key, so `key` must be the table's only one).
std::string Upsert(bool mysql, std::string_view insert, std::string_view key, std::string_view set);

// The versions recorded in schema_migrations, in order (the table must exist).
core::Result<std::vector<int>> RecordedVersions(Connection& c);

// Fills an empty id with a UUIDv7 of `at_ms` and a zero time with `now_ms`.
void FillId(std::string& id, std::int64_t at_ms);
void FillTime(std::int64_t& t, std::int64_t now_ms);

// "%text%" for LIKE ... ESCAPE '\', with %, _ and \ in `text` matched literally.
std::string LikePattern(std::string_view text);

// Adds "<columns> < (?, ..., ?)" for a keyset cursor with `key_count` integer keys plus the
// id (all sort columns descending). A no-op for an empty cursor.
core::Result<void> AddCursorBefore(Where& where, std::string_view columns, std::string_view kind,
                                   const std::string& cursor, std::size_t key_count);

}  // namespace hub::store::sql
