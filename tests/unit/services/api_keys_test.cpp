// Platform API keys: format and hashing (pure), and the service's lifecycle against a real
// SQLite store (create once-shown, list, revoke, expiry, disabled owner, model allow-list).
#include "services/api_keys.hpp"

#include <gtest/gtest.h>

#include <set>

#include "auth/rbac.hpp"
#include "core/clock.hpp"
#include "cache/topics.hpp"
#include "crypto/crypto.hpp"
#include "support/linked_bus.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::services {
namespace {

using core::ErrorCode;

TEST(ApiKeyFormat, GeneratedKeysLookRightAndAreUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        GeneratedApiKey k = GenerateApiKey();
        const std::string& t = k.token.Reveal();
        EXPECT_EQ(t.rfind("bh-", 0), 0u) << t;
        EXPECT_GE(t.size(), 43u);
        EXPECT_TRUE(LooksLikeApiKey(t)) << t;
        EXPECT_EQ(k.hash, crypto::Sha256Hex(t));
        EXPECT_EQ(k.hash.size(), 64u);
        EXPECT_EQ(k.prefix, t.substr(0, 8));
        EXPECT_EQ(k.prefix.size(), 8u);
        EXPECT_TRUE(seen.insert(t).second);
    }
}

TEST(ApiKeyFormat, RecognisesOnlyWellFormedKeys) {
    std::string body(43, 'a');
    EXPECT_TRUE(LooksLikeApiKey("bh-" + body));
    EXPECT_TRUE(LooksLikeApiKey("bh-" + std::string(40, 'Z')));
    EXPECT_FALSE(LooksLikeApiKey("bh-" + std::string(39, 'Z')));
    EXPECT_FALSE(LooksLikeApiKey("sk-" + body));
    EXPECT_FALSE(LooksLikeApiKey("BH-" + body));
    EXPECT_FALSE(LooksLikeApiKey("bh-" + body + "="));
    EXPECT_FALSE(LooksLikeApiKey("bh-" + body + " "));
    EXPECT_FALSE(LooksLikeApiKey("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig"));
    EXPECT_FALSE(LooksLikeApiKey(""));
    EXPECT_EQ(HashApiKey("bh-x"), crypto::Sha256Hex("bh-x"));
}

