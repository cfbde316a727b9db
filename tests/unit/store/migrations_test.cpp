// Migrations: fresh database, re-run, reopen, failing migration rolled back, newer schema,
// bad paths. The database file is inspected with the sqlite3 C API directly.
#include <sqlite3.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <tuple>
#include <utility>

#include "store/migration.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using testing::TempDir;

// Names of the tables (and virtual tables) in a database file.
std::set<std::string> Tables(const std::string& path) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &st, nullptr);
    std::set<std::string> names;
    while (sqlite3_step(st) == SQLITE_ROW) {
        names.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return names;
}

std::string QueryText(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr) {
        out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

core::Result<std::unique_ptr<Store>> Open(const std::string& path,
                                          std::optional<std::vector<Migration>> migrations = {},
                                          bool migrate_on_open = true) {
    SqliteOptions o;
    o.path = path;
    o.readers = 1;
    o.migrate_on_open = migrate_on_open;
    o.migrations = std::move(migrations);
    return OpenSqliteStore(o);
}

const Migration kOne{1, "0001_one", "CREATE TABLE one (x INTEGER);"};
const Migration kTwo{2, "0002_two",
                     "CREATE TABLE two (y INTEGER);\n-- a comment\nINSERT INTO two VALUES (2);"};
const Migration kBroken{3, "0003_broken",
                        "CREATE TABLE three (z INTEGER);\nINSERT INTO no_such_table VALUES (1);"};

TEST(Migrations, EmbeddedListIsConsistent) {
    const auto& m = sqliteMigrations();
    ASSERT_FALSE(m.empty());
    EXPECT_EQ(m.front().version, 1);
    EXPECT_EQ(m.front().name, "0001_init");
    EXPECT_TRUE(ValidateMigrations(m).ok());
}

TEST(Migrations, ValidateRefusesDisorder) {
    EXPECT_FALSE(ValidateMigrations({kTwo, kOne}).ok());
    EXPECT_FALSE(ValidateMigrations({kOne, kOne}).ok());
    EXPECT_FALSE(ValidateMigrations({Migration{0, "zero", ""}}).ok());
    EXPECT_TRUE(ValidateMigrations({}).ok());
}

TEST(Migrations, ComputeSchemaState) {
    SchemaState s = ComputeSchemaState({kOne, kTwo, kBroken}, {1});
    EXPECT_EQ(s.current, 1);
    EXPECT_EQ(s.latest, 3);
    EXPECT_EQ(s.pending, (std::vector<int>{2, 3}));
    EXPECT_FALSE(s.UpToDate());
    EXPECT_TRUE(ComputeSchemaState({kOne}, {1}).UpToDate());
    EXPECT_FALSE(ComputeSchemaState({kOne}, {1, 2}).UpToDate());  // newer than the binary
}

TEST(Migrations, FreshDatabaseGetsEveryTable) {
    TempDir dir;
    std::string path = dir.File("fresh.db");
    ASSERT_OK_AND_ASSIGN(auto store, Open(path));
    ASSERT_OK_AND_ASSIGN(SchemaState s, store->SchemaStatus());
    EXPECT_EQ(s.current, sqliteMigrations().back().version);
    EXPECT_EQ(s.latest, s.current);
    EXPECT_TRUE(s.pending.empty());
    EXPECT_TRUE(s.UpToDate());

    auto tables = Tables(path);
    for (const char* t :
         {"schema_migrations", "roles", "permissions", "role_permissions", "users", "user_quotas",
          "sessions", "conversations", "messages", "conversations_fts", "messages_fts", "api_calls",
          "upstream_keys", "api_keys", "images", "audit_log"}) {
        EXPECT_TRUE(tables.count(t)) << t;
    }
    EXPECT_EQ(QueryText(path, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(QueryText(path, "SELECT name FROM schema_migrations WHERE version = 1"), "0001_init");
    EXPECT_EQ(store->Dialect(), "sqlite");
    EXPECT_OK(store->Ping());
}

TEST(Migrations, ReRunAndReopenApplyNothing) {
    TempDir dir;
    std::string path = dir.File("rerun.db");
    {
        ASSERT_OK_AND_ASSIGN(auto store, Open(path));
        ASSERT_OK_AND_ASSIGN(std::vector<int> again, store->Migrate());
        EXPECT_TRUE(again.empty());
    }
    ASSERT_OK_AND_ASSIGN(auto reopened, Open(path));
    ASSERT_OK_AND_ASSIGN(std::vector<int> again, reopened->Migrate());
    EXPECT_TRUE(again.empty());
    EXPECT_EQ(QueryText(path, "SELECT count(*) FROM schema_migrations"),
              std::to_string(sqliteMigrations().size()));
    // The seed rows were not inserted twice.
    EXPECT_EQ(QueryText(path, "SELECT count(*) FROM roles"), "3");
}

TEST(Migrations, MigrateCommandReportsWhatItApplied) {
    TempDir dir;
    std::string path = dir.File("cli.db");
    ASSERT_OK_AND_ASSIGN(auto store, Open(path, std::vector<Migration>{kOne, kTwo}, false));
    ASSERT_OK_AND_ASSIGN(SchemaState before, store->SchemaStatus());
    EXPECT_EQ(before.current, 0);
    EXPECT_EQ(before.pending, (std::vector<int>{1, 2}));
    ASSERT_OK_AND_ASSIGN(std::vector<int> applied, store->Migrate());
    EXPECT_EQ(applied, (std::vector<int>{1, 2}));
    ASSERT_OK_AND_ASSIGN(SchemaState after, store->SchemaStatus());
    EXPECT_EQ(after.current, 2);
    EXPECT_TRUE(after.UpToDate());
    EXPECT_EQ(QueryText(path, "SELECT y FROM two"), "2");
}

TEST(Migrations, AppliesOnlyWhatIsPending) {
    TempDir dir;
    std::string path = dir.File("pending.db");
    { ASSERT_OK_AND_ASSIGN(auto store, Open(path, std::vector<Migration>{kOne})); }
    ASSERT_OK_AND_ASSIGN(auto store, Open(path, std::vector<Migration>{kOne, kTwo}, false));
    ASSERT_OK_AND_ASSIGN(std::vector<int> applied, store->Migrate());
    EXPECT_EQ(applied, (std::vector<int>{2}));
}

TEST(Migrations, FailureOnFreshDatabaseLeavesItEmpty) {
    TempDir dir;
    std::string path = dir.File("broken.db");
    auto r = Open(path, std::vector<Migration>{kOne, kTwo, kBroken});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, core::ErrorCode::kInternal);
    EXPECT_EQ(r.error().api_code, "migration_failed");
    EXPECT_NE(r.error().detail.find("0003_broken"), std::string::npos) << r.error().detail;
    EXPECT_NE(r.error().detail.find("no_such_table"), std::string::npos) << r.error().detail;
    // Nothing of the run survived, not even the version table.
    EXPECT_TRUE(Tables(path).empty());
}

TEST(Migrations, FailureLeavesAnExistingDatabaseAsItWas) {
    TempDir dir;
    std::string path = dir.File("partial.db");
    { ASSERT_OK_AND_ASSIGN(auto store, Open(path, std::vector<Migration>{kOne})); }
    auto before = Tables(path);

    ASSERT_OK_AND_ASSIGN(auto store,
                         Open(path, std::vector<Migration>{kOne, kTwo, kBroken}, false));
    auto r = store->Migrate();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "migration_failed");
    EXPECT_EQ(Tables(path), before);  // no "two", no "three"
    ASSERT_OK_AND_ASSIGN(SchemaState s, store->SchemaStatus());
    EXPECT_EQ(s.current, 1);
    EXPECT_EQ(s.pending, (std::vector<int>{2, 3}));

    // The store is still usable, and a fixed list then applies.
    ASSERT_OK_AND_ASSIGN(auto fixed, Open(path, std::vector<Migration>{kOne, kTwo}));
    ASSERT_OK_AND_ASSIGN(SchemaState now, fixed->SchemaStatus());
    EXPECT_EQ(now.current, 2);
}

TEST(Migrations, RefusesADatabaseNewerThanTheBinary) {
    TempDir dir;
    std::string path = dir.File("newer.db");
    { ASSERT_OK_AND_ASSIGN(auto store, Open(path, std::vector<Migration>{kOne, kTwo})); }
    auto r = Open(path, std::vector<Migration>{kOne});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, core::ErrorCode::kUnavailable);
    EXPECT_EQ(r.error().api_code, "schema_too_new");

    ASSERT_OK_AND_ASSIGN(auto store, Open(path, std::vector<Migration>{kOne}, false));
    ASSERT_OK_AND_ASSIGN(SchemaState s, store->SchemaStatus());
    EXPECT_EQ(s.current, 2);
    EXPECT_EQ(s.latest, 1);
    EXPECT_FALSE(s.UpToDate());
}

