#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class ImagesTest : public testing::DialectStoreTest {};

ImageGeneration NewGeneration(const std::string& user_id) {
    ImageGeneration g;
    g.user_id = user_id;
    g.endpoint = "images";
    g.model = "wan2.2-t2i-flash";
    g.prompt = "a cat in ink wash style, 水墨";
    g.size = "1024*1024";
    g.n = 2;
    g.seed = 42;
    return g;
}

TEST_P(ImagesTest, GenerationLifecycle) {
    User u = NewUser("painter");
    User other = NewUser("other");
    ASSERT_OK_AND_ASSIGN(ImageGeneration created, store().Images().Create(NewGeneration(u.id)));
    EXPECT_EQ(created.status, GenerationStatus::kPending);
    EXPECT_FALSE(created.id.empty());
    Advance(10);
    ASSERT_OK_AND_ASSIGN(ImageGeneration second, store().Images().Create(NewGeneration(u.id)));

    ASSERT_OK_AND_ASSIGN(ImageGeneration got, store().Images().Get(u.id, created.id));
    EXPECT_EQ(got.prompt, "a cat in ink wash style, 水墨");
    EXPECT_EQ(got.seed, 42);
    EXPECT_EQ(got.n, 2);
    EXPECT_ERROR(store().Images().Get(other.id, created.id), ErrorCode::kNotFound,
                 "image_generation_not_found");

    GenerationPatch running;
    running.status = GenerationStatus::kRunning;
    running.task_id = "task-123";
    running.started_at = testing::kT0 + 5;
    running.polls = 3;
    ASSERT_OK_AND_ASSIGN(ImageGeneration r, store().Images().Update(created.id, running));
    EXPECT_EQ(r.task_id, "task-123");
    EXPECT_EQ(r.polls, 3);
    EXPECT_EQ(r.started_at, testing::kT0 + 5);
    EXPECT_ERROR(store().Images().Update("missing", running), ErrorCode::kNotFound,
                 "image_generation_not_found");

    // Both are unsettled until their usage row is written, oldest first.
    ASSERT_OK_AND_ASSIGN(auto unsettled, store().Images().ListUnsettled(10));
    ASSERT_EQ(unsettled.size(), 2u);
    EXPECT_EQ(unsettled[0].id, created.id);

    GeneratedImage ok;
    ok.index = 0;
    ok.ok = true;
    ok.file_path = "ab/abc.png";
    ok.sha256 = std::string(64, 'a');
    ok.content_type = "image/png";
    ok.bytes = 1234;
    ok.width = 64;
    ok.height = 48;
    ok.seed = 42;
    ok.actual_prompt = "an ink wash cat";
    GeneratedImage bad;
    bad.index = 1;
    bad.error_code = "InternalError.Timeout";
    bad.error_message = "timeout";
    GenerationPatch done;
    done.status = GenerationStatus::kSucceeded;
    done.finished_at = testing::kT0 + 50;
    ASSERT_OK_AND_ASSIGN(ImageGeneration finished,
                         store().Images().Finish(created.id, done, {ok, bad}));
    EXPECT_EQ(finished.status, GenerationStatus::kSucceeded);
    ASSERT_EQ(finished.images.size(), 2u);
    EXPECT_TRUE(finished.images[0].ok);
    EXPECT_EQ(finished.images[0].width, 64);
    EXPECT_EQ(finished.images[0].actual_prompt, "an ink wash cat");
    EXPECT_FALSE(finished.images[1].ok);
    EXPECT_EQ(finished.images[1].error_code, "InternalError.Timeout");
    // A generation ends once.
    EXPECT_ERROR(store().Images().Finish(created.id, done, {}), ErrorCode::kConflict,
                 "image_generation_finished");

    ASSERT_OK_AND_ASSIGN(bool first, store().Images().MarkAccounted(created.id, testing::kT0 + 60));
    EXPECT_TRUE(first);
    ASSERT_OK_AND_ASSIGN(bool again, store().Images().MarkAccounted(created.id, testing::kT0 + 70));
    EXPECT_FALSE(again);
    ASSERT_OK_AND_ASSIGN(unsettled, store().Images().ListUnsettled(10));
    ASSERT_EQ(unsettled.size(), 1u);
    EXPECT_EQ(unsettled[0].id, second.id);

    // Images: the owner's only; by id for signed links; file uses counted.
    const std::string image_id = finished.images[0].id;
    ASSERT_OK_AND_ASSIGN(GeneratedImage img, store().Images().GetImage(u.id, image_id));
    EXPECT_EQ(img.file_path, "ab/abc.png");
    EXPECT_ERROR(store().Images().GetImage(other.id, image_id), ErrorCode::kNotFound,
                 "image_not_found");
    EXPECT_TRUE(store().Images().GetImageById(image_id).ok());
    EXPECT_EQ(store().Images().CountFileUses("ab/abc.png").value(), 1);

    PageRequest page;
    page.limit = 1;
    ASSERT_OK_AND_ASSIGN(Page<ImageGeneration> p1, store().Images().ListByUser(u.id, page));
    ASSERT_EQ(p1.items.size(), 1u);
    EXPECT_EQ(p1.items[0].id, second.id);
    page.cursor = p1.next_cursor.value();
    ASSERT_OK_AND_ASSIGN(Page<ImageGeneration> p2, store().Images().ListByUser(u.id, page));
    ASSERT_EQ(p2.items.size(), 1u);
    EXPECT_EQ(p2.items[0].id, created.id);
    EXPECT_EQ(p2.items[0].images.size(), 2u);
    EXPECT_FALSE(p2.next_cursor);
    EXPECT_TRUE(store().Images().ListByUser(other.id, {}).value().items.empty());

    // Deleting: not another user's; the owner's goes with its images.
    EXPECT_ERROR(store().Images().Delete(other.id, created.id), ErrorCode::kNotFound,
                 "image_generation_not_found");
    ASSERT_OK_AND_ASSIGN(ImageGeneration gone, store().Images().Delete(u.id, created.id));
    EXPECT_EQ(gone.images.size(), 2u);
    EXPECT_EQ(store().Images().CountFileUses("ab/abc.png").value(), 0);
    EXPECT_ERROR(store().Images().GetImageById(image_id), ErrorCode::kNotFound, "image_not_found");
}

