#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class ApiCallsTest : public testing::DialectStoreTest {
protected:
    ApiCall Call(const std::string& user, const std::string& model, std::int64_t at,
                 int status = 200, std::int64_t latency = 100) {
        ApiCall c;
        c.user_id = user;
        c.endpoint = "/v1/chat/completions";
        c.model = model;
        c.status_code = status;
        c.input_tokens = 10;
        c.output_tokens = 20;
        c.latency_ms = latency;
        c.cost_micro_cny = 1000;
        c.created_at = at;
        return c;
    }
};

TEST_P(ApiCallsTest, InsertKeepsEveryField) {
    ApiCall c = Call("u1", "qwen-plus", 0);
    c.api_key_id = "key-1";
    c.conversation_id = "conv-1";  // no foreign keys: the log never refuses a row
    c.error_code = "upstream_timeout";
    c.status_code = 504;
    c.image_count = 2;
    c.first_token_ms = 80;
    c.upstream_request_id = "req-abc";
    c.cache_hit = true;
    ASSERT_OK_AND_ASSIGN(ApiCall stored, store().ApiCalls().Insert(c));
    EXPECT_FALSE(stored.id.empty());
    EXPECT_EQ(stored.created_at, testing::kT0);

    ASSERT_OK_AND_ASSIGN(Page<ApiCall> page, store().ApiCalls().List({}, {}));
    ASSERT_EQ(page.items.size(), 1u);
    const ApiCall& got = page.items[0];
    EXPECT_EQ(got.id, stored.id);
    EXPECT_EQ(got.user_id, "u1");
    EXPECT_EQ(got.api_key_id, "key-1");
    EXPECT_EQ(got.conversation_id, "conv-1");
    EXPECT_EQ(got.endpoint, "/v1/chat/completions");
    EXPECT_EQ(got.status_code, 504);
    EXPECT_EQ(got.error_code, "upstream_timeout");
    EXPECT_EQ(got.input_tokens, 10);
    EXPECT_EQ(got.output_tokens, 20);
    EXPECT_EQ(got.image_count, 2);
    EXPECT_EQ(got.latency_ms, 100);
    EXPECT_EQ(got.first_token_ms, 80);
    EXPECT_EQ(got.cost_micro_cny, 1000);
    EXPECT_EQ(got.upstream_request_id, "req-abc");
    EXPECT_TRUE(got.cache_hit);
}

TEST_P(ApiCallsTest, BatchIsAllOrNothing) {
    std::vector<ApiCall> batch;
    for (int i = 0; i < 10; ++i) batch.push_back(Call("u1", "m", testing::kT0 + i));
    ASSERT_OK_AND_ASSIGN(std::vector<ApiCall> stored,
                         store().ApiCalls().InsertBatch(std::move(batch)));
    ASSERT_EQ(stored.size(), 10u);
    for (const auto& c : stored) EXPECT_FALSE(c.id.empty());

    std::vector<ApiCall> bad{Call("u1", "m", testing::kT0 + 100), stored[3]};  // duplicate id
    EXPECT_ERROR(store().ApiCalls().InsertBatch(bad), ErrorCode::kConflict, "conflict");
    PageRequest all;
    all.limit = 100;
    EXPECT_EQ(store().ApiCalls().List({}, all).value().items.size(), 10u);
}

TEST_P(ApiCallsTest, ListFiltersAndPages) {
    std::vector<ApiCall> batch{
        Call("u1", "qwen-plus", 1000),      Call("u1", "qwen-max", 2000),
        Call("u1", "qwen-plus", 3000, 429), Call("u2", "qwen-plus", 4000),
        Call("u1", "qwen-plus", 5000),
    };
    batch[4].error_code = "stream_interrupted";
    ASSERT_OK(store().ApiCalls().InsertBatch(batch));

    auto times = [&](const ApiCallFilter& f) {
        std::vector<std::int64_t> out;
        PageRequest page;
        page.limit = 2;
        while (true) {
            auto r = store().ApiCalls().List(f, page);
            EXPECT_TRUE(r.ok());
            if (!r.ok()) break;
            for (const auto& c : r.value().items) out.push_back(c.created_at);
            if (!r.value().next_cursor) break;
            page.cursor = *r.value().next_cursor;
        }
        return out;
    };
    using V = std::vector<std::int64_t>;
    EXPECT_EQ(times({}), (V{5000, 4000, 3000, 2000, 1000}));
    ApiCallFilter f;
    f.user_id = "u1";
    EXPECT_EQ(times(f), (V{5000, 3000, 2000, 1000}));
    f.from_ms = 2000;
    f.to_ms = 5000;
    EXPECT_EQ(times(f), (V{3000, 2000}));
    f.model = "qwen-plus";
    EXPECT_EQ(times(f), (V{3000}));

    ApiCallFilter errors;
    errors.outcome = CallOutcome::kError;
    EXPECT_EQ(times(errors), (V{5000, 3000}));
    ApiCallFilter ok;
    ok.outcome = CallOutcome::kOk;
    EXPECT_EQ(times(ok), (V{4000, 2000, 1000}));
}

