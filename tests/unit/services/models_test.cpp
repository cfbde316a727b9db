#include "services/models.hpp"

#include <gtest/gtest.h>

namespace hub::services {
namespace {

bailian::Usage U(std::int64_t in, std::int64_t out, std::int64_t reasoning = 0) {
    bailian::Usage u;
    u.input_tokens = in;
    u.output_tokens = out;
    u.total_tokens = in + out;
    u.reasoning_tokens = reasoning;
    return u;
}

TEST(Catalog, BuiltInModelsAndAliases) {
    Catalog c;
    EXPECT_EQ(c.DefaultModel(), "qwen-plus");
    const ModelInfo* plus = c.Find("qwen-plus");
    ASSERT_NE(plus, nullptr);
    EXPECT_EQ(plus->kind, ModelKind::kChat);
    EXPECT_GT(plus->context_window, 0);
    EXPECT_TRUE(plus->thinking);
    EXPECT_EQ(c.Find("qwen-plus-latest"), plus);
    EXPECT_EQ(c.Find("qwen-plus-2025-04-28"), plus);
    EXPECT_EQ(c.Find("qwen-plus-0919"), plus);
    EXPECT_EQ(c.Find("qwen-plus-x"), nullptr);
    EXPECT_EQ(c.Find("gpt-4"), nullptr);
    EXPECT_EQ(c.Find("qwen-vl-max")->kind, ModelKind::kVision);
    EXPECT_EQ(c.Find("wanx-v1")->kind, ModelKind::kImage);
    EXPECT_TRUE(c.Find("qwq-plus")->always_thinks);
}

TEST(Catalog, RequireRefusesUnknownDisabledAndWrongKind) {
    auto made = Catalog::Make({"qwen-max", {"qwen-long", "qwen-turbo-latest"}, {}});
    ASSERT_TRUE(made.ok()) << made.error().public_message;
    const Catalog& c = made.value();
    EXPECT_TRUE(c.RequireChat("qwen-max").ok());
    EXPECT_TRUE(c.RequireChat("qwen-vl-plus").ok());
    for (const char* bad : {"nope", "qwen-long", "qwen-turbo-latest", "wanx-v1", ""}) {
        auto r = c.RequireChat(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument);
        EXPECT_EQ(r.error().api_code, "unknown_model");
    }
    EXPECT_TRUE(c.RequireChat("qwen-turbo").ok());  // only the alias was disabled
    EXPECT_FALSE(c.Find("qwen-long")->enabled);
    EXPECT_TRUE(c.Require("wanx-v1", {ModelKind::kImage}).ok());
}

TEST(Catalog, ConfigAddsRepricesAndChecks) {
    ModelInfo tiny;
    tiny.id = "tiny-ctx";
    tiny.context_window = 300;
    tiny.tiers = {{0, MicroCny(0.001), MicroCny(2)}};
    ModelInfo plus;
    plus.id = "qwen-plus";
    plus.context_window = 1000;
    plus.tiers = {{0, 400, 1000}};
    auto made = Catalog::Make({"tiny-ctx", {}, {tiny, plus}});
    ASSERT_TRUE(made.ok()) << made.error().public_message;
    EXPECT_EQ(made->DefaultModel(), "tiny-ctx");
    EXPECT_EQ(made->Find("tiny-ctx")->context_window, 300);
    EXPECT_EQ(made->Find("qwen-plus")->context_window, 1000);
    EXPECT_EQ(made->CostMicroCny("qwen-plus", U(1000, 1000)), 1400);
    EXPECT_EQ(made->All().size(), Catalog::BuiltIn().size() + 1);

    EXPECT_FALSE(Catalog::Make({"no-such-model", {}, {}}).ok());
    EXPECT_FALSE(Catalog::Make({"qwen-plus", {"qwen-plus"}, {}}).ok());
    EXPECT_FALSE(Catalog::Make({"wanx-v1", {}, {}}).ok());
    ModelInfo bad;
    bad.id = "no-window";
    EXPECT_FALSE(Catalog::Make({"qwen-plus", {}, {bad}}).ok());
    bad.id = "negative";
    bad.context_window = 10;
    bad.tiers = {{0, -1, 0}};
    EXPECT_FALSE(Catalog::Make({"qwen-plus", {}, {bad}}).ok());
}

TEST(Catalog, CostIsTokensTimesPricePer1kTimes1000) {
    Catalog c;
    // qwen-plus: 0.0008 / 0.002 CNY per 1K tokens.
    EXPECT_EQ(c.CostMicroCny("qwen-plus", U(1000, 1000)), 800 + 2000);
    EXPECT_EQ(c.CostMicroCny("qwen-plus", U(22, 17)), 52);  // 17.6 + 34 = 51.6 -> 52
    EXPECT_EQ(c.CostMicroCny("qwen-plus", U(0, 0)), 0);
    // Thinking output price once reasoning tokens show (or when asked).
    EXPECT_EQ(c.CostMicroCny("qwen-plus", U(1000, 1000, 10)), 800 + 8000);
    EXPECT_EQ(c.CostMicroCny("qwen-plus", U(1000, 1000), true), 800 + 8000);
    // qwen3-max: tiered by prompt length.
    EXPECT_EQ(c.CostMicroCny("qwen3-max", U(1000, 1000)), 2500 + 10000);
    EXPECT_EQ(c.CostMicroCny("qwen3-max", U(100'000, 1000)), 400'000 + 16000);
    EXPECT_EQ(c.CostMicroCny("qwen3-max", U(200'000, 0)), 1'400'000);
    // Aliases are priced as their base; unknown models cost nothing.
    EXPECT_EQ(c.CostMicroCny("qwen-plus-latest", U(1000, 0)), 800);
    EXPECT_EQ(c.CostMicroCny("mystery", U(1000, 1000)), 0);
    EXPECT_EQ(c.ImageCostMicroCny("wanx-v1", 4), 640'000);
}

TEST(Catalog, MicroCnyConversions) {
    EXPECT_EQ(MicroCny(0.0008), 800);
    EXPECT_EQ(MicroCny(0.00015), 150);
    EXPECT_EQ(MicroCny(0.16), 160'000);
    EXPECT_EQ(MicroCny(-1), -1);
    EXPECT_DOUBLE_EQ(Cny(800), 0.0008);
}

}  // namespace
}  // namespace hub::services
