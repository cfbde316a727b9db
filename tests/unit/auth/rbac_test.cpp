#include "auth/rbac.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace hub::auth {
namespace {

RolePermissions Defaults() {
    auto r = RolePermissions::FromRows(DefaultRolePermissionRows());
    EXPECT_TRUE(r.ok());
    return std::move(r).value();
}

TEST(Rbac, DefaultMatrix) {
    // role -> permissions it must have; every other known permission must be denied.
    const std::map<std::string, std::set<std::string_view>> expected = {
        {"user",
         {perm::kConversationsOwn, perm::kHistoryReadOwn, perm::kImagesOwn, perm::kApiKeysOwn}},
        {"auditor",
         {perm::kConversationsOwn, perm::kHistoryReadOwn, perm::kImagesOwn, perm::kApiKeysOwn,
          perm::kHistoryReadAll, perm::kAuditRead}},
        {"admin",
         {perm::kConversationsOwn, perm::kHistoryReadOwn, perm::kHistoryReadAll, perm::kUsersManage,
          perm::kKeysManage, perm::kAuditRead, perm::kImagesOwn, perm::kApiKeysOwn}},
    };
    RolePermissions rp = Defaults();
    EXPECT_EQ(rp.Roles(), (std::vector<std::string>{"admin", "auditor", "user"}));
    EXPECT_TRUE(rp.unknown_permissions().empty());
    for (const auto& [role, granted] : expected) {
        for (std::string_view p : AllPermissions()) {
            EXPECT_EQ(rp.Allows(role, p), granted.count(p) == 1) << role << " " << p;
        }
        EXPECT_EQ(rp.For(role).size(), granted.size()) << role;
    }
}

TEST(Rbac, UnknownRoleOrPermissionIsDenied) {
    RolePermissions rp = Defaults();
    EXPECT_FALSE(rp.HasRole("root"));
    for (std::string_view p : AllPermissions()) EXPECT_FALSE(rp.Allows("root", p));
    EXPECT_FALSE(rp.Allows("", perm::kConversationsOwn));
    EXPECT_FALSE(rp.Allows("admin", "everything"));
    EXPECT_FALSE(rp.Allows("Admin", perm::kUsersManage));  // names are exact
    EXPECT_TRUE(rp.For("root").empty());
}

TEST(Rbac, BuiltFromDatabaseRows) {
    auto rp = RolePermissions::FromRows({{"support", "users:manage"},
                                         {"support", "history:read:all"},
                                         {"support", "tickets:close"},  // from a newer version
                                         {"guest", "nonexistent:perm"}});
    ASSERT_TRUE(rp.ok());
    EXPECT_TRUE(rp->Allows("support", perm::kUsersManage));
    EXPECT_TRUE(rp->Allows("support", perm::kHistoryReadAll));
    EXPECT_FALSE(rp->Allows("support", "tickets:close"));
    EXPECT_FALSE(rp->Allows("support", perm::kKeysManage));
    EXPECT_TRUE(rp->HasRole("guest"));
    EXPECT_TRUE(rp->For("guest").empty());
    ASSERT_EQ(rp->unknown_permissions().size(), 2u);
    EXPECT_EQ(rp->unknown_permissions()[0].permission, "tickets:close");

    EXPECT_FALSE(RolePermissions::FromRows({{"", "users:manage"}}).ok());
    EXPECT_FALSE(RolePermissions::FromRows({{"user", ""}}).ok());
    EXPECT_TRUE(RolePermissions::FromRows({}).ok());
}

TEST(Rbac, KnownPermissions) {
    EXPECT_EQ(AllPermissions().size(), 8u);
    EXPECT_TRUE(IsKnownPermission("history:read:all"));
    EXPECT_TRUE(IsKnownPermission("api_keys:own"));
    EXPECT_FALSE(IsKnownPermission("history:read"));
    EXPECT_FALSE(IsKnownPermission(""));
}

TEST(Rbac, PrincipalAndRequire) {
    RolePermissions rp = Defaults();
    Principal user{"u1", "user", "s1", std::nullopt, rp.For("user")};
    EXPECT_TRUE(user.Can(perm::kConversationsOwn));
    EXPECT_FALSE(user.Can(perm::kUsersManage));
    EXPECT_FALSE(user.IsApiKey());
    EXPECT_TRUE(Require(user, perm::kHistoryReadOwn).ok());
    auto denied = Require(user, perm::kAuditRead);
    ASSERT_FALSE(denied.ok());
    EXPECT_EQ(denied.error().code, core::ErrorCode::kForbidden);
    EXPECT_EQ(denied.error().api_code, "forbidden");
    EXPECT_EQ(denied.error().public_message.find("audit"), std::string::npos);  // detail only
    EXPECT_NE(denied.error().detail.find("audit:read"), std::string::npos);

    // An API key narrows the admin's permissions to its scopes.
    PermissionSet scopes{perm::kConversationsOwn, perm::kImagesOwn, "made:up"};
    Principal key{"u2", "admin", "", std::string("k1"), rp.For("admin").Intersect(scopes)};
    EXPECT_TRUE(key.IsApiKey());
    EXPECT_TRUE(key.Can(perm::kImagesOwn));
    EXPECT_FALSE(key.Can(perm::kUsersManage));
    EXPECT_FALSE(key.Can("made:up"));
    EXPECT_EQ(key.permissions.List(),
              (std::vector<std::string>{"conversations:own", "images:own"}));

    Principal nobody;
    for (std::string_view p : AllPermissions()) EXPECT_FALSE(nobody.Can(p));
}

}  // namespace
}  // namespace hub::auth