TEST(ApiKeyFormat, CallerModelAllowList) {
    Caller any;
    EXPECT_TRUE(any.MayUse("qwen-plus"));
    Caller limited;
    limited.allowed_models = {"qwen-plus"};
    EXPECT_TRUE(limited.MayUse("qwen-plus"));
    EXPECT_FALSE(limited.MayUse("qwen-max"));
    EXPECT_EQ(ParseModelList(R"(["a","b",3])"), (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(ParseModelList("[").empty());
    EXPECT_TRUE(ParseModelList("{}").empty());
}

class ApiKeysServiceTest : public store::testing::StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        auto roles = auth::RolePermissions::FromRows(auth::DefaultRolePermissionRows());
        ASSERT_TRUE(roles.ok());
        roles_.Replace(std::move(roles.value()));
        keys_ = std::make_unique<ApiKeys>(store(), db_, roles_, catalog_, revocations_, clock_);
        user_ = NewUser("keyowner");
        who_.user_id = user_.id;
        who_.role = "user";
        who_.session_id = "s1";
        auth::FillFromRole(who_, *roles_.Snapshot());
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
    auth::RevocationCache revocations_{clock_};
    auth::RoleTable roles_;
    Catalog catalog_;
    std::unique_ptr<ApiKeys> keys_;
    store::User user_;
    auth::Principal who_;
};

TEST_F(ApiKeysServiceTest, CreateStoresOnlyTheHashAndAuthenticates) {
    ApiKeyInput in;
    in.name = "ci";
    in.models = {"qwen-plus-latest", "qwen-plus"};
    auto created = Await(keys_->Create(who_, in, Meta()));
    ASSERT_TRUE(created.ok()) << created.error().public_message;
    const std::string token = created->token.Reveal();
    EXPECT_TRUE(LooksLikeApiKey(token));
    EXPECT_EQ(created->key.prefix, token.substr(0, 8));
    EXPECT_EQ(created->key.models, R"(["qwen-plus"])") << "aliases resolve to catalog ids";

    auto stored = store().ApiKeys().GetByHash(crypto::Sha256Hex(token));
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->key_hash.find(token), std::string::npos);

    auto caller = Await(keys_->Authenticate(token));
    ASSERT_TRUE(caller.ok()) << caller.error().public_message;
    EXPECT_EQ(caller->principal.user_id, user_.id);
    EXPECT_EQ(caller->principal.api_key_id, std::optional<std::string>(created->key.id));
    EXPECT_TRUE(caller->principal.IsApiKey());
    EXPECT_FALSE(caller->principal.Can(auth::perm::kApiKeysOwn));
    EXPECT_TRUE(caller->principal.Can(auth::perm::kConversationsOwn));
    EXPECT_EQ(caller->allowed_models, std::vector<std::string>{"qwen-plus"});
    EXPECT_TRUE(store().ApiKeys().Get(user_.id, created->key.id)->last_used_at.has_value());

    // The audit trail has the creation, never the key.
    auto audit = store().Audit().List({}, {});
    ASSERT_TRUE(audit.ok());
    bool found = false;
    for (const auto& e : audit->items) {
        EXPECT_EQ(e.detail.find(token), std::string::npos);
        if (e.action == "api_key.created") found = true;
    }
    EXPECT_TRUE(found);
}

TEST_F(ApiKeysServiceTest, RejectsBadInput) {
    ApiKeyInput in;
    in.name = "";
    EXPECT_EQ(Await(keys_->Create(who_, in, Meta())).error().code, ErrorCode::kInvalidArgument);
    in.name = "ok";
    in.expires_at = clock_.NowMs() - 1;
    EXPECT_EQ(Await(keys_->Create(who_, in, Meta())).error().code, ErrorCode::kInvalidArgument);
    in.expires_at.reset();
    in.models = {"no-such-model"};
    EXPECT_EQ(Await(keys_->Create(who_, in, Meta())).error().api_code, "unknown_model");
    auth::Principal via_key = who_;
    via_key.api_key_id = "k";
    in.models.clear();
    EXPECT_EQ(Await(keys_->Create(via_key, in, Meta())).error().code, ErrorCode::kForbidden);
}

