// Roles as data: validation (pure), the lockout guard, and the service against a real SQLite
// store: every write reloads the live table, so the next authentication sees it.
#include "services/roles.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "cache/topics.hpp"
#include "support/linked_bus.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::services {
namespace {

using core::ErrorCode;

TEST(RoleValidation, NamesAndInput) {
    EXPECT_TRUE(ValidateRoleName("support").ok());
    EXPECT_TRUE(ValidateRoleName("ops-2_a").ok());
    for (const std::string& bad : std::vector<std::string>{"", "Support", "1ops", "a b", "x/y",
                                                         std::string(33, 'a')})
        EXPECT_EQ(ValidateRoleName(bad).error().code, ErrorCode::kInvalidArgument) << bad;

    Catalog catalog;
    RoleInput ok;
    ok.description = "Helps people";
    ok.permissions = {"models:chat", "conversations:own"};
    ok.models = {"qwen-plus", "wanx*"};
    EXPECT_TRUE(ValidateRoleInput(ok, catalog).ok());

    RoleInput unknown_perm;
    unknown_perm.permissions = {"models:chat", "root:all"};
    auto e = ValidateRoleInput(unknown_perm, catalog);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().api_code, "unknown_permission");
    EXPECT_NE(e.error().public_message.find("root:all"), std::string::npos);
    EXPECT_NE(e.error().public_message.find("security:read"), std::string::npos)
        << "lists the known permissions";

    RoleInput unknown_model;
    unknown_model.models = {"gpt-4"};
    EXPECT_EQ(ValidateRoleInput(unknown_model, catalog).error().api_code, "unknown_model");
    RoleInput bad_pattern;
    bad_pattern.models = {"qw*n"};
    EXPECT_EQ(ValidateRoleInput(bad_pattern, catalog).error().code, ErrorCode::kInvalidArgument);
    RoleInput too_many;
    too_many.models = std::vector<std::string>(65, "qwen-*");
    EXPECT_EQ(ValidateRoleInput(too_many, catalog).error().code, ErrorCode::kInvalidArgument);
    RoleInput long_description;
    long_description.description = std::string(256, 'x');
    EXPECT_EQ(ValidateRoleInput(long_description, catalog).error().code,
              ErrorCode::kInvalidArgument);
}

TEST(RoleValidation, AdminKeepsUsersAndRolesManage) {
    store::Role admin{"admin", "", {"roles:manage", "users:manage"}};
    EXPECT_TRUE(CheckNoLockout(admin).ok());
    admin.permissions = {"roles:manage"};
    EXPECT_EQ(CheckNoLockout(admin).error().api_code, "admin_lockout");
    admin.permissions = {"users:manage"};
    EXPECT_EQ(CheckNoLockout(admin).error().api_code, "admin_lockout");
    store::Role other{"support", "", {}};
    EXPECT_TRUE(CheckNoLockout(other).ok());
}

class RolesServiceTest : public store::testing::StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        roles_ = std::make_unique<Roles>(store(), db_, table_, catalog_, clock_);
        ASSERT_TRUE(roles_->ReloadBlocking().ok());
        admin_.user_id = NewUser("boss", "admin").id;
        admin_.role = "admin";
        auth::FillFromRole(admin_, *table_.Snapshot());
    }

    template <class T>
    T Await(net::awaitable<T> aw) {
        net::io_context io;
        std::optional<T> out;
        net::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
            if (e) std::rethrow_exception(e);
            out = std::move(v);
        });
        io.run();
        return std::move(*out);
    }

    RequestMeta Meta() { return {"127.0.0.1", "test", "rid"}; }

    async::WorkerPool db_{"db", 1};
    auth::RoleTable table_;
    Catalog catalog_;
    std::unique_ptr<Roles> roles_;
    auth::Principal admin_;
};

TEST_F(RolesServiceTest, WritesTakeEffectInTheLiveTableAtOnce) {
    EXPECT_TRUE(table_.Allows("admin", auth::perm::kRolesManage));
    RoleInput in;
    in.description = "Chat with qwen-plus only";
    in.permissions = {"models:chat", "conversations:own"};
    in.models = {"qwen-plus"};
    in.mfa_required = true;
    auto created = Await(roles_->Create(admin_, "chatter", in, Meta()));
    ASSERT_TRUE(created.ok()) << created.error().public_message;
    EXPECT_FALSE(created->builtin);
    EXPECT_TRUE(table_.Allows("chatter", auth::perm::kModelsChat));
    EXPECT_FALSE(table_.Allows("chatter", auth::perm::kModelsImages));
    EXPECT_TRUE(table_.RequiresMfa("chatter"));
    EXPECT_FALSE(table_.Models("chatter").Allows("qwen-max"));

    // A member's principal, built as every request builds it, before and after an edit.
    auth::Principal member{"u9", "chatter", "s9"};
    auth::FillFromRole(member, *table_.Snapshot());
    EXPECT_FALSE(member.Can(auth::perm::kModelsImages));
    RoleInput patch;
    patch.permissions = {"models:chat", "models:images"};
    patch.models = std::vector<std::string>{};
    patch.mfa_required = false;
    auto updated = Await(roles_->Update(admin_, "chatter", patch, Meta()));
    ASSERT_TRUE(updated.ok()) << updated.error().public_message;
    EXPECT_EQ(updated->description, "Chat with qwen-plus only") << "absent = unchanged";
    auth::FillFromRole(member, *table_.Snapshot());
    EXPECT_TRUE(member.Can(auth::perm::kModelsImages));
    EXPECT_TRUE(member.models.Allows("qwen-max"));
    EXPECT_FALSE(table_.RequiresMfa("chatter"));

    // Audited, with what changed.
    store::AuditFilter f;
    f.target = "role:chatter";
    auto audit = store().Audit().List(f, {});
    ASSERT_TRUE(audit.ok());
    ASSERT_EQ(audit->items.size(), 2u);
    // Both may share a millisecond, whose order the ids do not fix: compare as a set.
    std::vector<std::string> actions{audit->items[0].action, audit->items[1].action};
    std::sort(actions.begin(), actions.end());
    EXPECT_EQ(actions, (std::vector<std::string>{"role.created", "role.updated"}));

    ASSERT_TRUE(Await(roles_->Delete(admin_, "chatter", Meta())).ok());
    EXPECT_FALSE(table_.HasRole("chatter"));
}

