#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

class RolesTest : public testing::StoreTest {};

TEST_F(RolesTest, SeededRolesHaveTheirPermissions) {
    using V = std::vector<std::string>;
    ASSERT_OK_AND_ASSIGN(V user, store().Roles().PermissionsOf("user"));
    EXPECT_EQ(user, (V{"api_keys:own", "conversations:own", "history:read:own", "images:own"}));
    ASSERT_OK_AND_ASSIGN(V auditor, store().Roles().PermissionsOf("auditor"));
    EXPECT_EQ(auditor, (V{"api_keys:own", "audit:read", "conversations:own", "history:read:all",
                          "history:read:own", "images:own"}));
    ASSERT_OK_AND_ASSIGN(V admin, store().Roles().PermissionsOf("admin"));
    EXPECT_EQ(admin, (V{"api_keys:own", "audit:read", "conversations:own", "history:read:all",
                        "history:read:own", "images:own", "keys:manage", "users:manage"}));
    EXPECT_ERROR(store().Roles().PermissionsOf("root"), core::ErrorCode::kNotFound,
                 "role_not_found");
}

TEST_F(RolesTest, ListGivesEveryRoleWithPermissions) {
    ASSERT_OK_AND_ASSIGN(std::vector<Role> roles, store().Roles().List());
    ASSERT_EQ(roles.size(), 3u);
    EXPECT_EQ(roles[0].name, "admin");
    EXPECT_EQ(roles[0].permissions.size(), 8u);
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

}  // namespace
}  // namespace hub::store
