#include "core/id.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class UsersTest : public testing::DialectStoreTest {};

TEST_P(UsersTest, CreateFillsIdAndTimesAndGetReturnsIt) {
    User u;
    u.username = "Alice";
    u.email = "Alice@Example.com";
    u.password_hash = "$2b$12$x";
    u.settings = R"({"theme":"dark"})";
    u.mfa_secret_enc = std::string("\x00\x01\xff", 3);
    ASSERT_OK_AND_ASSIGN(User created, store().Users().Create(u));
    EXPECT_TRUE(core::IsValidId(created.id));
    EXPECT_EQ(created.created_at, testing::kT0);
    EXPECT_EQ(created.updated_at, testing::kT0);
    EXPECT_EQ(created.role, "user");
    EXPECT_EQ(created.status, UserStatus::kActive);

    ASSERT_OK_AND_ASSIGN(User got, store().Users().Get(created.id));
    EXPECT_EQ(got.username, "Alice");
    EXPECT_EQ(got.email, "Alice@Example.com");
    EXPECT_EQ(got.settings, R"({"theme":"dark"})");
    EXPECT_EQ(got.mfa_secret_enc, std::string("\x00\x01\xff", 3));
    EXPECT_EQ(got.quota, UserQuota{});

    EXPECT_ERROR(store().Users().Get("missing"), ErrorCode::kNotFound, "user_not_found");
}

TEST_P(UsersTest, UsernameAndEmailAreUniqueCaseInsensitively) {
    NewUser("bob");
    User dup_name;
    dup_name.username = "BOB";
    dup_name.email = "other@example.com";
    dup_name.password_hash = "h";
    EXPECT_ERROR(store().Users().Create(dup_name), ErrorCode::kConflict, "username_taken");

    User dup_email;
    dup_email.username = "robert";
    dup_email.email = "Bob@EXAMPLE.com";
    dup_email.password_hash = "h";
    EXPECT_ERROR(store().Users().Create(dup_email), ErrorCode::kConflict, "email_taken");
}

TEST_P(UsersTest, UnknownRoleAndBadSettingsAreRefused) {
    User u;
    u.username = "carol";
    u.email = "carol@example.com";
    u.password_hash = "h";
    u.role = "superuser";
    EXPECT_ERROR(store().Users().Create(u), ErrorCode::kUnprocessable, "unknown_role");
    u.role = "user";
    u.settings = "{not json";
    EXPECT_ERROR(store().Users().Create(u), ErrorCode::kInvalidArgument, "validation_failed");
}

TEST_P(UsersTest, FindByLoginMatchesUsernameOrEmailIgnoringCase) {
    User dave = NewUser("dave");
    ASSERT_OK_AND_ASSIGN(User by_name, store().Users().FindByLogin("DAVE"));
    EXPECT_EQ(by_name.id, dave.id);
    ASSERT_OK_AND_ASSIGN(User by_email, store().Users().FindByLogin("Dave@Example.COM"));
    EXPECT_EQ(by_email.id, dave.id);
    EXPECT_ERROR(store().Users().FindByLogin("nobody"), ErrorCode::kNotFound, "user_not_found");
}

TEST_P(UsersTest, UpdateChangesOnlyWhatIsGiven) {
    User erin = NewUser("erin");
    Advance(1000);
    UserPatch p;
    p.display_name = "Erin E.";
    p.settings = R"({"lang":"zh-CN"})";
    p.password_hash = "$2b$12$new";
    p.role = "auditor";
    p.status = UserStatus::kDisabled;
    p.mfa_secret_enc = std::optional<std::string>("secret-bytes");
    p.quota = UserQuota{100000, 60};
    ASSERT_OK_AND_ASSIGN(User up, store().Users().Update(erin.id, p));
    EXPECT_EQ(up.display_name, "Erin E.");
    EXPECT_EQ(up.settings, R"({"lang":"zh-CN"})");
    EXPECT_EQ(up.password_hash, "$2b$12$new");
    EXPECT_EQ(up.role, "auditor");
    EXPECT_EQ(up.status, UserStatus::kDisabled);
    EXPECT_EQ(up.mfa_secret_enc, "secret-bytes");
    EXPECT_EQ(up.quota, (UserQuota{100000, 60}));
    EXPECT_EQ(up.username, "erin");
    EXPECT_EQ(up.email, erin.email);
    EXPECT_EQ(up.created_at, erin.created_at);
    EXPECT_EQ(up.updated_at, testing::kT0 + 1000);

    UserPatch clear;
    clear.mfa_secret_enc = std::optional<std::string>();
    clear.quota = UserQuota{std::nullopt, 30};
    ASSERT_OK_AND_ASSIGN(User cleared, store().Users().Update(erin.id, clear));
    EXPECT_FALSE(cleared.mfa_secret_enc);
    EXPECT_EQ(cleared.quota, (UserQuota{std::nullopt, 30}));
    EXPECT_EQ(cleared.display_name, "Erin E.");

    ASSERT_OK_AND_ASSIGN(User again, store().Users().Get(erin.id));
    EXPECT_EQ(again.quota, (UserQuota{std::nullopt, 30}));

    EXPECT_ERROR(store().Users().Update("missing", p), ErrorCode::kNotFound, "user_not_found");
}