TEST_F(ApiKeysServiceTest, RevokedExpiredUnknownAndDisabledAreAllInvalid) {
    ApiKeyInput in;
    in.name = "short";
    in.expires_at = clock_.NowMs() + 60'000;
    auto expiring = Await(keys_->Create(who_, in, Meta()));
    ASSERT_TRUE(expiring.ok());
    in.name = "revoked";
    in.expires_at.reset();
    auto revoked = Await(keys_->Create(who_, in, Meta()));
    ASSERT_TRUE(revoked.ok());

    ASSERT_TRUE(Await(keys_->Revoke(who_, revoked->key.id, Meta())).ok());
    ASSERT_TRUE(Await(keys_->Revoke(who_, revoked->key.id, Meta())).ok()) << "idempotent";
    auto gone = Await(keys_->Authenticate(revoked->token.Reveal()));
    EXPECT_EQ(gone.error().api_code, "invalid_api_key");
    EXPECT_EQ(gone.error().code, ErrorCode::kUnauthenticated);

    EXPECT_TRUE(Await(keys_->Authenticate(expiring->token.Reveal())).ok());
    Advance(60'001);
    auto expired = Await(keys_->Authenticate(expiring->token.Reveal()));
    EXPECT_EQ(expired.error().api_code, "invalid_api_key");
    EXPECT_EQ(expired.error().public_message, gone.error().public_message) << "no oracle";

    auto unknown = Await(keys_->Authenticate("bh-" + std::string(43, 'q')));
    EXPECT_EQ(unknown.error().api_code, "invalid_api_key");
    EXPECT_EQ(Await(keys_->Authenticate("not-a-key")).error().api_code, "invalid_api_key");

    in.name = "live";
    auto live = Await(keys_->Create(who_, in, Meta()));
    ASSERT_TRUE(live.ok());
    store::UserPatch patch;
    patch.status = store::UserStatus::kDisabled;
    ASSERT_TRUE(store().Users().Update(user_.id, patch).ok());
    EXPECT_EQ(Await(keys_->Authenticate(live->token.Reveal())).error().api_code, "invalid_api_key");

    auto list = Await(keys_->List(who_));
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(list->size(), 2u) << "revoked keys are not listed";

    auth::Principal other = who_;
    other.user_id = NewUser("someoneelse").id;
    EXPECT_EQ(Await(keys_->Revoke(other, live->key.id, Meta())).error().code, ErrorCode::kNotFound);
}

TEST_F(ApiKeysServiceTest, AnAuthenticatedKeyIsRememberedForAShortTimeOnly) {
    ApiKeyInput in;
    in.name = "hot";
    auto created = Await(keys_->Create(who_, in, Meta()));
    ASSERT_TRUE(created.ok());
    const std::string token = created->token.Reveal();
    ASSERT_TRUE(Await(keys_->Authenticate(token)).ok());
    // Revoked behind this process's back (another hub process): remembered until the cache
    // time is over, then refused.
    ASSERT_TRUE(store().ApiKeys().Revoke(user_.id, created->key.id).ok());
    EXPECT_TRUE(Await(keys_->Authenticate(token)).ok());
    Advance(ApiKeysConfig{}.auth_cache_ms);
    EXPECT_EQ(Await(keys_->Authenticate(token)).error().api_code, "invalid_api_key");
}

TEST_F(ApiKeysServiceTest, RevokingDisablingOrChangingTheOwnerHereTakesEffectAtOnce) {
    ApiKeyInput in;
    in.name = "a";
    auto a = Await(keys_->Create(who_, in, Meta()));
    in.name = "b";
    auto b = Await(keys_->Create(who_, in, Meta()));
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_TRUE(Await(keys_->Authenticate(a->token.Reveal())).ok());
    ASSERT_TRUE(Await(keys_->Authenticate(b->token.Reveal())).ok());

    ASSERT_TRUE(Await(keys_->Revoke(who_, a->key.id, Meta())).ok());
    auto revoked = Await(keys_->Authenticate(a->token.Reveal()));
    ASSERT_FALSE(revoked.ok());
    EXPECT_EQ(revoked.error().api_code, "invalid_api_key");

    // A role change noted by the accounts service: the next call reads the owner again.
    store::UserPatch patch;
    patch.role = "auditor";
    ASSERT_TRUE(store().Users().Update(user_.id, patch).ok());
    auto remembered = Await(keys_->Authenticate(b->token.Reveal()));
    ASSERT_TRUE(remembered.ok()) << remembered.error().detail;
    EXPECT_EQ(remembered->principal.role, "user");
    revocations_.NoteUserChanged(user_.id);
    Advance(1);  // lookups that begin later are remembered again
    auto fresh = Await(keys_->Authenticate(b->token.Reveal()));
    ASSERT_TRUE(fresh.ok()) << fresh.error().detail;
    EXPECT_EQ(fresh->principal.role, "auditor");

    // Disabled in the database only: still remembered; noted as the accounts service does it:
    // refused at once.
    store::UserPatch disable;
    disable.status = store::UserStatus::kDisabled;
    ASSERT_TRUE(store().Users().Update(user_.id, disable).ok());
    EXPECT_TRUE(Await(keys_->Authenticate(b->token.Reveal())).ok());
    revocations_.DisableUser(user_.id);
    auto disabled = Await(keys_->Authenticate(b->token.Reveal()));
    ASSERT_FALSE(disabled.ok());
    EXPECT_EQ(disabled.error().api_code, "invalid_api_key");
}

// A user's role as the live table has it now, with `models` as its allow-list.
void SetUserRole(auth::RoleTable& table, std::vector<std::string_view> perms,
                 std::vector<std::string> models) {
    std::vector<auth::RolePermissionRow> rows;
    for (auto r : auth::DefaultRolePermissionRows())
        if (r.role != "user") rows.push_back(r);
    for (auto p : perms) rows.push_back({"user", std::string(p)});
    auto next = auth::RolePermissions::FromRows(rows);
    ASSERT_TRUE(next.ok());
    next->SetRoleSettings("user", auth::ModelAllowList(std::move(models)), false);
    table.Replace(std::move(next.value()));
}

TEST_F(ApiKeysServiceTest, AKeyNeverHasMoreThanItsOwnersRoleHasNow) {
    ApiKeyInput in;
    in.name = "narrow";
    in.models = {"qwen-plus", "qwen-max"};
    auto created = Await(keys_->Create(who_, in, Meta()));
    ASSERT_TRUE(created.ok()) << created.error().public_message;
    const std::string token = created->token.Reveal();
    auto before = Await(keys_->Authenticate(token));
    ASSERT_TRUE(before.ok());
    EXPECT_TRUE(before->principal.Can(auth::perm::kModelsChat));
    EXPECT_TRUE(before->MayUse("qwen-max"));

    // The role loses chat and is narrowed to qwen-plus: the key's next call (remembered in the
    // cache or not) has neither, whatever the key itself lists.
    SetUserRole(roles_, {auth::perm::kConversationsOwn, auth::perm::kApiKeysOwn}, {"qwen-plus"});
    auto after = Await(keys_->Authenticate(token));
    ASSERT_TRUE(after.ok());
    EXPECT_FALSE(after->principal.Can(auth::perm::kModelsChat));
    EXPECT_FALSE(after->principal.Can(auth::perm::kApiKeysOwn));
    EXPECT_TRUE(after->principal.Can(auth::perm::kConversationsOwn));
    EXPECT_FALSE(after->MayUse("qwen-max"));
    EXPECT_TRUE(after->MayUse("qwen-plus"));
    const ModelInfo* plus = catalog_.Find("qwen-plus");
    ASSERT_NE(plus, nullptr);
    EXPECT_FALSE(after->MayCall(*plus)) << "no models:chat any more";

    // A new key cannot list a model the owner's role may not call.
    auth::FillFromRole(who_, *roles_.Snapshot());
    in.name = "wider";
    in.models = {"qwen-max"};
    auto wider = Await(keys_->Create(who_, in, Meta()));
    ASSERT_FALSE(wider.ok());
    EXPECT_EQ(wider.error().api_code, "model_not_allowed");
    EXPECT_NE(wider.error().public_message.find("qwen-max"), std::string::npos);

    // The role gets chat back: at once, again.
    SetUserRole(roles_, {auth::perm::kModelsChat, auth::perm::kApiKeysOwn}, {});
    auto again = Await(keys_->Authenticate(token));
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->MayCall(*plus));
    EXPECT_TRUE(again->MayUse("qwen-max"));
}

