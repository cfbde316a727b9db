#include <sqlite3.h>

#include "store/sql/sql_store.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class ConversationsTest : public testing::DialectStoreTest {
protected:
    void SetUp() override {
        DialectStoreTest::SetUp();
        owner_ = NewUser("owner");
        other_ = NewUser("other");
    }

    Conversation NewConversation(const std::string& title, const std::string& user_id = {}) {
        Conversation c;
        c.user_id = user_id.empty() ? owner_.id : user_id;
        c.title = title;
        c.model = "qwen-plus";
        auto r = store().Conversations().Create(c);
        EXPECT_TRUE(r.ok()) << r.error().detail;
        Advance(10);
        return r.ok() ? r.value() : Conversation{};
    }

    Message Say(const Conversation& c, const std::string& text,
                MessageRole role = MessageRole::kUser) {
        Message m;
        m.conversation_id = c.id;
        m.role = role;
        m.content = text;
        auto r = store().Messages().Append(c.user_id, m);
        EXPECT_TRUE(r.ok()) << r.error().detail;
        return r.ok() ? r.value() : Message{};
    }

    std::vector<std::string> Titles(const ConversationQuery& q) {
        std::vector<std::string> titles;
        auto r = store().Conversations().List(owner_.id, q);
        EXPECT_TRUE(r.ok()) << r.error().detail;
        if (r.ok()) {
            for (const auto& c : r.value().items) titles.push_back(c.title);
        }
        return titles;
    }

    std::vector<std::string> Search(const std::string& text) {
        ConversationQuery q;
        q.q = text;
        return Titles(q);
    }

    // Runs FTS5's own consistency checks (SQLite; MySQL searches the tables themselves and has
    // no index to keep in step): the index in itself, and, when no message waits for it, the
    // index against its tables (a queued message is not in the index yet, by design).
    void ExpectFtsInSync() {
        if (mysql()) return;
        const bool all_indexed = Queued() == 0;
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(dir_.File("hub.db").c_str(), &db), SQLITE_OK);
        std::vector<const char*> checks = {
            "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 0)",
            "INSERT INTO conversations_fts (conversations_fts, rank) VALUES ('integrity-check', 1)"};
        if (all_indexed) {
            checks.push_back(
                "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)");
        }
        for (const char* sql : checks) {
            EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK)
                << sql << ": " << sqlite3_errmsg(db);
        }
        sqlite3_close(db);
    }

    // Messages waiting for the search index (SQLite; MySQL has no queue).
    std::int64_t Queued() {
        auto& db = dynamic_cast<sql::SqlStore&>(store()).database();
        auto n = db.Read([](sql::Connection& c) -> core::Result<std::int64_t> {
            HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("SELECT count(*) FROM messages_fts_pending"));
            HUB_SQL_ASSIGN(bool row, st.Step());
            return row ? st.Int(0) : 0;
        });
        EXPECT_TRUE(n.ok()) << n.error().detail;
        return n.ok() ? n.value() : -1;
    }

    void ExpectQueued(std::int64_t n) {
        if (mysql()) return;
        EXPECT_EQ(Queued(), n);
    }

    // What the hub's background job does: indexes until nothing is left.
    void IndexAll() {
        while (true) {
            auto n = store().IndexSearch(100);
            ASSERT_TRUE(n.ok()) << n.error().detail;
            if (n.value() == 0) return;
        }
    }

    void HardDeleteConversation(const Conversation& c) {
        auto& db = dynamic_cast<sql::SqlStore&>(store()).database();
        ASSERT_OK(db.Write([&](sql::Connection& conn) -> core::Result<void> {
            HUB_SQL_ASSIGN(sql::Stmt st, conn.Prepare("DELETE FROM conversations WHERE id = ?1"));
            return st.BindAll(c.id).Run();
        }));
    }

    User owner_;
    User other_;
};

TEST_P(ConversationsTest, CreateAndGetChecksTheOwner) {
    Conversation c = NewConversation("First");
    EXPECT_FALSE(c.id.empty());
    EXPECT_EQ(c.created_at, testing::kT0);
    ASSERT_OK_AND_ASSIGN(Conversation got, store().Conversations().Get(owner_.id, c.id));
    EXPECT_EQ(got.title, "First");
    EXPECT_EQ(got.model, "qwen-plus");
    EXPECT_FALSE(got.pinned);
    EXPECT_ERROR(store().Conversations().Get(other_.id, c.id), ErrorCode::kNotFound,
                 "conversation_not_found");
}