TEST(Migrations, BadPathsGiveClearErrors) {
    TempDir dir;
    auto missing_dir = Open(dir.File("no/such/dir/hub.db"));
    ASSERT_FALSE(missing_dir.ok());
    EXPECT_EQ(missing_dir.error().code, core::ErrorCode::kUnavailable);
    EXPECT_EQ(missing_dir.error().api_code, "database_unavailable");
    EXPECT_NE(missing_dir.error().detail.find("no/such/dir/hub.db"), std::string::npos)
        << missing_dir.error().detail;

    std::string junk = dir.File("junk.db");
    std::ofstream(junk) << "this is not a database, just some text that is long enough";
    auto not_db = Open(junk);
    ASSERT_FALSE(not_db.ok());
    EXPECT_EQ(not_db.error().code, core::ErrorCode::kUnavailable);

    auto empty = Open("");
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().code, core::ErrorCode::kInvalidArgument);
}

// The SQLite migrations up to `version`: a database as an older hub left it.
std::vector<Migration> MigrationsUpTo(int version) {
    std::vector<Migration> out;
    for (const Migration& m : sqliteMigrations()) {
        if (m.version <= version) out.push_back(m);
    }
    return out;
}

// A user and a conversation of theirs in a database at an older schema: {user id, conversation id}.
core::Result<std::pair<std::string, std::string>> LegacyConversation(Store& old) {
    User u;
    u.username = "legacy";
    u.email = "legacy@example.com";
    u.password_hash = "$2b$12$hash";
    u.role = "user";
    auto made = old.Users().Create(u);
    if (!made.ok()) return made.error();
    Conversation c;
    c.user_id = made->id;
    c.title = "Legacy";
    auto conv = old.Conversations().Create(c);
    if (!conv.ok()) return conv.error();
    return std::make_pair(made->id, conv->id);
}

