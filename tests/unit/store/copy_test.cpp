// store::CopyStore (`bailian-hub db copy`): every row of a SQLite store into a new store of
// each dialect, byte for byte (ids, hashes, encrypted blobs, CJK and emoji), with the counts
// verified; a target that already holds data is refused and left as it was.
#include "store/copy.hpp"

#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class CopyTest : public testing::DialectStoreTest {
protected:
    // A SQLite store with some of everything, in its own folder.
    std::unique_ptr<Store> Source() {
        auto r = testing::OpenTestStore("sqlite", source_dir_.path().string(), clock_);
        EXPECT_TRUE(r.ok()) << r.error().detail;
        std::unique_ptr<Store> s = std::move(r).value();
        User u;
        u.username = "ann";
        u.email = "ann@example.com";
        u.password_hash = "$2b$12$hash";
        u.display_name = "安 🙂";
        u.mfa_secret_enc = std::string("\x00\x01\xff\xfe secret", 11);
        u.quota.daily_tokens = 5000;
        auto user = s->Users().Create(u);
        EXPECT_TRUE(user.ok()) << user.error().detail;
        ann_ = user.value();
        Conversation c;
        c.user_id = ann_.id;
        c.title = "你好世界 the title";
        auto conv = s->Conversations().Create(c);
        EXPECT_TRUE(conv.ok());
        conv_ = conv.value();
        Message m;
        m.conversation_id = conv_.id;
        m.role = MessageRole::kUser;
        m.content = "今天天气很好 🌤";
        EXPECT_TRUE(s->Messages().Append(ann_.id, m).ok());
        for (int i = 0; i < 30; ++i) {
            ApiCall call;
            call.user_id = ann_.id;
            call.endpoint = "chat";
            call.model = "qwen-plus";
            call.input_tokens = i;
            EXPECT_TRUE(s->ApiCalls().Insert(call).ok());
        }
        UpstreamKey k;
        k.name = "primary";
        k.secret_enc = std::string("\x10\x00\x20 enc", 7);
        k.last4 = "abcd";
        EXPECT_TRUE(s->UpstreamKeys().Create(k).ok());
        return s;
    }

    testing::TempDir source_dir_;
    User ann_;
    Conversation conv_;
};

TEST_P(CopyTest, CopiesEveryRowAsItIsAndVerifiesTheCounts) {
    std::unique_ptr<Store> source = Source();
    ASSERT_OK_AND_ASSIGN(CopyReport report, CopyStore(*source, store()));
    EXPECT_EQ(report.rows.at("users"), 1);
    EXPECT_EQ(report.rows.at("api_calls"), 30);
    EXPECT_EQ(report.rows.at("messages"), 1);
    EXPECT_GE(report.rows.at("roles"), 3);

    ASSERT_OK_AND_ASSIGN(User copied, store().Users().Get(ann_.id));
    EXPECT_EQ(copied.display_name, "安 🙂");
    EXPECT_EQ(copied.mfa_secret_enc, ann_.mfa_secret_enc);
    EXPECT_EQ(copied.quota.daily_tokens, 5000);
    EXPECT_EQ(copied.created_at, ann_.created_at);
    ASSERT_OK_AND_ASSIGN(auto keys, store().UpstreamKeys().List());
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(keys[0].secret_enc, std::string("\x10\x00\x20 enc", 7));
    // The target's own search finds the copied conversation (its index is built, not copied).
    ConversationQuery q;
    q.q = "天气";
    ASSERT_OK_AND_ASSIGN(auto found, store().Conversations().List(ann_.id, q));
    ASSERT_EQ(found.items.size(), 1u);
    EXPECT_EQ(found.items[0].id, conv_.id);
    // The built-in roles came across, and the copied user can still be looked up by login.
    ASSERT_OK_AND_ASSIGN(User by_login, store().Users().FindByLogin("ANN@example.com"));
    EXPECT_EQ(by_login.id, ann_.id);
}

TEST_P(CopyTest, RefusesATargetThatHoldsDataAndChangesNothing) {
    std::unique_ptr<Store> source = Source();
    User existing = NewUser("already_here");
    EXPECT_ERROR(CopyStore(*source, store()), ErrorCode::kConflict, "target_not_empty");
    ASSERT_OK_AND_ASSIGN(User still, store().Users().Get(existing.id));
    EXPECT_EQ(still.username, "already_here");
    EXPECT_ERROR(store().Users().Get(ann_.id), ErrorCode::kNotFound, "user_not_found");
}

HUB_STORE_DIALECTS(CopyTest);

}  // namespace
}  // namespace hub::store
