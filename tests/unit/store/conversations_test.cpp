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

    // Runs FTS5's own consistency check of an external-content index against its table
    // (SQLite; MySQL searches the tables themselves and has no index to keep in step).
    void ExpectFtsInSync() {
        if (mysql()) return;
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(dir_.File("hub.db").c_str(), &db), SQLITE_OK);
        for (const char* sql :
             {"INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
              "INSERT INTO conversations_fts (conversations_fts, rank)"
              " VALUES ('integrity-check', 1)"}) {
            EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK)
                << sql << ": " << sqlite3_errmsg(db);
        }
        sqlite3_close(db);
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
    Say(c, "more text");
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