TEST_P(UsersTest, UpdateMapsConflictsAndUnknownRoles) {
    NewUser("frank");
    User gina = NewUser("gina");
    UserPatch email;
    email.email = "FRANK@example.com";
    EXPECT_ERROR(store().Users().Update(gina.id, email), ErrorCode::kConflict, "email_taken");
    UserPatch role;
    role.role = "root";
    EXPECT_ERROR(store().Users().Update(gina.id, role), ErrorCode::kUnprocessable, "unknown_role");
    ASSERT_OK_AND_ASSIGN(User same, store().Users().Get(gina.id));
    EXPECT_EQ(same.email, gina.email);
    EXPECT_EQ(same.role, "user");
}

TEST_P(UsersTest, LastActiveAdminIsKept) {
    User a1 = NewUser("admin1", "admin");
    User a2 = NewUser("admin2", "admin");
    NewUser("plain");
    ASSERT_OK_AND_ASSIGN(std::int64_t admins, store().Users().CountActiveAdmins());
    EXPECT_EQ(admins, 2);

    UserPatch demote;
    demote.role = "user";
    demote.keep_an_active_admin = true;
    ASSERT_OK(store().Users().Update(a1.id, demote));
    EXPECT_EQ(store().Users().CountActiveAdmins().value(), 1);

    UserPatch disable;
    disable.status = UserStatus::kDisabled;
    disable.keep_an_active_admin = true;
    EXPECT_ERROR(store().Users().Update(a2.id, disable), ErrorCode::kConflict, "last_admin");
    ASSERT_OK_AND_ASSIGN(User still, store().Users().Get(a2.id));
    EXPECT_EQ(still.status, UserStatus::kActive);  // rolled back

    // Other changes to the last admin are fine.
    UserPatch rename;
    rename.display_name = "The Admin";
    rename.keep_an_active_admin = true;
    EXPECT_OK(store().Users().Update(a2.id, rename));
}

TEST_P(UsersTest, ListPagesNewestFirstWithSearchAndFilters) {
    std::vector<std::string> ids;
    for (int i = 0; i < 7; ++i) {
        ids.push_back(NewUser("user" + std::to_string(i), i == 3 ? "admin" : "user").id);
        Advance(10);
    }
    UserQuery q;
    q.page.limit = 3;
    std::vector<std::string> seen;
    while (true) {
        ASSERT_OK_AND_ASSIGN(Page<User> page, store().Users().List(q));
        for (const auto& u : page.items) seen.push_back(u.id);
        if (!page.next_cursor) break;
        q.page.cursor = *page.next_cursor;
    }
    std::vector<std::string> expected(ids.rbegin(), ids.rend());
    EXPECT_EQ(seen, expected);

    UserQuery search;
    search.q = "USER5@";
    ASSERT_OK_AND_ASSIGN(Page<User> found, store().Users().List(search));
    ASSERT_EQ(found.items.size(), 1u);
    EXPECT_EQ(found.items[0].username, "user5");

    UserQuery literal;
    literal.q = "user_";  // '_' is not a wildcard
    ASSERT_OK_AND_ASSIGN(Page<User> none, store().Users().List(literal));
    EXPECT_TRUE(none.items.empty());

    UserQuery admins;
    admins.role = "admin";
    ASSERT_OK_AND_ASSIGN(Page<User> only, store().Users().List(admins));
    ASSERT_EQ(only.items.size(), 1u);
    EXPECT_EQ(only.items[0].username, "user3");

    UserQuery disabled;
    disabled.status = UserStatus::kDisabled;
    EXPECT_TRUE(store().Users().List(disabled).value().items.empty());

    UserQuery bad;
    bad.page.cursor = "nonsense";
    EXPECT_ERROR(store().Users().List(bad), ErrorCode::kInvalidArgument, "invalid_cursor");
}


HUB_STORE_DIALECTS(UsersTest);
}  // namespace
}  // namespace hub::store