// Two hubs over one database, joined by an in-process bus: what one hub does to a key or its
// owner, the other sees as soon as the event arrives, not a cache time later.
class ApiKeysTwoHubsTest : public ApiKeysServiceTest {
protected:
    void SetUp() override {
        ApiKeysServiceTest::SetUp();
        revocations_.Connect(buses_.a());
        keys_->Connect(buses_.a());
        revocations_b_.Connect(buses_.b());
        keys_b_ = std::make_unique<ApiKeys>(store(), db_, roles_, catalog_, revocations_b_, clock_);
        keys_b_->Connect(buses_.b());
        ApiKeyInput in;
        in.name = "shared";
        auto created = Await(keys_->Create(who_, in, Meta()));
        ASSERT_TRUE(created.ok());
        id_ = created->key.id;
        token_ = created->token.Reveal();
        ASSERT_TRUE(Await(keys_->Authenticate(token_)).ok());
        ASSERT_TRUE(Await(keys_b_->Authenticate(token_)).ok());  // B remembers the caller
    }

    testing::LinkedBuses buses_;
    auth::RevocationCache revocations_b_{clock_};
    std::unique_ptr<ApiKeys> keys_b_;
    std::string id_;
    std::string token_;
};

TEST_F(ApiKeysTwoHubsTest, AKeyRevokedOnAIsRefusedOnBAtOnce) {
    ASSERT_TRUE(Await(keys_->Revoke(who_, id_, Meta())).ok());
    buses_.Drain();
    auto r = Await(keys_b_->Authenticate(token_));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "invalid_api_key");
    // The event names the key's id, nothing of its secret.
    auto log = buses_.b().log();
    ASSERT_FALSE(log.empty());
    EXPECT_EQ(log.back(), (cache::BusEvent{cache::topic::kApiKeyChanged, id_}));
    EXPECT_EQ(buses_.a().received(), 0u);  // no echo
}