TEST_P(ConversationsTest, UpdateAndSetTitleIfEmpty) {
    Conversation c = NewConversation("");
    ConversationPatch p;
    p.title = "Renamed";
    p.pinned = true;
    p.system_prompt = "Be brief.";
    ASSERT_OK_AND_ASSIGN(Conversation up, store().Conversations().Update(owner_.id, c.id, p));
    EXPECT_EQ(up.title, "Renamed");
    EXPECT_TRUE(up.pinned);
    EXPECT_FALSE(up.archived);
    EXPECT_EQ(up.system_prompt, "Be brief.");
    EXPECT_EQ(up.model, "qwen-plus");
    EXPECT_GT(up.updated_at, c.updated_at);
    EXPECT_ERROR(store().Conversations().Update(other_.id, c.id, p), ErrorCode::kNotFound,
                 "conversation_not_found");

    Conversation untitled = NewConversation("");
    ASSERT_OK_AND_ASSIGN(
        bool set, store().Conversations().SetTitleIfEmpty(owner_.id, untitled.id, "About cats"));
    EXPECT_TRUE(set);
    ASSERT_OK_AND_ASSIGN(bool again,
                         store().Conversations().SetTitleIfEmpty(owner_.id, untitled.id, "Other"));
    EXPECT_FALSE(again);
    EXPECT_EQ(store().Conversations().Get(owner_.id, untitled.id).value().title, "About cats");
    EXPECT_ERROR(store().Conversations().SetTitleIfEmpty(other_.id, untitled.id, "x"),
                 ErrorCode::kNotFound, "conversation_not_found");
}

TEST_P(ConversationsTest, ListPinnedFirstThenRecentWithCursor) {
    Conversation a = NewConversation("a");
    Conversation b = NewConversation("b");
    Conversation c = NewConversation("c");
    Conversation d = NewConversation("d");
    NewConversation("foreign", other_.id);
    ConversationPatch pin;
    pin.pinned = true;
    ASSERT_OK(store().Conversations().Update(owner_.id, a.id, pin));
    Advance(10);
    Say(b, "new activity moves b up");

    ConversationQuery q;
    EXPECT_EQ(Titles(q), (std::vector<std::string>{"a", "b", "d", "c"}));

    q.page.limit = 1;
    std::vector<std::string> paged;
    while (true) {
        ASSERT_OK_AND_ASSIGN(auto page, store().Conversations().List(owner_.id, q));
        for (const auto& x : page.items) paged.push_back(x.title);
        if (!page.next_cursor) break;
        q.page.cursor = *page.next_cursor;
    }
    EXPECT_EQ(paged, (std::vector<std::string>{"a", "b", "d", "c"}));
}

TEST_P(ConversationsTest, ArchivedHiddenUnlessAskedAndDeletedHiddenEverywhere) {
    Conversation keep = NewConversation("keep");
    Conversation archived = NewConversation("archived");
    Conversation gone = NewConversation("gone");
    Message m = Say(gone, "secret words");
    ConversationPatch arch;
    arch.archived = true;
    ASSERT_OK(store().Conversations().Update(owner_.id, archived.id, arch));

    EXPECT_EQ(Titles({}), (std::vector<std::string>{"gone", "keep"}));
    ConversationQuery all;
    all.include_archived = true;
    EXPECT_EQ(Titles(all), (std::vector<std::string>{"gone", "archived", "keep"}));

    EXPECT_ERROR(store().Conversations().SoftDelete(other_.id, gone.id), ErrorCode::kNotFound,
                 "conversation_not_found");
    ASSERT_OK(store().Conversations().SoftDelete(owner_.id, gone.id));
    EXPECT_ERROR(store().Conversations().SoftDelete(owner_.id, gone.id), ErrorCode::kNotFound,
                 "conversation_not_found");
    EXPECT_EQ(Titles(all), (std::vector<std::string>{"archived", "keep"}));
    EXPECT_ERROR(store().Conversations().Get(owner_.id, gone.id), ErrorCode::kNotFound,
                 "conversation_not_found");
    EXPECT_TRUE(Search("secret").empty());
    // Its messages are gone too.
    EXPECT_ERROR(store().Messages().Get(owner_.id, m.id), ErrorCode::kNotFound,
                 "message_not_found");
    EXPECT_ERROR(store().Messages().List(owner_.id, gone.id, {}), ErrorCode::kNotFound,
                 "conversation_not_found");
    Message late;
    late.conversation_id = gone.id;
    late.content = "too late";
    EXPECT_ERROR(store().Messages().Append(owner_.id, late), ErrorCode::kNotFound,
                 "conversation_not_found");
    MessagePatch edit;
    edit.content = "x";
    EXPECT_ERROR(store().Messages().Update(owner_.id, m.id, edit), ErrorCode::kNotFound,
                 "message_not_found");
}

