// Migration 0003: the model allow-list of platform keys and the owners of pass-through tasks.
#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class CompatApiStoreTest : public testing::DialectStoreTest {};

TEST_P(CompatApiStoreTest, ApiKeyModelsRoundTripAndDefaultToAny) {
    User u = NewUser("modeler");
    ApiKey k;
    k.user_id = u.id;
    k.name = "limited";
    k.key_hash = "hash-limited";
    k.prefix = "bh-abcde";
    k.models = R"(["qwen-plus","qwen-max"])";
    ASSERT_OK_AND_ASSIGN(ApiKey created, store().ApiKeys().Create(k));
    EXPECT_EQ(created.models, R"(["qwen-plus","qwen-max"])");
    ASSERT_OK_AND_ASSIGN(ApiKey by_hash, store().ApiKeys().GetByHash("hash-limited"));
    EXPECT_EQ(by_hash.models, R"(["qwen-plus","qwen-max"])");

    ApiKey any;
    any.user_id = u.id;
    any.key_hash = "hash-any";
    any.prefix = "bh-fghij";
    ASSERT_OK_AND_ASSIGN(ApiKey created_any, store().ApiKeys().Create(any));
    ASSERT_OK_AND_ASSIGN(ApiKey got, store().ApiKeys().Get(u.id, created_any.id));
    EXPECT_EQ(got.models, "[]");
    ASSERT_OK_AND_ASSIGN(auto listed, store().ApiKeys().ListByUser(u.id, false));
    ASSERT_EQ(listed.size(), 2u);

    ApiKey bad = k;
    bad.key_hash = "hash-bad";
    bad.models = "[qwen";
    EXPECT_ERROR(store().ApiKeys().Create(bad), ErrorCode::kInvalidArgument, "validation_failed");
}

TEST_P(CompatApiStoreTest, UpstreamTasksAreVisibleToTheirOwnerOnly) {
    User owner = NewUser("owner");
    User other = NewUser("intruder");
    UpstreamTask t;
    t.task_id = "9e2b6ef6-285d-4efa-8651-4dbda7d571fa";
    t.user_id = owner.id;
    t.api_key_id = "key-1";
    t.model = "wanx-v1";
    ASSERT_OK_AND_ASSIGN(UpstreamTask created, store().UpstreamTasks().Create(t));
    EXPECT_EQ(created.created_at, clock_.NowMs());
    EXPECT_ERROR(store().UpstreamTasks().Create(t), ErrorCode::kConflict, "upstream_task_exists");

    ASSERT_OK_AND_ASSIGN(UpstreamTask got, store().UpstreamTasks().Get(owner.id, t.task_id));
    EXPECT_EQ(got.model, "wanx-v1");
    EXPECT_EQ(got.api_key_id, std::optional<std::string>("key-1"));
    EXPECT_FALSE(got.accounted_at);
    EXPECT_ERROR(store().UpstreamTasks().Get(other.id, t.task_id), ErrorCode::kNotFound,
                 "upstream_task_not_found");
    EXPECT_ERROR(store().UpstreamTasks().Get(owner.id, "unknown"), ErrorCode::kNotFound,
                 "upstream_task_not_found");

    ASSERT_OK_AND_ASSIGN(bool first, store().UpstreamTasks().MarkAccounted(t.task_id, 42));
    EXPECT_TRUE(first);
    ASSERT_OK_AND_ASSIGN(bool second, store().UpstreamTasks().MarkAccounted(t.task_id, 43));
    EXPECT_FALSE(second);
    EXPECT_EQ(store().UpstreamTasks().Get(owner.id, t.task_id).value().accounted_at,
              std::optional<std::int64_t>(42));

    UpstreamTask orphan = t;
    orphan.task_id = "orphan";
    orphan.user_id = "no-such-user";
    EXPECT_FALSE(store().UpstreamTasks().Create(orphan).ok());
}


HUB_STORE_DIALECTS(CompatApiStoreTest);
}  // namespace
}  // namespace hub::store
