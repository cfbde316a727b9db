#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

class RolesTest : public testing::DialectStoreTest {};

TEST_P(RolesTest, SeededRolesHaveTheirPermissions) {
    using V = std::vector<std::string>;
    ASSERT_OK_AND_ASSIGN(V user, store().Roles().PermissionsOf("user"));
    EXPECT_EQ(user, (V{"api_keys:own", "conversations:own", "history:read:own", "images:own",
                       "models:chat", "models:images", "models:passthrough"}));
    ASSERT_OK_AND_ASSIGN(V auditor, store().Roles().PermissionsOf("auditor"));
    EXPECT_EQ(auditor, (V{"api_keys:own", "audit:read", "conversations:own", "history:read:all",
                          "history:read:own", "images:own", "models:chat", "models:images",
                          "models:passthrough"}));
    ASSERT_OK_AND_ASSIGN(V admin, store().Roles().PermissionsOf("admin"));
    EXPECT_EQ(admin, (V{"api_keys:own", "audit:read", "conversations:own", "history:read:all",
                        "history:read:own", "images:own", "keys:manage", "models:chat",
                        "models:images", "models:passthrough", "roles:manage", "security:read",
                        "users:manage"}));
    EXPECT_ERROR(store().Roles().PermissionsOf("root"), core::ErrorCode::kNotFound,
                 "role_not_found");
}

TEST_P(RolesTest, ListGivesEveryRoleWithPermissions) {
    ASSERT_OK_AND_ASSIGN(std::vector<Role> roles, store().Roles().List());
    ASSERT_EQ(roles.size(), 3u);
    EXPECT_EQ(roles[0].name, "admin");
    EXPECT_EQ(roles[0].permissions.size(), 13u);
    EXPECT_TRUE(roles[0].builtin);
    EXPECT_FALSE(roles[0].mfa_required);
    EXPECT_TRUE(roles[0].models.empty());
    EXPECT_EQ(roles[1].name, "auditor");
    EXPECT_EQ(roles[2].name, "user");
    EXPECT_FALSE(roles[2].description.empty());
    // The permission constants match the seeded names.
    for (auto p :
         {perm::kConversationsOwn, perm::kHistoryReadOwn, perm::kHistoryReadAll, perm::kUsersManage,
          perm::kKeysManage, perm::kAuditRead, perm::kImagesOwn, perm::kApiKeysOwn}) {
        EXPECT_NE(std::find(roles[0].permissions.begin(), roles[0].permissions.end(), p),
                  roles[0].permissions.end())
            << p;
    }
}

TEST_P(RolesTest, CreateUpdateDelete) {
    Role r;
    r.name = "support";
    r.description = "Helps";
    r.permissions = {"conversations:own", "models:chat"};
    r.models = {"qwen-plus", "qwen-turbo*"};
    r.mfa_required = true;
    ASSERT_OK_AND_ASSIGN(Role created, store().Roles().Create(r));
    EXPECT_EQ(created.permissions, (std::vector<std::string>{"conversations:own", "models:chat"}));
    EXPECT_EQ(created.models, r.models);
    EXPECT_TRUE(created.mfa_required);
    EXPECT_FALSE(created.builtin);
    EXPECT_ERROR(store().Roles().Create(r), core::ErrorCode::kConflict, "role_exists");
    // A permission the permissions table does not know fails the write and changes nothing.
    Role bad = r;
    bad.name = "bad";
    bad.permissions = {"no:such"};
    EXPECT_FALSE(store().Roles().Create(bad).ok());
    EXPECT_ERROR(store().Roles().PermissionsOf("bad"), core::ErrorCode::kNotFound,
                 "role_not_found");

    r.permissions = {"models:images"};
    r.models = {};
    r.mfa_required = false;
    ASSERT_OK_AND_ASSIGN(Role updated, store().Roles().Update(r));
    EXPECT_EQ(updated.permissions, (std::vector<std::string>{"models:images"}));
    EXPECT_TRUE(updated.models.empty());
    EXPECT_FALSE(updated.mfa_required);
    Role ghost = r;
    ghost.name = "ghost";
    EXPECT_ERROR(store().Roles().Update(ghost), core::ErrorCode::kNotFound, "role_not_found");

    EXPECT_ERROR(store().Roles().Delete("user"), core::ErrorCode::kConflict, "role_builtin");
    User u = NewUser("supporter", "support");
    EXPECT_ERROR(store().Roles().Delete("support"), core::ErrorCode::kConflict, "role_in_use");
    UserPatch back;
    back.role = "user";
    ASSERT_OK(store().Users().Update(u.id, back));
    EXPECT_OK(store().Roles().Delete("support"));
    EXPECT_ERROR(store().Roles().Delete("support"), core::ErrorCode::kNotFound, "role_not_found");
}