TEST_P(ImagesTest, UsageRowKeepsTheTaskId) {
    User u = NewUser("painter");
    ApiCall c;
    c.user_id = u.id;
    c.endpoint = "images";
    c.model = "wanx-v1";
    c.image_count = 2;
    c.upstream_task_id = "task-9";
    ASSERT_OK(store().ApiCalls().Insert(c));
    ApiCallFilter f;
    f.user_id = u.id;
    ASSERT_OK_AND_ASSIGN(auto page, store().ApiCalls().List(f, {}));
    ASSERT_EQ(page.items.size(), 1u);
    EXPECT_EQ(page.items[0].upstream_task_id, "task-9");
}

class AuditTest : public testing::DialectStoreTest {};

TEST_P(AuditTest, AppendAndListWithFilters) {
    auto add = [&](std::optional<std::string> actor, const std::string& action) {
        AuditEntry e;
        e.actor_user_id = std::move(actor);
        e.action = action;
        e.target = "user:x";
        e.ip = "10.0.0.1";
        e.request_id = "req-1";
        e.detail = R"({"ok":true})";
        auto r = store().Audit().Append(e);
        EXPECT_TRUE(r.ok());
        Advance(100);
        return r.value();
    };
    AuditEntry first = add("admin-1", "auth.login");
    add(std::nullopt, "auth.login_failed");
    add("admin-1", "admin.user.update");
    add("user-2", "auth.login");

    ASSERT_OK_AND_ASSIGN(Page<AuditEntry> all, store().Audit().List({}, {}));
    ASSERT_EQ(all.items.size(), 4u);
    EXPECT_EQ(all.items[0].actor_user_id, "user-2");
    EXPECT_FALSE(all.items[2].actor_user_id);
    EXPECT_EQ(all.items[3].id, first.id);
    EXPECT_EQ(all.items[3].detail, R"({"ok":true})");
    EXPECT_EQ(all.items[3].ip, "10.0.0.1");
    EXPECT_EQ(all.items[3].request_id, "req-1");

    AuditFilter by_actor;
    by_actor.actor_user_id = "admin-1";
    EXPECT_EQ(store().Audit().List(by_actor, {}).value().items.size(), 2u);
    AuditFilter by_action;
    by_action.action = "auth.login";
    EXPECT_EQ(store().Audit().List(by_action, {}).value().items.size(), 2u);
    AuditFilter window;
    window.from_ms = testing::kT0 + 100;
    window.to_ms = testing::kT0 + 300;
    EXPECT_EQ(store().Audit().List(window, {}).value().items.size(), 2u);

    PageRequest page;
    page.limit = 3;
    ASSERT_OK_AND_ASSIGN(Page<AuditEntry> p1, store().Audit().List({}, page));
    EXPECT_EQ(p1.items.size(), 3u);
    page.cursor = p1.next_cursor.value();
    ASSERT_OK_AND_ASSIGN(Page<AuditEntry> p2, store().Audit().List({}, page));
    ASSERT_EQ(p2.items.size(), 1u);
    EXPECT_EQ(p2.items[0].id, first.id);
    EXPECT_FALSE(p2.next_cursor);
}


HUB_STORE_DIALECTS(ImagesTest);
HUB_STORE_DIALECTS(AuditTest);
}  // namespace
}  // namespace hub::store
