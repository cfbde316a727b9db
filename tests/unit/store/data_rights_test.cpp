// The store side of issue 21: erasing a user (everything of theirs goes, api_calls stay under
// a tombstone, the last admin stays) and the data-export jobs (one active per user, expiry).
#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class DataRightsStoreTest : public testing::DialectStoreTest {};

TEST_P(DataRightsStoreTest, EraseRemovesEverythingOfTheUserAndKeepsTheirCallsAnonymised) {
    User ann = NewUser("ann");
    User bob = NewUser("bob");
    Session s;
    s.user_id = ann.id;
    s.refresh_hash = "hash-ann";
    s.expires_at = testing::kT0 + 1'000'000;
    ASSERT_OK_AND_ASSIGN(Session session, store().Sessions().Create(s));
    Conversation c;
    c.user_id = ann.id;
    c.title = "mine";
    ASSERT_OK_AND_ASSIGN(Conversation conv, store().Conversations().Create(c));
    Message m;
    m.conversation_id = conv.id;
    m.role = MessageRole::kUser;
    m.content = "secret words";
    ASSERT_OK(store().Messages().Append(ann.id, m));
    ImageGeneration g;
    g.user_id = ann.id;
    g.endpoint = "images";
    g.model = "wan2.2-t2i-flash";
    g.prompt = "a cat";
    g.size = "1024*1024";
    ASSERT_OK_AND_ASSIGN(ImageGeneration gen, store().Images().Create(g));
    GeneratedImage img;
    img.ok = true;
    img.file_path = "ab/shared.png";
    GenerationPatch done;
    done.status = GenerationStatus::kSucceeded;
    done.finished_at = testing::kT0 + 5;
    ASSERT_OK(store().Images().Finish(gen.id, done, {img}));
    for (const auto& who : {ann.id, ann.id, bob.id}) {
        ApiCall call;
        call.user_id = who;
        call.endpoint = "chat";
        ASSERT_OK(store().ApiCalls().Insert(call));
    }
    DataExport e;
    e.user_id = ann.id;
    ASSERT_OK_AND_ASSIGN(DataExport job, store().DataExports().Create(e));
    ExportPatch ready;
    ready.status = ExportStatus::kReady;
    ready.file_path = job.id + ".zip";
    ASSERT_OK(store().DataExports().Update(job.id, ready));

    ASSERT_OK_AND_ASSIGN(ErasedUser erased, store().Users().Erase(ann.id, "deleted-tomb"));
    EXPECT_EQ(erased.session_ids, std::vector<std::string>{session.id});
    EXPECT_EQ(erased.file_paths, std::vector<std::string>{"ab/shared.png"});
    EXPECT_EQ(erased.export_files, std::vector<std::string>{job.id + ".zip"});
    EXPECT_EQ(erased.api_calls_anonymised, 2);

    EXPECT_ERROR(store().Users().Get(ann.id), ErrorCode::kNotFound, "user_not_found");
    EXPECT_ERROR(store().Conversations().Get(ann.id, conv.id), ErrorCode::kNotFound,
                 "conversation_not_found");
    EXPECT_FALSE(store().Sessions().Get(session.id).ok());
    EXPECT_FALSE(store().Images().GetAny(gen.id).ok());
    ASSERT_OK_AND_ASSIGN(std::int64_t uses, store().Images().CountFileUses("ab/shared.png"));
    EXPECT_EQ(uses, 0);
    EXPECT_FALSE(store().DataExports().Get(ann.id, job.id).ok());
    ApiCallFilter mine;
    mine.user_id = ann.id;
    ASSERT_OK_AND_ASSIGN(auto left, store().ApiCalls().List(mine, PageRequest{}));
    EXPECT_TRUE(left.items.empty());
    ApiCallFilter tomb;
    tomb.user_id = "deleted-tomb";
    ASSERT_OK_AND_ASSIGN(auto kept, store().ApiCalls().List(tomb, PageRequest{}));
    EXPECT_EQ(kept.items.size(), 2u);
    // Bob is untouched.
    EXPECT_OK(store().Users().Get(bob.id));
    EXPECT_ERROR(store().Users().Erase(ann.id, "deleted-x"), ErrorCode::kNotFound, "user_not_found");
}

TEST_P(DataRightsStoreTest, TheLastActiveAdminCannotBeErased) {
    User root = NewUser("root", "admin");
    EXPECT_ERROR(store().Users().Erase(root.id, "deleted-a"), ErrorCode::kConflict, "last_admin");
    User second = NewUser("second", "admin");
    EXPECT_OK(store().Users().Erase(root.id, "deleted-a"));
    EXPECT_ERROR(store().Users().Erase(second.id, "deleted-b"), ErrorCode::kConflict, "last_admin");
}

TEST_P(DataRightsStoreTest, OneActiveExportPerUserAndExpiry) {
    User ann = NewUser("ann");
    User bob = NewUser("bob");
    DataExport e;
    e.user_id = ann.id;
    ASSERT_OK_AND_ASSIGN(DataExport first, store().DataExports().Create(e));
    EXPECT_ERROR(store().DataExports().Create(e), ErrorCode::kConflict, "export_in_progress");
    DataExport other;
    other.user_id = bob.id;
    EXPECT_OK(store().DataExports().Create(other));
    // Another user's export is not found.
    EXPECT_ERROR(store().DataExports().Get(bob.id, first.id), ErrorCode::kNotFound,
                 "export_not_found");
    ExportPatch ready;
    ready.status = ExportStatus::kReady;
    ready.progress = 100;
    ready.expires_at = testing::kT0 + 1000;
    ASSERT_OK_AND_ASSIGN(DataExport done, store().DataExports().Update(first.id, ready));
    EXPECT_EQ(done.progress, 100);
    // Once it is done a new one may start.
    EXPECT_OK(store().DataExports().Create(e));
    ASSERT_OK_AND_ASSIGN(auto none, store().DataExports().ListExpired(testing::kT0 + 999));
    EXPECT_TRUE(none.empty());
    ASSERT_OK_AND_ASSIGN(auto expired, store().DataExports().ListExpired(testing::kT0 + 1000));
    ASSERT_EQ(expired.size(), 1u);
    EXPECT_EQ(expired[0].id, first.id);
    // A restart fails what was left running.
    ASSERT_OK_AND_ASSIGN(std::int64_t failed, store().DataExports().FailUnfinished(testing::kT0, testing::kT0 + 5));
    EXPECT_EQ(failed, 2);
}


HUB_STORE_DIALECTS(DataRightsStoreTest);
}  // namespace
}  // namespace hub::store