TEST_P(ConversationsTest, SearchCoversTitlesAndMessageText) {
    Conversation trip = NewConversation("Trip to Hangzhou");
    Conversation code = NewConversation("Code review");
    Conversation zh = NewConversation("中文对话");
    Say(code, "Please explain the borrow checker");
    Say(code, "It tracks lifetimes", MessageRole::kAssistant);
    Say(zh, "今天杭州的天气怎么样");
    Say(trip, "What about West Lake?");
    NewConversation("Hangzhou for someone else", other_.id);

    EXPECT_EQ(Search("hangzhou"), (std::vector<std::string>{"Trip to Hangzhou"}));
    EXPECT_EQ(Search("BORROW"), (std::vector<std::string>{"Code review"}));
    EXPECT_EQ(Search("杭州的天气"), (std::vector<std::string>{"中文对话"}));
    EXPECT_EQ(Search("天气"), (std::vector<std::string>{"中文对话"}));  // short: LIKE
    EXPECT_EQ(Search("中文"), (std::vector<std::string>{"中文对话"}));
    // Every word must appear somewhere in the conversation (title or any message).
    EXPECT_EQ(Search("review lifetimes"), (std::vector<std::string>{"Code review"}));
    EXPECT_TRUE(Search("review hangzhou").empty());
    EXPECT_TRUE(Search("nothing-like-this").empty());
    // Query syntax in the input is taken literally, never an error.
    for (const char* odd : {"\"", "a OR b", "NEAR(x y)", "*", "col:x", "50%", "'; DROP"}) {
        ConversationQuery q;
        q.q = odd;
        EXPECT_OK(store().Conversations().List(owner_.id, q));
    }
    EXPECT_TRUE(Search("50%").empty());
}

TEST_P(ConversationsTest, SearchFollowsEditsOfTitlesAndMessages) {
    Conversation c = NewConversation("Old title");
    Message m = Say(c, "streaming...");
    ConversationPatch p;
    p.title = "Fresh name";
    ASSERT_OK(store().Conversations().Update(owner_.id, c.id, p));
    MessagePatch mp;
    mp.content = "final answer about dumplings";
    ASSERT_OK(store().Messages().Update(owner_.id, m.id, mp));

    EXPECT_TRUE(Search("old title").empty());
    EXPECT_TRUE(Search("streaming").empty());
    EXPECT_EQ(Search("fresh"), (std::vector<std::string>{"Fresh name"}));
    EXPECT_EQ(Search("dumplings"), (std::vector<std::string>{"Fresh name"}));
    ExpectFtsInSync();
    IndexAll();
    EXPECT_TRUE(Search("streaming").empty());
    EXPECT_EQ(Search("dumplings"), (std::vector<std::string>{"Fresh name"}));
    ExpectFtsInSync();
}

// A chat turn only queues its messages for the search index; the hub indexes the queue in
// the background. A search finds a message in either state, and gives the same answers.
TEST_P(ConversationsTest, SearchFindsMessagesBeforeAndAfterTheyAreIndexed) {
    Conversation code = NewConversation("Code review");
    Conversation zh = NewConversation("中文对话");
    Say(code, "Please explain the borrow checker");
    Say(zh, "今天杭州的天气怎么样");
    Conversation mine = NewConversation("Someone else's", other_.id);
    Say(mine, "borrow checker too");
    ExpectQueued(3);
    const std::vector<std::string> code_only{"Code review"}, zh_only{"中文对话"};
    EXPECT_EQ(Search("borrow checker"), code_only);
    EXPECT_EQ(Search("杭州的天气"), zh_only);
    EXPECT_TRUE(Search("checkers").empty());

    IndexAll();
    ExpectQueued(0);
    EXPECT_EQ(Search("borrow checker"), code_only);
    EXPECT_EQ(Search("杭州的天气"), zh_only);
    EXPECT_TRUE(Search("checkers").empty());
    ExpectFtsInSync();

    // Half indexed, half queued: both halves are found.
    Say(code, "and lifetimes");
    EXPECT_EQ(Search("borrow lifetimes"), code_only);
    ExpectFtsInSync();
}

