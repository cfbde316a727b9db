// Upstream keys across hubs: two pools over one database joined by an in-process bus. What an
// admin adds, disables, re-weights, rotates or deletes through hub A is what hub B's pool uses.
#include <gtest/gtest.h>

#include "cache/topics.hpp"
#include "services/upstream_keys.hpp"
#include "support/linked_bus.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::services {
namespace {

class UpstreamKeysTwoHubsTest : public store::testing::StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        a_ = std::make_unique<UpstreamKeys>(store(), db_a_, pool_a_, master_, clock_);
        b_ = std::make_unique<UpstreamKeys>(store(), db_b_, pool_b_, master_, clock_);
        a_->Connect(buses_.a());
        b_->Connect(buses_.b());
        admin_.user_id = NewUser("boss", "admin").id;
        admin_.role = "admin";
        auto roles = auth::RolePermissions::FromRows(auth::DefaultRolePermissionRows());
        ASSERT_TRUE(roles.ok());
        auth::FillFromRole(admin_, roles.value());
    }
    void TearDown() override {
        buses_.Drain();
        db_a_.Stop();
        db_b_.Stop();
        StoreTest::TearDown();
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

    // Hub B's view of key `row_id`: its pool entry, if any.
    std::optional<bailian::KeyHealth> OnB(const std::string& row_id) {
        for (auto& h : pool_b_.Snapshot())
            if (h.id.rfind(row_id + "@", 0) == 0 && !h.retired) return h;
        return std::nullopt;
    }

    RequestMeta Meta() { return {"127.0.0.1", "test", "rid"}; }

    testing::LinkedBuses buses_;
    crypto::MasterKey master_ = crypto::MasterKey::Generate();
    async::WorkerPool db_a_{"db-a", 1};
    async::WorkerPool db_b_{"db-b", 1};
    bailian::KeyPool pool_a_{clock_};
    bailian::KeyPool pool_b_{clock_};
    std::unique_ptr<UpstreamKeys> a_;
    std::unique_ptr<UpstreamKeys> b_;
    auth::Principal admin_;
};

TEST_F(UpstreamKeysTwoHubsTest, EditsOnAReachBsPool) {
    auto added = Await(a_->Add(admin_, "k1", "sk-first-secret", 2, Meta()));
    ASSERT_TRUE(added.ok()) << added.error().public_message;
    const std::string id = added->row.id;
    ASSERT_TRUE(testing::WaitUntil([&] { return OnB(id).has_value(); }));
    EXPECT_EQ(OnB(id)->weight, 2);
    EXPECT_EQ(OnB(id)->state, bailian::KeyState::kActive);
    {
        auto lease = pool_b_.Acquire();
        ASSERT_TRUE(lease.ok());
        EXPECT_EQ(lease->secret().Reveal(), "sk-first-secret");  // B decrypted it from the db
        lease->Complete(bailian::KeyOutcome::kSuccess);
    }

    // Disabled on A: no hub uses it.
    ASSERT_TRUE(Await(a_->Update(admin_, id, false, std::nullopt, Meta())).ok());
    ASSERT_TRUE(testing::WaitUntil([&] { return OnB(id) && OnB(id)->admin_disabled; }));
    EXPECT_FALSE(pool_b_.Acquire().ok());

    // Enabled again with a new weight.
    ASSERT_TRUE(Await(a_->Update(admin_, id, true, 5, Meta())).ok());
    ASSERT_TRUE(testing::WaitUntil(
        [&] { return OnB(id) && !OnB(id)->admin_disabled && OnB(id)->weight == 5; }));
    {
        auto lease = pool_b_.Acquire();
        ASSERT_TRUE(lease.ok());
        lease->Complete(bailian::KeyOutcome::kSuccess);
    }

    // Rotated: B's new calls use the new secret.
    clock_.Advance(std::chrono::milliseconds(10));
    ASSERT_TRUE(Await(a_->Rotate(admin_, id, "sk-second-secret", Meta())).ok());
    ASSERT_TRUE(testing::WaitUntil([&] {
        auto l = pool_b_.Acquire();
        if (!l.ok()) return false;
        l->Complete(bailian::KeyOutcome::kSuccess);
        return l->secret().Reveal() == "sk-second-secret";
    }));

    // Deleted: gone from B's pool.
    ASSERT_TRUE(Await(a_->Delete(admin_, id, Meta())).ok());
    ASSERT_TRUE(testing::WaitUntil([&] { return !OnB(id).has_value(); }));
    EXPECT_FALSE(pool_b_.Acquire().ok());
    buses_.Drain();
    EXPECT_EQ(buses_.a().received(), 0u);  // no echo
    for (const auto& e : buses_.b().log()) EXPECT_TRUE(e.payload.empty()) << e.topic;
}

TEST_F(UpstreamKeysTwoHubsTest, ResyncedBringsThePoolInLine) {
    // Added behind B's back while it was cut off: the event is lost, the resync catches up.
    buses_.Disconnect(buses_.b());
    auto added = Await(a_->Add(admin_, "k1", "sk-first-secret", 1, Meta()));
    ASSERT_TRUE(added.ok());
    buses_.Drain();
    EXPECT_FALSE(OnB(added->row.id).has_value());
    buses_.Reconnect(buses_.b());
    EXPECT_TRUE(testing::WaitUntil([&] { return OnB(added->row.id).has_value(); }));
}

TEST_F(UpstreamKeysTwoHubsTest, SyncLeavesAnUnchangedKeysHealthAlone) {
    auto added = Await(a_->Add(admin_, "k1", "sk-first-secret", 1, Meta()));
    ASSERT_TRUE(added.ok());
    ASSERT_TRUE(testing::WaitUntil([&] { return OnB(added->row.id).has_value(); }));
    {
        auto lease = pool_b_.Acquire();
        ASSERT_TRUE(lease.ok());
        lease->Complete(bailian::KeyOutcome::kThrottled);
    }
    ASSERT_EQ(OnB(added->row.id)->state, bailian::KeyState::kCooling);
    ASSERT_TRUE(b_->SyncBlocking().ok());
    EXPECT_EQ(OnB(added->row.id)->state, bailian::KeyState::kCooling);
}

}  // namespace
}  // namespace hub::services