// 0015 moved message indexing to a queue. A database whose messages the old triggers indexed
// keeps finding them, and deleting one of them keeps the index in step.
TEST(Migrations, SearchQueueKeepsWhatTheOldTriggersIndexed) {
    TempDir dir;
    const std::string path = dir.File("hub.db");
    std::vector<Migration> before = MigrationsUpTo(14);
    ASSERT_EQ(before.back().version, 14);
    std::string user_id, conversation_id, kept_id;
    {
        ASSERT_OK_AND_ASSIGN(auto old, Open(path, before));
        ASSERT_OK_AND_ASSIGN(std::tie(user_id, conversation_id), LegacyConversation(*old));
        for (const char* text : {"indexed long ago", "another old message"}) {
            Message m;
            m.conversation_id = conversation_id;
            m.role = MessageRole::kUser;
            m.content = text;
            ASSERT_OK_AND_ASSIGN(Message saved, old->Messages().Append(user_id, m));
            kept_id = saved.id;
        }
    }
    ASSERT_OK_AND_ASSIGN(auto store, Open(path));
    EXPECT_EQ(QueryText(path, "SELECT count(*) FROM messages_fts_pending"), "0");
    ConversationQuery q;
    q.q = "long ago";
    ASSERT_OK_AND_ASSIGN(auto found, store->Conversations().List(user_id, q));
    ASSERT_EQ(found.items.size(), 1u);
    EXPECT_EQ(found.items[0].id, conversation_id);
    MessagePatch edit;  // an edit of a message the old triggers indexed
    edit.content = "rewritten";
    ASSERT_OK(store->Messages().Update(user_id, kept_id, edit));
    ASSERT_OK_AND_ASSIGN(std::size_t n, store->IndexSearch(10));
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(QueryText(path,
                        "SELECT count(*) FROM messages_fts('\"old message\"')"),
              "0");
    EXPECT_EQ(QueryText(path, "SELECT count(*) FROM messages_fts('rewritten')"), "1");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db,
                           "INSERT INTO messages_fts (messages_fts, rank)"
                           " VALUES ('integrity-check', 1)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
}

