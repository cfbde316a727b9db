// Uploaded pictures (migration 0007): owner-scoped reads, and the attachment ids a message keeps.
#include <algorithm>

#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class UploadsTest : public testing::DialectStoreTest {
protected:
    void SetUp() override {
        DialectStoreTest::SetUp();
        owner_ = NewUser("owner");
        other_ = NewUser("other");
    }

    Upload Make(const std::string& user_id, const std::string& path) {
        Upload u;
        u.user_id = user_id;
        u.file_path = path;
        u.sha256 = std::string(64, 'a');
        u.content_type = "image/jpeg";
        u.bytes = 1234;
        u.width = 48;
        u.height = 64;
        u.original_name = "IMG_0001.JPG";
        auto r = store().Uploads().Create(u);
        EXPECT_TRUE(r.ok()) << r.error().detail;
        return r.ok() ? r.value() : Upload{};
    }

    User owner_;
    User other_;
};

TEST_P(UploadsTest, CreateAndReadBackOwnerOnly) {
    Upload u = Make(owner_.id, "ab/x.jpg");
    EXPECT_FALSE(u.id.empty());
    EXPECT_GT(u.created_at, 0);
    ASSERT_OK_AND_ASSIGN(Upload got, store().Uploads().Get(owner_.id, u.id));
    EXPECT_EQ(got.file_path, "ab/x.jpg");
    EXPECT_EQ(got.content_type, "image/jpeg");
    EXPECT_EQ(got.width, 48);
    EXPECT_EQ(got.original_name, "IMG_0001.JPG");
    auto foreign = store().Uploads().Get(other_.id, u.id);
    ASSERT_FALSE(foreign.ok());
    EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(store().Uploads().GetById(u.id).ok());
    EXPECT_FALSE(store().Uploads().GetById("nope").ok());
}

TEST_P(UploadsTest, GetManyLeavesOutOtherUsersAndUnknownIds) {
    Upload a = Make(owner_.id, "aa/a.jpg");
    Upload b = Make(owner_.id, "bb/b.jpg");
    Upload theirs = Make(other_.id, "cc/c.jpg");
    ASSERT_OK_AND_ASSIGN(auto found,
                         store().Uploads().GetMany(owner_.id, {a.id, theirs.id, "nope", b.id}));
    ASSERT_EQ(found.size(), 2u);
    EXPECT_TRUE((found[0].id == a.id && found[1].id == b.id) ||
                (found[0].id == b.id && found[1].id == a.id));
    ASSERT_OK_AND_ASSIGN(auto none, store().Uploads().GetMany(owner_.id, {}));
    EXPECT_TRUE(none.empty());
}

TEST_P(UploadsTest, MessagesKeepTheirAttachmentsInOrder) {
    Conversation c;
    c.user_id = owner_.id;
    ASSERT_OK_AND_ASSIGN(Conversation conv, store().Conversations().Create(c));
    Message m;
    m.conversation_id = conv.id;
    m.role = MessageRole::kUser;
    m.content = "";
    m.attachments = {"up-2", "up-1"};
    ASSERT_OK_AND_ASSIGN(Message stored, store().Messages().Append(owner_.id, m));
    EXPECT_EQ(stored.attachments, (std::vector<std::string>{"up-2", "up-1"}));
    ASSERT_OK_AND_ASSIGN(Message got, store().Messages().Get(owner_.id, stored.id));
    EXPECT_EQ(got.attachments, (std::vector<std::string>{"up-2", "up-1"}));
    Message plain;
    plain.conversation_id = conv.id;
    plain.role = MessageRole::kAssistant;
    plain.content = "a cat";
    ASSERT_OK(store().Messages().Append(owner_.id, plain));
    ASSERT_OK_AND_ASSIGN(auto latest, store().Messages().Latest(owner_.id, conv.id, 10));
    ASSERT_EQ(latest.size(), 2u);
    EXPECT_EQ(latest[0].attachments.size(), 2u);
    EXPECT_TRUE(latest[1].attachments.empty());
}

TEST_P(UploadsTest, ListByUserPagesThroughTheOwnersUploadsInIdOrder) {
    std::vector<std::string> mine;
    for (int i = 0; i < 5; ++i) mine.push_back(Make(owner_.id, "aa/" + std::to_string(i) + ".jpg").id);
    Make(other_.id, "bb/theirs.jpg");
    std::vector<std::string> seen;
    std::string after;
    for (;;) {
        ASSERT_OK_AND_ASSIGN(auto page, store().Uploads().ListByUser(owner_.id, after, 2));
        for (const auto& u : page) seen.push_back(u.id);
        if (page.size() < 2) break;
        after = page.back().id;
    }
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    std::sort(mine.begin(), mine.end());
    EXPECT_EQ(seen, mine);
    ASSERT_OK_AND_ASSIGN(auto none, store().Uploads().ListByUser("nobody", "", 10));
    EXPECT_TRUE(none.empty());
}

// One stored file can be named by a result image and by uploads (the store is content
// addressed): a file counts as used while any row of either table names it.
TEST_P(UploadsTest, FileUsesCountUploadsAndImagesTogether) {
    EXPECT_EQ(store().Images().CountFileUses("ab/same.png").value(), 0);
    Make(owner_.id, "ab/same.png");
    Make(other_.id, "ab/same.png");
    EXPECT_EQ(store().Images().CountFileUses("ab/same.png").value(), 2);
    EXPECT_EQ(store().Images().CountFileUses("ab/other.png").value(), 0);
}

TEST_P(UploadsTest, ErasingAUserNamesTheirUploadedFilesAndDropsTheRows) {
    Make(owner_.id, "aa/mine.jpg");
    Make(owner_.id, "aa/mine.jpg");  // the same picture twice: one file
    Make(owner_.id, "ab/shared.jpg");
    Make(other_.id, "ab/shared.jpg");
    ASSERT_OK_AND_ASSIGN(ErasedUser erased, store().Users().Erase(owner_.id, "deleted-t"));
    std::vector<std::string> paths = erased.file_paths;
    std::sort(paths.begin(), paths.end());
    EXPECT_EQ(paths, (std::vector<std::string>{"aa/mine.jpg", "ab/shared.jpg"}));
    ASSERT_OK_AND_ASSIGN(auto left, store().Uploads().ListByUser(owner_.id, "", 10));
    EXPECT_TRUE(left.empty());
    EXPECT_EQ(store().Images().CountFileUses("aa/mine.jpg").value(), 0);
    EXPECT_EQ(store().Images().CountFileUses("ab/shared.jpg").value(), 1);
}


HUB_STORE_DIALECTS(UploadsTest);
}  // namespace
}  // namespace hub::store
