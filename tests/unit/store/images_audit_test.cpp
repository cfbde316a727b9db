#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class ImagesTest : public testing::StoreTest {};

TEST_F(ImagesTest, CreateGetUpdateList) {
    User u = NewUser("painter");
    User other = NewUser("other");
    Image img;
    img.user_id = u.id;
    img.prompt = "a cat in ink wash style";
    img.model = "wanx2.1-t2i-turbo";
    ASSERT_OK_AND_ASSIGN(Image created, store().Images().Create(img));
    EXPECT_EQ(created.status, ImageStatus::kPending);
    Advance(10);
    ASSERT_OK_AND_ASSIGN(Image second, store().Images().Create(img));

    ASSERT_OK_AND_ASSIGN(Image got, store().Images().Get(u.id, created.id));
    EXPECT_EQ(got.prompt, "a cat in ink wash style");
    EXPECT_ERROR(store().Images().Get(other.id, created.id), ErrorCode::kNotFound,
                 "image_not_found");

    ImagePatch running;
    running.status = ImageStatus::kRunning;
    running.task_id = "task-123";
    ASSERT_OK(store().Images().Update(created.id, running));
    ASSERT_OK_AND_ASSIGN(auto pending, store().Images().ListByStatus(ImageStatus::kPending, 10));
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].id, second.id);
    ASSERT_OK_AND_ASSIGN(auto in_flight, store().Images().ListByStatus(ImageStatus::kRunning, 10));
    ASSERT_EQ(in_flight.size(), 1u);
    EXPECT_EQ(in_flight[0].task_id, "task-123");

    ImagePatch done;
    done.status = ImageStatus::kSucceeded;
    done.file_path = "var/images/abc.png";
    done.width = 1024;
    done.height = 768;
    ASSERT_OK_AND_ASSIGN(Image finished, store().Images().Update(created.id, done));
    EXPECT_EQ(finished.status, ImageStatus::kSucceeded);
    EXPECT_EQ(finished.task_id, "task-123");
    EXPECT_EQ(finished.file_path, "var/images/abc.png");
    EXPECT_EQ(finished.width, 1024);
    EXPECT_EQ(finished.height, 768);
    EXPECT_ERROR(store().Images().Update("missing", done), ErrorCode::kNotFound, "image_not_found");

    PageRequest page;
    page.limit = 1;
    ASSERT_OK_AND_ASSIGN(Page<Image> p1, store().Images().ListByUser(u.id, page));
    ASSERT_EQ(p1.items.size(), 1u);
    EXPECT_EQ(p1.items[0].id, second.id);
    page.cursor = p1.next_cursor.value();
    ASSERT_OK_AND_ASSIGN(Page<Image> p2, store().Images().ListByUser(u.id, page));
    ASSERT_EQ(p2.items.size(), 1u);
    EXPECT_EQ(p2.items[0].id, created.id);
    EXPECT_FALSE(p2.next_cursor);
    EXPECT_TRUE(store().Images().ListByUser(other.id, {}).value().items.empty());
}

class AuditTest : public testing::StoreTest {};

TEST_F(AuditTest, AppendAndListWithFilters) {
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

}  // namespace
}  // namespace hub::store