TEST_F(ApiKeysTwoHubsTest, NewLimitsOnAApplyOnB) {
    auto set = Await(keys_->SetLimits(who_, id_, 7, std::nullopt, Meta()));
    ASSERT_TRUE(set.ok());
    buses_.Drain();
    auto r = Await(keys_b_->Authenticate(token_));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->key_rpm.value_or(0), 7);
}

TEST_F(ApiKeysTwoHubsTest, OwnerDisabledOrReRoledOnAReachesB) {
    store::UserPatch patch;
    patch.role = "auditor";
    ASSERT_TRUE(store().Users().Update(user_.id, patch).ok());
    Advance(1);
    revocations_.NoteUserChanged(user_.id);  // as Accounts does after the commit
    buses_.Drain();
    Advance(1);
    auto fresh = Await(keys_b_->Authenticate(token_));
    ASSERT_TRUE(fresh.ok());
    EXPECT_EQ(fresh->principal.role, "auditor");

    store::UserPatch disable;
    disable.status = store::UserStatus::kDisabled;
    ASSERT_TRUE(store().Users().Update(user_.id, disable).ok());
    revocations_.DisableUser(user_.id);
    buses_.Drain();
    auto refused = Await(keys_b_->Authenticate(token_));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().api_code, "invalid_api_key");
}

TEST_F(ApiKeysTwoHubsTest, ARevocationMissedWhileCutOffIsReplayed) {
    buses_.Disconnect(buses_.b());
    ASSERT_TRUE(Await(keys_->Revoke(who_, id_, Meta())).ok());
    buses_.Drain();
    EXPECT_TRUE(Await(keys_b_->Authenticate(token_)).ok());  // cut off: still remembered
    buses_.Reconnect(buses_.b());
    buses_.Drain();
    EXPECT_FALSE(Await(keys_b_->Authenticate(token_)).ok());
}

TEST_F(ApiKeysTwoHubsTest, ResyncedDropsEveryRememberedCaller) {
    // Revoked behind every hub's back (no event at all): only a resync or the cache time helps.
    ASSERT_TRUE(store().ApiKeys().Revoke(user_.id, id_).ok());
    EXPECT_TRUE(Await(keys_b_->Authenticate(token_)).ok());
    keys_b_->Apply({cache::kBusResynced, ""});
    EXPECT_FALSE(Await(keys_b_->Authenticate(token_)).ok());
}

}  // namespace
}  // namespace hub::services
