#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class ApiCallsTest : public testing::StoreTest {
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

TEST_F(ApiCallsTest, InsertKeepsEveryField) {
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

TEST_F(ApiCallsTest, BatchIsAllOrNothing) {
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

TEST_F(ApiCallsTest, ListFiltersAndPages) {
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

TEST_F(ApiCallsTest, StatsTotalsAndGroups) {
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

TEST_F(ApiCallsTest, TokensUsedSince) {
    ASSERT_OK(store().ApiCalls().InsertBatch(
        {Call("u1", "m", 1000), Call("u1", "m", 2000), Call("u2", "m", 2000)}));
    EXPECT_EQ(store().ApiCalls().TokensUsedSince("u1", 0).value(), 60);
    EXPECT_EQ(store().ApiCalls().TokensUsedSince("u1", 1500).value(), 30);
    EXPECT_EQ(store().ApiCalls().TokensUsedSince("nobody", 0).value(), 0);
}

}  // namespace
}  // namespace hub::store
