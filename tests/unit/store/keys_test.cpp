// Upstream (DashScope) keys and platform API keys.
#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class KeysTest : public testing::DialectStoreTest {};

UpstreamKey Upstream(const std::string& name) {
    UpstreamKey k;
    k.name = name;
    k.secret_enc = std::string("\x01\x02\x00\x03enc", 7);
    k.last4 = "ab12";
    k.weight = 2;
    return k;
}

TEST_P(KeysTest, UpstreamKeyLifecycle) {
    ASSERT_OK_AND_ASSIGN(UpstreamKey a, store().UpstreamKeys().Create(Upstream("primary")));
    Advance(10);
    ASSERT_OK_AND_ASSIGN(UpstreamKey b, store().UpstreamKeys().Create(Upstream("backup")));
    EXPECT_ERROR(store().UpstreamKeys().Create(Upstream("PRIMARY")), ErrorCode::kConflict,
                 "upstream_key_name_taken");

    ASSERT_OK_AND_ASSIGN(UpstreamKey got, store().UpstreamKeys().Get(a.id));
    EXPECT_EQ(got.secret_enc, std::string("\x01\x02\x00\x03enc", 7));
    EXPECT_EQ(got.status, UpstreamKeyStatus::kActive);
    EXPECT_EQ(got.weight, 2);
    EXPECT_FALSE(got.rotated_at);

    ASSERT_OK_AND_ASSIGN(std::vector<UpstreamKey> list, store().UpstreamKeys().List());
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].id, a.id);
    EXPECT_EQ(list[1].id, b.id);

    Advance(1000);
    UpstreamKeyPatch cool;
    cool.cooldown_until = clock_.NowMs() + 30'000;
    cool.weight = 5;
    cool.status = UpstreamKeyStatus::kRetiring;
    ASSERT_OK_AND_ASSIGN(UpstreamKey cooled, store().UpstreamKeys().Update(a.id, cool));
    EXPECT_EQ(cooled.cooldown_until, clock_.NowMs() + 30'000);
    EXPECT_EQ(cooled.weight, 5);
    EXPECT_EQ(cooled.status, UpstreamKeyStatus::kRetiring);
    EXPECT_FALSE(cooled.rotated_at);
    EXPECT_EQ(cooled.secret_enc, got.secret_enc);

    UpstreamKeyPatch rotate;
    rotate.secret = UpstreamKeySecret{"new-secret", "zz99"};
    rotate.cooldown_until = std::optional<std::int64_t>();  // clear
    ASSERT_OK_AND_ASSIGN(UpstreamKey rotated, store().UpstreamKeys().Update(a.id, rotate));
    EXPECT_EQ(rotated.secret_enc, "new-secret");
    EXPECT_EQ(rotated.last4, "zz99");
    EXPECT_EQ(rotated.rotated_at, clock_.NowMs());
    EXPECT_FALSE(rotated.cooldown_until);
    EXPECT_EQ(rotated.weight, 5);

    UpstreamKeyPatch rename;
    rename.name = "Backup";
    EXPECT_ERROR(store().UpstreamKeys().Update(a.id, rename), ErrorCode::kConflict,
                 "upstream_key_name_taken");
    EXPECT_ERROR(store().UpstreamKeys().Update("missing", rename), ErrorCode::kNotFound,
                 "upstream_key_not_found");

    ASSERT_OK(store().UpstreamKeys().Delete(b.id));
    EXPECT_ERROR(store().UpstreamKeys().Delete(b.id), ErrorCode::kNotFound,
                 "upstream_key_not_found");
    EXPECT_EQ(store().UpstreamKeys().List().value().size(), 1u);
}

TEST_P(KeysTest, ApiKeyLifecycle) {
    User u = NewUser("dev");
    User other = NewUser("other");
    ApiKey k;
    k.user_id = u.id;
    k.name = "ci";
    k.key_hash = "sha256-of-key";
    k.prefix = "bh_12ab";
    k.scopes = R"(["conversations:own"])";
    k.expires_at = clock_.NowMs() + 1000;
    ASSERT_OK_AND_ASSIGN(ApiKey created, store().ApiKeys().Create(k));
    EXPECT_FALSE(created.id.empty());
    Advance(5);
    ApiKey second = k;
    second.key_hash = "another-hash";
    second.expires_at.reset();
    ASSERT_OK_AND_ASSIGN(ApiKey created2, store().ApiKeys().Create(second));
    EXPECT_ERROR(store().ApiKeys().Create(k), ErrorCode::kConflict, "conflict");  // same hash
    ApiKey bad_scopes = k;
    bad_scopes.key_hash = "h3";
    bad_scopes.scopes = "[";
    EXPECT_ERROR(store().ApiKeys().Create(bad_scopes), ErrorCode::kInvalidArgument,
                 "validation_failed");

    ASSERT_OK_AND_ASSIGN(ApiKey by_hash, store().ApiKeys().GetByHash("sha256-of-key"));
    EXPECT_EQ(by_hash.id, created.id);
    EXPECT_EQ(by_hash.scopes, R"(["conversations:own"])");
    EXPECT_EQ(by_hash.prefix, "bh_12ab");
    EXPECT_TRUE(by_hash.IsUsable(clock_.NowMs()));
    EXPECT_ERROR(store().ApiKeys().GetByHash("nope"), ErrorCode::kNotFound, "api_key_not_found");
    EXPECT_ERROR(store().ApiKeys().Get(other.id, created.id), ErrorCode::kNotFound,
                 "api_key_not_found");

    ASSERT_OK(store().ApiKeys().Touch(created.id, clock_.NowMs()));
    EXPECT_EQ(store().ApiKeys().Get(u.id, created.id).value().last_used_at, clock_.NowMs());

    ASSERT_OK_AND_ASSIGN(auto listed, store().ApiKeys().ListByUser(u.id, false));
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].id, created2.id);  // newest first

    EXPECT_ERROR(store().ApiKeys().Revoke(other.id, created.id), ErrorCode::kNotFound,
                 "api_key_not_found");
    ASSERT_OK(store().ApiKeys().Revoke(u.id, created.id));
    ASSERT_OK(store().ApiKeys().Revoke(u.id, created.id));
    ASSERT_OK_AND_ASSIGN(ApiKey revoked, store().ApiKeys().GetByHash("sha256-of-key"));
    EXPECT_TRUE(revoked.revoked_at);
    EXPECT_FALSE(revoked.IsUsable(clock_.NowMs()));
    EXPECT_EQ(store().ApiKeys().ListByUser(u.id, false).value().size(), 1u);
    EXPECT_EQ(store().ApiKeys().ListByUser(u.id, true).value().size(), 2u);
    EXPECT_TRUE(store().ApiKeys().ListByUser(other.id, true).value().empty());
}


HUB_STORE_DIALECTS(KeysTest);
}  // namespace
}  // namespace hub::store