TEST_P(ConversationsTest, IndexingTakesTheOldestQueuedMessagesInBatches) {
    Conversation c = NewConversation("Batches");
    for (int i = 0; i < 7; ++i) Say(c, "message number " + std::to_string(i));
    ASSERT_OK_AND_ASSIGN(std::size_t first, store().IndexSearch(3));
    if (mysql()) {
        EXPECT_EQ(first, 0u);  // FULLTEXT keeps itself up to date
        return;
    }
    EXPECT_EQ(first, 3u);
    EXPECT_EQ(Queued(), 4);
    ASSERT_OK_AND_ASSIGN(std::size_t second, store().IndexSearch(3));
    EXPECT_EQ(second, 3u);
    ASSERT_OK_AND_ASSIGN(std::size_t last, store().IndexSearch(3));
    EXPECT_EQ(last, 1u);
    ASSERT_OK_AND_ASSIGN(std::size_t none, store().IndexSearch(3));
    EXPECT_EQ(none, 0u);
    EXPECT_EQ(Queued(), 0);
    // The oldest went first: the newest message was the last one indexed.
    ExpectFtsInSync();
    EXPECT_EQ(Search("number 6"), (std::vector<std::string>{"Batches"}));
}

// An external-content FTS5 index is corrupted by deleting what it never indexed: edits and
// deletes of queued and of indexed messages must each keep it exactly in step.
TEST_P(ConversationsTest, EditsAndDeletesOfQueuedAndIndexedMessagesKeepTheIndexInStep) {
    Conversation c = NewConversation("Mixed");
    Message indexed = Say(c, "alpha original text");
    IndexAll();
    Message queued = Say(c, "bravo original text");

    MessagePatch status_only;  // leaves the text as it was: the index is not touched
    status_only.status = MessageStatus::kInterrupted;
    ASSERT_OK(store().Messages().Update(owner_.id, indexed.id, status_only));
    ExpectQueued(1);

    MessagePatch edit;
    edit.content = "alpha edited wording";
    ASSERT_OK(store().Messages().Update(owner_.id, indexed.id, edit));  // out of the index, queued
    edit.content = "bravo edited wording";
    ASSERT_OK(store().Messages().Update(owner_.id, queued.id, edit));  // stays queued
    ExpectQueued(2);
    ExpectFtsInSync();
    EXPECT_TRUE(Search("original").empty());
    EXPECT_EQ(Search("alpha edited"), (std::vector<std::string>{"Mixed"}));
    EXPECT_EQ(Search("bravo edited"), (std::vector<std::string>{"Mixed"}));

    IndexAll();
    ExpectFtsInSync();
    EXPECT_TRUE(Search("original").empty());
    EXPECT_EQ(Search("edited wording"), (std::vector<std::string>{"Mixed"}));

    // A conversation with one indexed and one queued message, deleted with its messages.
    Message third = Say(c, "charlie queued text");
    (void)third;
    ExpectQueued(1);
    HardDeleteConversation(c);
    ExpectQueued(0);
    ExpectFtsInSync();
    IndexAll();
    EXPECT_TRUE(Search("wording").empty());
    EXPECT_TRUE(Search("charlie").empty());
    ExpectFtsInSync();
}

TEST_P(ConversationsTest, FindsAWordInsideAnUnspacedChineseSentence) {
    Conversation c = NewConversation("旅行计划");
    Say(c, "我们明天去北京看长城然后吃烤鸭");
    NewConversation("Other");
    EXPECT_EQ(Search("长城"), (std::vector<std::string>{"旅行计划"}));
    EXPECT_EQ(Search("北京看长城"), (std::vector<std::string>{"旅行计划"}));
    EXPECT_EQ(Search("计划"), (std::vector<std::string>{"旅行计划"}));
    EXPECT_TRUE(Search("上海").empty());
    // Emoji and CJK round-trip unchanged.
    Message m = Say(c, "好的 🦆🎉");
    ASSERT_OK_AND_ASSIGN(Message back, store().Messages().Get(owner_.id, m.id));
    EXPECT_EQ(back.content, "好的 🦆🎉");
}

TEST_P(ConversationsTest, HardDeleteCascadesAndKeepsTheIndexesInStep) {
    Conversation c = NewConversation("To be removed");
    Say(c, "some text");
    IndexAll();
    Say(c, "more text");  // one indexed message, one queued
    ExpectFtsInSync();
    // Straight to the database, around the repositories (which never delete a user this way).
    auto& db = dynamic_cast<sql::SqlStore&>(store()).database();
    ASSERT_OK(db.Write([&](sql::Connection& conn) -> core::Result<void> {
        HUB_SQL_ASSIGN(sql::Stmt st, conn.Prepare("DELETE FROM users WHERE id = ?1"));
        return st.BindAll(owner_.id).Run();
    }));
    EXPECT_ERROR(store().Conversations().Get(owner_.id, c.id), ErrorCode::kNotFound,
                 "conversation_not_found");
    ExpectFtsInSync();
}


HUB_STORE_DIALECTS(ConversationsTest);
}  // namespace
}  // namespace hub::store