TEST_P(ApiCallsTest, StatsTotalsAndGroups) {
    const std::int64_t day = 86'400'000;
    const std::int64_t d0 = 19'000 * day;  // a UTC midnight
    std::vector<ApiCall> batch;
    for (int i = 1; i <= 100; ++i) {
        batch.push_back(Call("u1", i % 4 == 0 ? "qwen-max" : "qwen-plus", d0 + i * 60'000,
                             i % 10 == 0 ? 500 : 200, i * 10));
    }
    ApiCall image = Call("u1", "wanx-v1", d0 + day + 5);
    image.image_count = 4;
    image.input_tokens = image.output_tokens = 0;
    batch.push_back(image);
    batch.push_back(Call("u2", "qwen-plus", d0 + 7));
    ASSERT_OK(store().ApiCalls().InsertBatch(batch));

    ApiCallFilter f;
    f.user_id = "u1";
    ASSERT_OK_AND_ASSIGN(UsageStats by_model, store().ApiCalls().Stats(f, UsageGroupBy::kModel));
    EXPECT_EQ(by_model.totals.calls, 101);
    EXPECT_EQ(by_model.totals.input_tokens, 1000);
    EXPECT_EQ(by_model.totals.output_tokens, 2000);
    EXPECT_EQ(by_model.totals.total_tokens, 3000);
    EXPECT_EQ(by_model.totals.images, 4);
    EXPECT_EQ(by_model.totals.cost_micro_cny, 101'000);
    EXPECT_EQ(by_model.totals.errors, 10);
    ASSERT_EQ(by_model.groups.size(), 3u);
    EXPECT_EQ(by_model.groups[0].key, "qwen-max");
    EXPECT_EQ(by_model.groups[0].calls, 25);
    EXPECT_EQ(by_model.groups[1].key, "qwen-plus");
    EXPECT_EQ(by_model.groups[1].calls, 75);
    EXPECT_EQ(by_model.groups[2].key, "wanx-v1");

    f.model = "qwen-plus";
    ASSERT_OK_AND_ASSIGN(UsageStats plus, store().ApiCalls().Stats(f, UsageGroupBy::kNone));
    EXPECT_EQ(plus.totals.calls, 75);
    EXPECT_TRUE(plus.groups.empty());

    ApiCallFilter chat;
    chat.user_id = "u1";
    chat.to_ms = d0 + day;
    ASSERT_OK_AND_ASSIGN(UsageStats lat, store().ApiCalls().Stats(chat, UsageGroupBy::kNone));
    EXPECT_EQ(lat.totals.latency_p50_ms, 500);  // latencies 10..1000
    EXPECT_EQ(lat.totals.latency_p95_ms, 950);
    EXPECT_EQ(lat.totals.latency_p99_ms, 990);

    ApiCallFilter everyone;
    ASSERT_OK_AND_ASSIGN(UsageStats by_day, store().ApiCalls().Stats(everyone, UsageGroupBy::kDay));
    ASSERT_EQ(by_day.groups.size(), 2u);
    EXPECT_EQ(by_day.groups[0].key, DayKey(d0, 0));
    EXPECT_EQ(by_day.groups[0].calls, 101);  // u2 included
    EXPECT_EQ(by_day.groups[1].calls, 1);

    // Days in Beijing time: the calls 16:00 UTC onwards belong to the next day.
    ASSERT_OK_AND_ASSIGN(UsageStats bj,
                         store().ApiCalls().Stats(everyone, UsageGroupBy::kDay, 480));
    EXPECT_EQ(bj.groups[0].key, DayKey(d0, 480));
}

TEST_P(ApiCallsTest, TokensUsedSince) {
    ASSERT_OK(store().ApiCalls().InsertBatch(
        {Call("u1", "m", 1000), Call("u1", "m", 2000), Call("u2", "m", 2000)}));
    EXPECT_EQ(store().ApiCalls().TokensUsedSince("u1", 0).value(), 60);
    EXPECT_EQ(store().ApiCalls().TokensUsedSince("u1", 1500).value(), 30);
    EXPECT_EQ(store().ApiCalls().TokensUsedSince("nobody", 0).value(), 0);
}

TEST_P(ApiCallsTest, KindAndKeyFilters) {
    std::vector<ApiCall> rows;
    auto with = [&](std::string endpoint, std::optional<std::string> key) {
        ApiCall c = Call("u1", "qwen-plus", testing::kT0 + static_cast<std::int64_t>(rows.size()));
        c.endpoint = std::move(endpoint);
        c.api_key_id = std::move(key);
        rows.push_back(c);
    };
    with("chat", std::nullopt);
    with("chat.title", std::nullopt);
    with("/v1/chat/completions", "k1");
    with("/v1/images/generations", "k1");
    with("/dashscope/api/v1/services/aigc/text-generation/generation", "k2");
    with("images", std::nullopt);
    ASSERT_TRUE(store().ApiCalls().InsertBatch(rows).ok());
    auto count = [&](ApiCallFilter f) {
        return static_cast<int>(store().ApiCalls().ListBatch(f, {}, 100).value().items.size());
    };
    ApiCallFilter f;
    f.kind = CallKind::kChat;
    EXPECT_EQ(count(f), 1);
    f.kind = CallKind::kTitle;
    EXPECT_EQ(count(f), 1);
    f.kind = CallKind::kImages;
    EXPECT_EQ(count(f), 2);
    f.kind = CallKind::kCompatible;
    EXPECT_EQ(count(f), 1);
    f.kind = CallKind::kPassthrough;
    EXPECT_EQ(count(f), 1);
    f.kind = CallKind::kOther;
    EXPECT_EQ(count(f), 0);
    ApiCallFilter k;
    k.api_key_id = "k1";
    EXPECT_EQ(count(k), 2);
    k.api_key_id = "";
    EXPECT_EQ(count(k), 3);
    for (const auto& r : rows) {
        // The SQL filter and CallKindOf agree on every row.
        ApiCallFilter one;
        one.kind = CallKindOf(r.endpoint);
        one.model = r.model;
        EXPECT_GE(count(one), 1) << r.endpoint;
    }
}

TEST_P(ApiCallsTest, DashboardGroupsInOnePass) {
    const std::int64_t day = 86'400'000;
    std::vector<ApiCall> rows = {
        Call("u1", "qwen-plus", testing::kT0, 200, 100),
        Call("u1", "qwen-max", testing::kT0 + 1, 500, 300),
        Call("u2", "qwen-plus", testing::kT0 + day, 200, 200),
    };
    rows[2].api_key_id = "k9";
    rows[2].cost_micro_cny = 5000;
    ASSERT_TRUE(store().ApiCalls().InsertBatch(rows).ok());
    ASSERT_OK_AND_ASSIGN(UsageDashboard d, store().ApiCalls().Dashboard({}, 0, 10));
    EXPECT_EQ(d.totals.calls, 3);
    EXPECT_EQ(d.totals.errors, 1);
    EXPECT_EQ(d.totals.cost_micro_cny, 7000);
    EXPECT_EQ(d.totals.latency_p50_ms, 200);
    ASSERT_EQ(d.by_day.size(), 2u);
    EXPECT_EQ(d.by_day[0].key, DayKey(testing::kT0, 0));
    EXPECT_EQ(d.by_day[0].calls, 2);
    EXPECT_EQ(d.by_day[0].latency_p95_ms, 300);
    ASSERT_EQ(d.by_model.size(), 2u);
    EXPECT_EQ(d.by_model[0].key, "qwen-plus");  // most calls first
    EXPECT_EQ(d.by_model[0].calls, 2);
    ASSERT_EQ(d.by_day_model.size(), 3u);
    EXPECT_EQ(d.by_day_model[0].model, "qwen-max");
    EXPECT_EQ(d.by_day_model[0].total_tokens, 30);
    ASSERT_EQ(d.top_users.size(), 2u);
    EXPECT_EQ(d.top_users[0].key, "u2");  // highest cost first
    EXPECT_EQ(d.top_users[0].cost_micro_cny, 5000);
    ASSERT_EQ(d.top_keys.size(), 2u);
    EXPECT_EQ(d.top_keys[0].key, "k9");
    EXPECT_EQ(d.top_keys[1].key, "");  // calls without a platform key

    ApiCallFilter own;
    own.user_id = "u1";
    ASSERT_OK_AND_ASSIGN(UsageDashboard mine, store().ApiCalls().Dashboard(own, 0, 0));
    EXPECT_EQ(mine.totals.calls, 2);
    EXPECT_TRUE(mine.top_users.empty());
}


HUB_STORE_DIALECTS(ApiCallsTest);
}  // namespace
}  // namespace hub::store