TEST_F(RolesServiceTest, RefusalsChangeNothing) {
    RoleInput in;
    in.permissions = {"models:chat"};
    ASSERT_TRUE(Await(roles_->Create(admin_, "used", in, Meta())).ok());
    NewUser("member", "used");

    auto dup = Await(roles_->Create(admin_, "used", in, Meta()));
    EXPECT_EQ(dup.error().api_code, "role_exists");
    auto builtin = Await(roles_->Delete(admin_, "user", Meta()));
    EXPECT_EQ(builtin.error().api_code, "role_builtin");
    auto in_use = Await(roles_->Delete(admin_, "used", Meta()));
    EXPECT_EQ(in_use.error().api_code, "role_in_use");
    EXPECT_EQ(Await(roles_->Delete(admin_, "ghost", Meta())).error().code, ErrorCode::kNotFound);

    RoleInput lockout;
    lockout.permissions = {"users:manage"};
    auto locked = Await(roles_->Update(admin_, "admin", lockout, Meta()));
    ASSERT_FALSE(locked.ok());
    EXPECT_EQ(locked.error().code, ErrorCode::kConflict);
    EXPECT_EQ(locked.error().api_code, "admin_lockout");
    EXPECT_TRUE(table_.Allows("admin", auth::perm::kRolesManage));

    RoleInput unknown;
    unknown.permissions = {"nope"};
    EXPECT_EQ(Await(roles_->Update(admin_, "used", unknown, Meta())).error().api_code,
              "unknown_permission");
    EXPECT_TRUE(table_.Allows("used", auth::perm::kModelsChat));

    // Without roles:manage: 403, and listing needs roles:manage or users:manage.
    auth::Principal user{"u1", "user", "s1"};
    auth::FillFromRole(user, *table_.Snapshot());
    EXPECT_EQ(Await(roles_->Create(user, "mine", in, Meta())).error().code, ErrorCode::kForbidden);
    EXPECT_EQ(Await(roles_->List(user)).error().code, ErrorCode::kForbidden);
    auto listed = Await(roles_->List(admin_));
    ASSERT_TRUE(listed.ok());
    EXPECT_EQ(listed->size(), 4u);
}

// Two hubs over one database: a role written on A is in force on B once the event arrives
// (B re-reads the table on its db pool, never on the delivering thread).
TEST_F(RolesServiceTest, ARoleEditedOnAIsInForceOnB) {
    testing::LinkedBuses buses;
    auth::RoleTable table_b;
    async::WorkerPool db_b{"db-b", 1};
    Roles roles_b(store(), db_b, table_b, catalog_, clock_);
    ASSERT_TRUE(roles_b.ReloadBlocking().ok());
    roles_->Connect(buses.a());
    roles_b.Connect(buses.b());

    RoleInput in;
    in.permissions = {"models:chat"};
    in.mfa_required = true;
    ASSERT_TRUE(Await(roles_->Create(admin_, "chatter", in, Meta())).ok());
    EXPECT_TRUE(testing::WaitUntil([&] { return table_b.HasRole("chatter"); }));
    EXPECT_TRUE(table_b.RequiresMfa("chatter"));  // the MFA flag travels with the role

    RoleInput patch;
    patch.permissions = {"models:chat", "models:images"};
    patch.mfa_required = false;
    ASSERT_TRUE(Await(roles_->Update(admin_, "chatter", patch, Meta())).ok());
    EXPECT_TRUE(testing::WaitUntil(
        [&] { return table_b.Allows("chatter", auth::perm::kModelsImages); }));
    EXPECT_FALSE(table_b.RequiresMfa("chatter"));

    ASSERT_TRUE(Await(roles_->Delete(admin_, "chatter", Meta())).ok());
    EXPECT_TRUE(testing::WaitUntil([&] { return !table_b.HasRole("chatter"); }));
    buses.Drain();
    EXPECT_EQ(buses.a().received(), 0u);  // no echo
    db_b.Stop();
}

TEST_F(RolesServiceTest, ResyncedReReadsTheTable) {
    // Written behind this hub's back (no event): only the resync brings it.
    store::Role r{"ghost", "", {"models:chat"}};
    ASSERT_TRUE(store().Roles().Create(r).ok());
    EXPECT_FALSE(table_.HasRole("ghost"));
    roles_->Apply({cache::kBusResynced, ""});
    EXPECT_TRUE(testing::WaitUntil([&] { return table_.HasRole("ghost"); }));
}

}  // namespace
}  // namespace hub::services