// Column `column` of every row of `sql`, joined by "; " (a statement that does not prepare
// fails the test).
std::string QueryColumn(const std::string& path, const std::string& sql, int column) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
        ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
        if (!out.empty()) out += "; ";
        out += reinterpret_cast<const char*>(sqlite3_column_text(st, column));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

// The plan SQLite chooses for a statement, its lines joined by "; ".
std::string QueryPlan(const std::string& path, const std::string& sql) {
    return QueryColumn(path, "EXPLAIN QUERY PLAN " + sql, 3);
}

// 0016 folded the list's two indexes into the statistics indexes. A database at 15 keeps its
// calls, listed newest first (ties by id) across pages; an insert updates two indexes besides
// the primary key; the list and the statistics read the index in order, never sorting.
TEST(Migrations, ApiCallsListFromTheStatisticsIndexes) {
    TempDir dir;
    const std::string path = dir.File("hub.db");
    std::vector<Migration> before = MigrationsUpTo(15);
    ASSERT_EQ(before.back().version, 15);
    std::vector<std::string> ids, u1_ids;  // newest first
    {
        ASSERT_OK_AND_ASSIGN(auto old, Open(path, before));
        std::vector<ApiCall> calls;
        for (int i = 0; i < 7; ++i) {
            ApiCall c;
            c.user_id = i % 2 == 0 ? "u1" : "u2";
            c.endpoint = "chat";
            c.model = "qwen-plus";
            c.status_code = 200;
            c.created_at = 1000 + i / 2 * 10;  // pairs share a millisecond
            calls.push_back(c);
        }
        ASSERT_OK_AND_ASSIGN(auto stored, old->ApiCalls().InsertBatch(calls));
        std::sort(stored.begin(), stored.end(), [](const ApiCall& a, const ApiCall& b) {
            return std::tie(a.created_at, a.id) > std::tie(b.created_at, b.id);
        });
        for (const auto& c : stored) {
            ids.push_back(c.id);
            if (c.user_id == "u1") u1_ids.push_back(c.id);
        }
    }
    ASSERT_OK_AND_ASSIGN(auto store, Open(path));
    auto listed = [&](ApiCallFilter f) {
        std::vector<std::string> out;
        PageRequest page;
        page.limit = 2;
        while (true) {
            auto r = store->ApiCalls().List(f, page);
            EXPECT_TRUE(r.ok());
            if (!r.ok()) break;
            for (const auto& c : r->items) out.push_back(c.id);
            if (!r->next_cursor) break;
            page.cursor = *r->next_cursor;
        }
        return out;
    };
    EXPECT_EQ(listed({}), ids);
    ApiCallFilter u1;
    u1.user_id = "u1";
    EXPECT_EQ(listed(u1), u1_ids);

    EXPECT_EQ(QueryText(path,
                        "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master"
                        " WHERE type = 'index' AND tbl_name = 'api_calls' AND sql IS NOT NULL"
                        " ORDER BY name)"),
              "api_calls_stats_idx,api_calls_user_stats_idx");
    const std::string cursor =
        " AND (created_at < 1020 OR (created_at = 1020 AND id < 'x'))"
        " ORDER BY created_at DESC, id DESC LIMIT 3";
    std::string plan = QueryPlan(path, "SELECT * FROM api_calls WHERE user_id = 'u1'" + cursor);
    EXPECT_NE(plan.find("USING INDEX api_calls_user_stats_idx"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
    plan = QueryPlan(path, "SELECT * FROM api_calls WHERE 1" + cursor);
    EXPECT_NE(plan.find("USING INDEX api_calls_stats_idx"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
    plan = QueryPlan(path,
                     "SELECT created_at, model, input_tokens, output_tokens, image_count,"
                     " cost_micro_cny, latency_ms, status_code, error_code, user_id,"
                     " coalesce(api_key_id, '') FROM api_calls WHERE user_id = 'u1'"
                     " AND created_at >= 0 ORDER BY created_at");
    EXPECT_NE(plan.find("USING COVERING INDEX api_calls_user_stats_idx"), std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

// Runs one statement on the database file (foreign keys on, as the hub's connections); its
// error message, or "" on success.
std::string Exec(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "PRAGMA foreign_keys = ON", nullptr, nullptr, nullptr);
    char* err = nullptr;
    std::string out;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) out = err ? err : "?";
    sqlite3_free(err);
    sqlite3_close(db);
    return out;
}

// 0017 rebuilt messages so that its CHECKs are comparisons (an IN list of three values or more
// filled a temporary B-tree on every insert). A database at 16 keeps every message with its
// seq (what the search index points at) and its parent; search finds indexed and queued
// messages alike and the index stays consistent; the constraints and the triggers still work.
TEST(Migrations, MessagesRebuiltWithCheapChecks) {
    TempDir dir;
    const std::string path = dir.File("hub.db");
    std::vector<Migration> before = MigrationsUpTo(16);
    ASSERT_EQ(before.back().version, 16);
    std::string user_id, conversation_id;
    std::vector<Message> kept;
    {
        ASSERT_OK_AND_ASSIGN(auto old, Open(path, before));
        ASSERT_OK_AND_ASSIGN(std::tie(user_id, conversation_id), LegacyConversation(*old));
        const char* texts[] = {"a lighthouse at dawn", "the lighthouse keeper answers",
                               "a queued question"};
        for (int i = 0; i < 3; ++i) {
            Message m;
            m.conversation_id = conversation_id;
            m.role = i == 1 ? MessageRole::kAssistant : MessageRole::kUser;
            m.status = i == 1 ? MessageStatus::kInterrupted : MessageStatus::kComplete;
            m.content = texts[i];
            if (!kept.empty()) m.parent_id = kept.back().id;
            ASSERT_OK_AND_ASSIGN(Message saved, old->Messages().Append(user_id, m));
            kept.push_back(saved);
            if (i == 1) {
                ASSERT_OK_AND_ASSIGN(std::size_t n, old->IndexSearch(10));  // two indexed
                EXPECT_EQ(n, 2u);
            }
        }
    }
    const char* kRows =
        "SELECT group_concat(seq || ':' || id || ':' || coalesce(parent_id, '-'))"
        " FROM (SELECT * FROM messages ORDER BY seq)";
    const std::string rows_before = QueryText(path, kRows);
    ASSERT_OK_AND_ASSIGN(auto store, Open(path));
    EXPECT_EQ(QueryText(path, kRows), rows_before);
    ASSERT_OK_AND_ASSIGN(auto listed, store->Messages().List(user_id, conversation_id, {}));
    ASSERT_EQ(listed.items.size(), 3u);
    for (const Message& m : listed.items) {
        auto it = std::find_if(kept.begin(), kept.end(), [&](const Message& k) { return k.id == m.id; });
        ASSERT_NE(it, kept.end());
        EXPECT_EQ(m.content, it->content);
        EXPECT_EQ(m.status, it->status);
        EXPECT_EQ(m.parent_id, it->parent_id);
    }
    EXPECT_EQ(QueryText(path, "SELECT count(*) FROM messages_fts_pending"), "1");
    for (const char* q : {"lighthouse", "queued"}) {
        ConversationQuery cq;
        cq.q = q;
        ASSERT_OK_AND_ASSIGN(auto found, store->Conversations().List(user_id, cq));
        EXPECT_EQ(found.items.size(), 1u) << q;
    }
    EXPECT_EQ(Exec(path, "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 0)"), "");
    EXPECT_EQ(Exec(path, "PRAGMA foreign_key_check"), "");
    // The checks still refuse what they refused, and cost no temporary table any more.
    EXPECT_NE(Exec(path, "INSERT INTO messages (id, conversation_id, role, content, created_at)"
                         " VALUES ('bad', '" + conversation_id + "', 'robot', 'x', 9)"),
              "");
    EXPECT_NE(Exec(path, "UPDATE messages SET status = 'lost' WHERE id = '" + kept[0].id + "'"), "");
    EXPECT_EQ(QueryText(path, "SELECT count(*) FROM messages WHERE role = 'robot'"), "0");
    const std::string opcodes = QueryColumn(
        path,
        "EXPLAIN INSERT INTO messages (id, conversation_id, role, content, status, created_at)"
        " VALUES ('m', 'c', 'user', 'x', 'complete', 1)",
        1);
    EXPECT_NE(opcodes.find("Insert"), std::string::npos) << opcodes;
    EXPECT_EQ(opcodes.find("OpenEphemeral"), std::string::npos) << opcodes;
    // The triggers and the parent link work on the new table: a new message is queued; deleting
    // an indexed message takes it out of the index and unlinks its child.
    Message more;
    more.conversation_id = conversation_id;
    more.role = MessageRole::kUser;
    more.content = "after the upgrade";
    ASSERT_OK(store->Messages().Append(user_id, more));
    EXPECT_EQ(QueryText(path, "SELECT count(*) FROM messages_fts_pending"), "2");
    EXPECT_EQ(Exec(path, "DELETE FROM messages WHERE id = '" + kept[0].id + "'"), "");
    const std::string parent_of_second =
        "SELECT coalesce(parent_id, 'none') FROM messages WHERE id = '" + kept[1].id + "'";
    EXPECT_EQ(QueryText(path, parent_of_second.c_str()), "none");
    EXPECT_EQ(QueryText(path, "SELECT count(*) FROM messages_fts('dawn')"), "0");
    ASSERT_OK_AND_ASSIGN(std::size_t n, store->IndexSearch(10));
    EXPECT_EQ(n, 2u);
    EXPECT_EQ(Exec(path, "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)"), "");
    // Deleting the conversation takes its messages along (ON DELETE CASCADE).
    EXPECT_EQ(Exec(path, "DELETE FROM conversations WHERE id = '" + conversation_id + "'"), "");
    EXPECT_EQ(QueryText(path, "SELECT count(*) FROM messages"), "0");
}

TEST(Migrations, InMemoryDatabaseWorks) {
    ASSERT_OK_AND_ASSIGN(auto store, Open(":memory:"));
    ASSERT_OK_AND_ASSIGN(SchemaState s, store->SchemaStatus());
    EXPECT_TRUE(s.UpToDate());
    EXPECT_OK(store->Ping());
    ASSERT_OK_AND_ASSIGN(auto perms, store->Roles().PermissionsOf("user"));
    EXPECT_EQ(perms.size(), 7u);
}

}  // namespace
}  // namespace hub::store