TEST_P(RolesTest, SecurityEventsAndLocks) {
    SecurityEvent e;
    e.kind = "brute_force";
    e.severity = "high";
    e.user_id = "u1";
    e.ip = "203.0.113.9";
    e.detail = R"({"failures":5})";
    e.action = "account_locked";
    e.locked_until = 5000;
    ASSERT_OK_AND_ASSIGN(SecurityEvent stored, store().SecurityEvents().Append(e));
    ASSERT_OK_AND_ASSIGN(SecurityEvent got, store().SecurityEvents().Get(stored.id));
    EXPECT_EQ(got.kind, "brute_force");
    EXPECT_EQ(got.locked_until, std::optional<std::int64_t>(5000));
    EXPECT_ERROR(store().SecurityEvents().Get("nope"), core::ErrorCode::kNotFound,
                 "security_event_not_found");
    SecurityEvent other = e;
    other.id.clear();
    other.kind = "refresh_reuse";
    other.user_id = "u2";
    ASSERT_OK(store().SecurityEvents().Append(other));

    PageRequest one;
    one.limit = 1;
    ASSERT_OK_AND_ASSIGN(auto first, store().SecurityEvents().List({}, one));
    ASSERT_EQ(first.items.size(), 1u);
    ASSERT_TRUE(first.next_cursor);
    one.cursor = *first.next_cursor;
    ASSERT_OK_AND_ASSIGN(auto second, store().SecurityEvents().List({}, one));
    ASSERT_EQ(second.items.size(), 1u);
    EXPECT_NE(second.items[0].id, first.items[0].id);
    SecurityEventFilter by_kind;
    by_kind.kind = "refresh_reuse";
    ASSERT_OK_AND_ASSIGN(auto reuse, store().SecurityEvents().List(by_kind, {}));
    ASSERT_EQ(reuse.items.size(), 1u);
    EXPECT_EQ(reuse.items[0].user_id, std::optional<std::string>("u2"));
    SecurityEventFilter by_user;
    by_user.user_id = "u1";
    ASSERT_OK_AND_ASSIGN(auto u1, store().SecurityEvents().List(by_user, {}));
    ASSERT_EQ(u1.items.size(), 1u);

    ASSERT_OK(store().SecurityEvents().Lock({"user:u1", 5000, stored.id, 1000}));
    ASSERT_OK(store().SecurityEvents().Lock({"user:u1", 9000, stored.id, 2000}));  // extended
    ASSERT_OK_AND_ASSIGN(auto locks, store().SecurityEvents().ActiveLocks(6000));
    ASSERT_EQ(locks.size(), 1u);
    EXPECT_EQ(locks[0].until, 9000);
    ASSERT_OK_AND_ASSIGN(auto over, store().SecurityEvents().ActiveLocks(9000));
    EXPECT_TRUE(over.empty());
    ASSERT_OK(store().SecurityEvents().Unlock("user:u1"));
    ASSERT_OK(store().SecurityEvents().Unlock("user:u1"));
    ASSERT_OK_AND_ASSIGN(SecurityEvent ended, store().SecurityEvents().EndLock(stored.id, 3000));
    EXPECT_EQ(ended.locked_until, std::optional<std::int64_t>(3000));
    ASSERT_OK_AND_ASSIGN(SecurityEvent again, store().SecurityEvents().EndLock(stored.id, 4000));
    EXPECT_EQ(again.locked_until, std::optional<std::int64_t>(3000)) << "never extended";
    EXPECT_ERROR(store().SecurityEvents().EndLock("nope", 1), core::ErrorCode::kNotFound,
                 "security_event_not_found");
    ASSERT_OK_AND_ASSIGN(auto none, store().SecurityEvents().ActiveLocks(0));
    EXPECT_TRUE(none.empty());
}


HUB_STORE_DIALECTS(RolesTest);
}  // namespace
}  // namespace hub::store
