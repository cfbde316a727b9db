// Revocation across hubs, end to end through services::Accounts: two hubs over one database
// (each its own Accounts and RevocationCache, the same signing keys, as in a cluster) joined by
// an in-process bus. A token ended on hub A is refused by hub B without B reading anything.
#include <gtest/gtest.h>

#include "auth/rbac.hpp"
#include "cache/topics.hpp"
#include "services/accounts.hpp"
#include "support/linked_bus.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::services {
namespace {

class AccountsTwoHubsTest : public store::testing::StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        auto hasher = auth::PasswordHasher::Create(auth::kMinBcryptCost);
        ASSERT_TRUE(hasher.ok());
        hasher_.emplace(std::move(hasher.value()));
        ASSERT_TRUE(ring_.Rotate(clock_.Now()).ok());
        auto jwt = auth::JwtCodec::Create(ring_, {"bailian-hub", "bailian-hub"});
        ASSERT_TRUE(jwt.ok());
        jwt_.emplace(std::move(jwt.value()));
        auto roles = auth::RolePermissions::FromRows(auth::DefaultRolePermissionRows());
        ASSERT_TRUE(roles.ok());
        roles_.Replace(std::move(roles.value()));
        rev_a_.Connect(buses_.a());
        rev_b_.Connect(buses_.b());
        a_ = std::make_unique<Accounts>(store(), db_, crypto_, *hasher_, *jwt_, roles_, rev_a_,
                                        limiter_, clock_, AccountsConfig{});
        b_ = std::make_unique<Accounts>(store(), db_, crypto_, *hasher_, *jwt_, roles_, rev_b_,
                                        limiter_, clock_, AccountsConfig{});
        user_ = NewUser("alice");
        admin_ = NewUser("boss", "admin");
    }
    void TearDown() override { buses_.Drain(); }

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

    // Signs `u` in through hub A; both hubs accept the token.
    TokenPair SignIn(const store::User& u) {
        auto t = Await(a_->StartSession(u, Meta(), "{}"));
        EXPECT_TRUE(t.ok());
        EXPECT_TRUE(b_->Authenticate(t->access_token).ok());
        return std::move(t.value());
    }
    auth::Principal Admin() {
        auth::Principal p{admin_.id, "admin", "sa"};
        auth::FillFromRole(p, *roles_.Snapshot());
        return p;
    }
    void ExpectRefusedOnB(const std::string& token) {
        buses_.Drain();
        auto r = b_->Authenticate(token);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().api_code, "invalid_token");
    }

    testing::LinkedBuses buses_;
    async::WorkerPool db_{"db", 1};
    async::WorkerPool crypto_{"crypto", 1};
    std::optional<auth::PasswordHasher> hasher_;
    auth::KeyRing ring_;
    std::optional<auth::JwtCodec> jwt_;
    auth::RoleTable roles_;
    auth::RevocationCache rev_a_{clock_};
    auth::RevocationCache rev_b_{clock_};
    limit::LocalLimiter limiter_{clock_, {limit::BucketConfig::PerMinute(1000, 1000)}};
    std::unique_ptr<Accounts> a_;
    std::unique_ptr<Accounts> b_;
    store::User user_;
    store::User admin_;
};

TEST_F(AccountsTwoHubsTest, LogoutOnAIsRefusedOnB) {
    TokenPair t = SignIn(user_);
    auto who = a_->Authenticate(t.access_token);
    ASSERT_TRUE(who.ok());
    ASSERT_TRUE(Await(a_->Logout(*who, Meta())).ok());
    ExpectRefusedOnB(t.access_token);
    // What travelled: the session's id, never a token.
    for (const auto& e : buses_.b().log()) {
        EXPECT_EQ(e.topic, cache::topic::kSessionRevoked);
        EXPECT_EQ(e.payload, t.session_id);
    }
    EXPECT_EQ(buses_.a().received(), 0u);
}

