#include "auth/rbac.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>
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
         {perm::kConversationsOwn, perm::kHistoryReadOwn, perm::kImagesOwn, perm::kApiKeysOwn,
          perm::kModelsChat, perm::kModelsImages, perm::kModelsPassthrough}},
        {"auditor",
         {perm::kConversationsOwn, perm::kHistoryReadOwn, perm::kImagesOwn, perm::kApiKeysOwn,
          perm::kHistoryReadAll, perm::kAuditRead, perm::kModelsChat, perm::kModelsImages,
          perm::kModelsPassthrough}},
        {"admin",
         {perm::kConversationsOwn, perm::kHistoryReadOwn, perm::kHistoryReadAll, perm::kUsersManage,
          perm::kKeysManage, perm::kAuditRead, perm::kImagesOwn, perm::kApiKeysOwn,
          perm::kModelsChat, perm::kModelsImages, perm::kModelsPassthrough, perm::kRolesManage,
          perm::kSecurityRead}},
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
    EXPECT_EQ(AllPermissions().size(), 13u);
    for (auto p : AllPermissions()) EXPECT_FALSE(PermissionDescription(p).empty()) << p;
    EXPECT_TRUE(PermissionDescription("no:such").empty());
    EXPECT_TRUE(IsKnownPermission("models:passthrough"));
    EXPECT_TRUE(IsKnownPermission("roles:manage"));
    EXPECT_TRUE(IsKnownPermission("security:read"));
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

TEST(Rbac, ModelAllowList) {
    ModelAllowList all;
    EXPECT_TRUE(all.Allows("qwen-max"));
    ModelAllowList some({"qwen-plus", "wanx*"});
    EXPECT_TRUE(some.Allows("qwen-plus"));
    EXPECT_FALSE(some.Allows("qwen-plus-latest"));  // exact ids are exact
    EXPECT_TRUE(some.Allows("wanx2.1-t2i-turbo"));
    EXPECT_TRUE(some.Allows("wanx"));
    EXPECT_FALSE(some.Allows("qwen-max"));
    EXPECT_FALSE(some.Allows(""));

    EXPECT_TRUE(IsValidModelPattern("qwen-plus"));
    EXPECT_TRUE(IsValidModelPattern("qwen-*"));
    EXPECT_TRUE(IsValidModelPattern("*"));
    EXPECT_FALSE(IsValidModelPattern(""));
    EXPECT_FALSE(IsValidModelPattern("q*w"));
    EXPECT_FALSE(IsValidModelPattern("qwen plus"));
    EXPECT_FALSE(IsValidModelPattern(std::string(65, 'a')));
}

TEST(Rbac, RoleSettingsAndRequireModel) {
    RolePermissions rp = Defaults();
    rp.SetRoleSettings("user", ModelAllowList({"qwen-plus"}), true);
    EXPECT_TRUE(rp.RequiresMfa("user"));
    EXPECT_FALSE(rp.RequiresMfa("admin"));
    EXPECT_FALSE(rp.RequiresMfa("nobody"));
    EXPECT_EQ(rp.Models("user").patterns(), (std::vector<std::string>{"qwen-plus"}));
    EXPECT_TRUE(rp.Models("admin").empty());

    Principal p{"u1", "user", "s1"};
    FillFromRole(p, rp);
    EXPECT_TRUE(p.Can(perm::kApiKeysOwn));
    EXPECT_TRUE(RequireModel(p, perm::kModelsChat, "qwen-plus").ok());
    auto denied = RequireModel(p, perm::kModelsChat, "qwen-max");
    ASSERT_FALSE(denied.ok());
    EXPECT_EQ(denied.error().code, core::ErrorCode::kForbidden);
    EXPECT_EQ(denied.error().api_code, "model_not_allowed");
    EXPECT_NE(denied.error().public_message.find("qwen-max"), std::string::npos);
    auto no_family = RequireModel(p, perm::kKeysManage, "qwen-plus");
    ASSERT_FALSE(no_family.ok());
    EXPECT_EQ(no_family.error().api_code, "forbidden");

    // An API key's principal: the role's permissions as they are, minus managing keys.
    Principal key{"u1", "user", "", std::string("k1")};
    key.permissions.Add(perm::kUsersManage);  // whatever it carried before is replaced
    FillFromRole(key, rp);
    EXPECT_FALSE(key.Can(perm::kApiKeysOwn));
    EXPECT_FALSE(key.Can(perm::kUsersManage));
    EXPECT_TRUE(key.Can(perm::kModelsChat));
    EXPECT_FALSE(key.models.Allows("qwen-max"));
}

TEST(Rbac, RoleTableSwapsWholeTables) {
    RoleTable table(Defaults());
    EXPECT_TRUE(table.Allows("user", perm::kModelsImages));
    auto before = table.Snapshot();

    auto next = RolePermissions::FromRows({{"user", std::string(perm::kModelsChat)}});
    ASSERT_TRUE(next.ok());
    next->SetRoleSettings("user", ModelAllowList({"qwen-plus"}), true);
    table.Replace(std::move(next.value()));
    EXPECT_FALSE(table.Allows("user", perm::kModelsImages));
    EXPECT_TRUE(table.Allows("user", perm::kModelsChat));
    EXPECT_TRUE(table.RequiresMfa("user"));
    EXPECT_FALSE(table.Models("user").Allows("qwen-max"));
    EXPECT_FALSE(table.HasRole("admin"));
    // A snapshot taken before stays whole and unchanged.
    EXPECT_TRUE(before->Allows("user", perm::kModelsImages));
    EXPECT_TRUE(before->HasRole("admin"));
}

TEST(Rbac, RoleTableReadersNeverSeeHalfATable) {
    // Two tables that differ in two places at once: a reader must see both or neither.
    auto a = RolePermissions::FromRows({{"r", "models:chat"}, {"r", "models:images"}});
    auto b = RolePermissions::FromRows({{"r", "audit:read"}, {"r", "keys:manage"}});
    ASSERT_TRUE(a.ok() && b.ok());
    RoleTable table(a.value());
    std::atomic<bool> stop{false};
    std::atomic<int> torn{0};
    std::thread reader([&] {
        while (!stop.load()) {
            auto s = table.Snapshot();
            if (s->Allows("r", perm::kModelsChat) != s->Allows("r", perm::kModelsImages)) ++torn;
        }
    });
    for (int i = 0; i < 2000; ++i) table.Replace(i % 2 ? a.value() : b.value());
    stop = true;
    reader.join();
    EXPECT_EQ(torn.load(), 0);
}

}  // namespace
}  // namespace hub::auth