TEST_F(AccountsTwoHubsTest, SessionDeletedOnAIsRefusedOnB) {
    TokenPair t1 = SignIn(user_);
    TokenPair t2 = SignIn(user_);
    auto who = a_->Authenticate(t1.access_token);
    ASSERT_TRUE(who.ok());
    ASSERT_TRUE(Await(a_->RevokeSession(*who, t2.session_id, Meta())).ok());
    ExpectRefusedOnB(t2.access_token);
    EXPECT_TRUE(b_->Authenticate(t1.access_token).ok());
}

TEST_F(AccountsTwoHubsTest, DisableOnAIsRefusedOnBAndEnableLetsNewSessionsIn) {
    TokenPair t = SignIn(user_);
    AdminUserPatch p;
    p.status = store::UserStatus::kDisabled;
    ASSERT_TRUE(Await(a_->AdminUpdateUser(Admin(), user_.id, p, Meta())).ok());
    ExpectRefusedOnB(t.access_token);
    EXPECT_TRUE(rev_b_.IsUserDisabled(user_.id));
    p.status = store::UserStatus::kActive;
    ASSERT_TRUE(Await(a_->AdminUpdateUser(Admin(), user_.id, p, Meta())).ok());
    buses_.Drain();
    EXPECT_FALSE(rev_b_.IsUserDisabled(user_.id));
    auto fresh = store().Users().Get(user_.id);
    ASSERT_TRUE(fresh.ok());
    SignIn(fresh.value());  // accepted on B again
    ExpectRefusedOnB(t.access_token);  // the old session stays ended
}

TEST_F(AccountsTwoHubsTest, RoleChangeOnAEndsTheSessionsOnB) {
    TokenPair t = SignIn(user_);
    AdminUserPatch p;
    p.role = "auditor";
    ASSERT_TRUE(Await(a_->AdminUpdateUser(Admin(), user_.id, p, Meta())).ok());
    ExpectRefusedOnB(t.access_token);
}

TEST_F(AccountsTwoHubsTest, RefreshTokenReuseOnAEndsTheFamilyOnB) {
    TokenPair t = SignIn(user_);
    std::string first_refresh = t.refresh_token.Reveal();
    auto next = Await(a_->Refresh(first_refresh, Meta()));
    ASSERT_TRUE(next.ok());
    ASSERT_TRUE(b_->Authenticate(next->access_token).ok());
    auto reused = Await(a_->Refresh(first_refresh, Meta()));
    ASSERT_FALSE(reused.ok());
    EXPECT_EQ(reused.error().api_code, "refresh_token_reused");
    ExpectRefusedOnB(next->access_token);
    ExpectRefusedOnB(t.access_token);
}

TEST_F(AccountsTwoHubsTest, PasswordChangeOnAEndsTheOtherSessionsOnB) {
    auto hash = hasher_->Hash("old-password-1");
    ASSERT_TRUE(hash.ok());
    store::UserPatch patch;
    patch.password_hash = hash.value();
    ASSERT_TRUE(store().Users().Update(user_.id, patch).ok());
    TokenPair here = SignIn(user_);
    TokenPair other = SignIn(user_);
    auto who = a_->Authenticate(here.access_token);
    ASSERT_TRUE(who.ok());
    auto changed = Await(a_->ChangePassword(*who, "old-password-1", "new-password-2", Meta()));
    ASSERT_TRUE(changed.ok()) << changed.error().public_message;
    ExpectRefusedOnB(other.access_token);
    EXPECT_TRUE(b_->Authenticate(here.access_token).ok());  // the session that changed it
}

TEST_F(AccountsTwoHubsTest, AHubCutOffCatchesUpOnReconnect) {
    TokenPair t = SignIn(user_);
    buses_.Disconnect(buses_.b());
    auto who = a_->Authenticate(t.access_token);
    ASSERT_TRUE(who.ok());
    ASSERT_TRUE(Await(a_->Logout(*who, Meta())).ok());
    buses_.Drain();
    EXPECT_TRUE(b_->Authenticate(t.access_token).ok());  // cut off: not told yet
    buses_.Reconnect(buses_.b());
    ExpectRefusedOnB(t.access_token);
}

}  // namespace
}  // namespace hub::services
