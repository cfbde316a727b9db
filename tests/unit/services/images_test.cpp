#include "services/images.hpp"

#include <gtest/gtest.h>

#include "services/image_rules.hpp"
#include "unit/bailian/conformance.hpp"

namespace hub::services {
namespace {

using core::ErrorCode;

ImageRequest Req(std::string prompt, std::string model = "", std::string size = "",
                 std::optional<int> n = std::nullopt) {
    ImageRequest r;
    r.prompt = std::move(prompt);
    r.model = std::move(model);
    r.size = std::move(size);
    r.n = n;
    return r;
}

void ExpectFieldError(const core::Result<ImageRequest>& r, const std::string& field) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().public_message.rfind(field + " ", 0), 0u) << r.error().public_message;
}

TEST(ImageRules, DefaultsAreFilledIn) {
    Catalog c;
    auto r = ValidateImageRequest(c, "wan2.2-t2i-flash", Req("a red fox"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->model, "wan2.2-t2i-flash");
    EXPECT_EQ(r->size, "1024*1024");
    EXPECT_EQ(r->n, 1);
    auto wan25 = ValidateImageRequest(c, "x", Req("a red fox", "wan2.5-t2i-preview"));
    ASSERT_TRUE(wan25.ok());
    EXPECT_EQ(wan25->size, "1280*1280");
    // OpenAI's "WxH" is accepted and stored as DashScope's "W*H".
    auto x = ValidateImageRequest(c, "wan2.2-t2i-flash", Req("fox", "", "720x1280", 4));
    ASSERT_TRUE(x.ok());
    EXPECT_EQ(x->size, "720*1280");
    EXPECT_EQ(x->n, 4);
}

TEST(ImageRules, EveryCatalogImageModelHasRulesItsPresetsPass) {
    Catalog c;
    int image_models = 0;
    for (const auto& m : c.All()) {
        if (m.kind != ModelKind::kImage) continue;
        ++image_models;
        ImageRules rules = RulesFor(m);
        EXPECT_FALSE(rules.sizes.empty()) << m.id;
        for (const auto& size : rules.sizes) {
            EXPECT_TRUE(ValidateImageRequest(c, m.id, Req("p", m.id, size)).ok()) << m.id << size;
        }
        EXPECT_TRUE(ValidateImageRequest(c, m.id, Req("p", m.id, rules.default_size)).ok());
    }
    EXPECT_GE(image_models, 6);
}

TEST(ImageRules, BadInputNamesTheField) {
    Catalog c;
    const std::string d = "wan2.2-t2i-flash";
    ExpectFieldError(ValidateImageRequest(c, d, Req("   ")), "prompt");
    ExpectFieldError(ValidateImageRequest(c, d, Req(std::string(501, 'a'))), "prompt");
    EXPECT_TRUE(ValidateImageRequest(c, d, Req(std::string(500, 'a'))).ok());
    // Characters, not bytes: 500 CJK characters are allowed.
    std::string cjk;
    for (int i = 0; i < 500; ++i) cjk += "猫";
    EXPECT_TRUE(ValidateImageRequest(c, d, Req(cjk)).ok());
    EXPECT_TRUE(ValidateImageRequest(c, d, Req(std::string(2000, 'a'), "wan2.5-t2i-preview")).ok());
    ImageRequest neg = Req("fox");
    neg.negative_prompt = std::string(501, 'b');
    ExpectFieldError(ValidateImageRequest(c, d, neg), "negative_prompt");
    ExpectFieldError(ValidateImageRequest(c, d, Req("fox", "", "1024")), "size");
    ExpectFieldError(ValidateImageRequest(c, d, Req("fox", "", "2048*2048")), "size");
    ExpectFieldError(ValidateImageRequest(c, d, Req("fox", "", "256*256")), "size");
    ExpectFieldError(ValidateImageRequest(c, d, Req("fox", "wanx-v1", "1024*768")), "size");
    ExpectFieldError(ValidateImageRequest(c, d, Req("fox", "wan2.5-t2i-preview", "1024*1024")),
                     "size");
    ExpectFieldError(ValidateImageRequest(c, d, Req("fox", "", "", 0)), "n");
    ExpectFieldError(ValidateImageRequest(c, d, Req("fox", "", "", 5)), "n");
    ImageRequest seed = Req("fox");
    seed.seed = 2147483648;
    ExpectFieldError(ValidateImageRequest(c, d, seed), "seed");
    // A chat model, or an unknown one, is not an image model.
    auto chat = ValidateImageRequest(c, d, Req("fox", "qwen-plus"));
    ASSERT_FALSE(chat.ok());
    EXPECT_EQ(chat.error().api_code, "unknown_model");
    EXPECT_FALSE(ValidateImageRequest(c, d, Req("fox", "dall-e-3")).ok());
}

std::string Png(std::uint32_t w, std::uint32_t h) {
    std::string b("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
    for (std::uint32_t v : {w, h}) {
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<char>((v >> s) & 0xFF));
    }
    b += std::string("\x08\x02\0\0\0", 5) + std::string(4, '\0');
    return b;
}

TEST(ImageProbe, KnowsPngJpegWebpByTheirBytes) {
    auto png = ProbeImage(Png(1024, 768));
    ASSERT_TRUE(png);
    EXPECT_EQ(png->content_type, "image/png");
    EXPECT_EQ(png->extension, "png");
    EXPECT_EQ(png->width, 1024);
    EXPECT_EQ(png->height, 768);

    // JPEG: SOI, an APP0 segment, then SOF0 with height 300 and width 400.
    std::string jpeg("\xFF\xD8\xFF\xE0\x00\x04\x00\x00\xFF\xC0\x00\x11\x08\x01\x2C\x01\x90", 17);
    jpeg += std::string(12, '\0');
    auto j = ProbeImage(jpeg);
    ASSERT_TRUE(j);
    EXPECT_EQ(j->content_type, "image/jpeg");
    EXPECT_EQ(j->width, 400);
    EXPECT_EQ(j->height, 300);

    // WebP (VP8X): canvas 640 x 480 stored minus one, little-endian 24-bit.
    std::string webp = "RIFF" + std::string(4, '\0') + "WEBPVP8X" + std::string(8, '\0');
    webp += std::string("\x7F\x02\x00\xDF\x01\x00", 6);
    webp += std::string(8, '\0');
    auto w = ProbeImage(webp);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->content_type, "image/webp");
    EXPECT_EQ(w->width, 640);
    EXPECT_EQ(w->height, 480);

    EXPECT_FALSE(ProbeImage("<html><body>Access denied</body></html>"));
    EXPECT_FALSE(ProbeImage(Png(1024, 768).substr(0, 20)));  // truncated
    EXPECT_FALSE(ProbeImage(Png(0, 768)));
    EXPECT_FALSE(ProbeImage("GIF89a........................"));
    EXPECT_FALSE(ProbeImage(""));
}

TEST(ImageTasks, VerdictsFromRecordedTaskBodies) {
    using bailian::testing::ReadConformance;
    auto failed = bailian::ParseTaskResponse(ReadConformance("wanx_task_failed.json"));
    ASSERT_TRUE(failed.ok());
    TaskVerdict v = JudgeTask(*failed);
    EXPECT_EQ(v.action, TaskVerdict::Action::kFailed);
    EXPECT_EQ(v.status, store::GenerationStatus::kFailed);
    EXPECT_EQ(v.error_code, "InvalidParameter");

    auto running = bailian::ParseTaskResponse(ReadConformance("task_running.json"));
    ASSERT_TRUE(running.ok());
    EXPECT_EQ(JudgeTask(*running).action, TaskVerdict::Action::kRunning);

    auto partial = bailian::ParseTaskResponse(ReadConformance("wanx_task_partial_failure.json"));
    ASSERT_TRUE(partial.ok());
    EXPECT_EQ(JudgeTask(*partial).action, TaskVerdict::Action::kSucceeded);

    auto unknown = bailian::ParseTaskResponse(ReadConformance("task_unknown.json"));
    ASSERT_TRUE(unknown.ok());
    TaskVerdict u = JudgeTask(*unknown);
    EXPECT_EQ(u.action, TaskVerdict::Action::kFailed);
    EXPECT_EQ(u.error_code, "task_expired");

    EXPECT_EQ(GenerationErrorCode("DataInspectionFailed"), "content_filtered");
    EXPECT_EQ(GenerationErrorCode("data_inspection_failed"), "content_filtered");
    EXPECT_EQ(GenerationErrorCode("InternalError.Timeout"), "InternalError.Timeout");
    EXPECT_EQ(GenerationErrorCode(""), "task_failed");
}

TEST(ImageTasks, PollingSlowsDownToTheCap) {
    ImagesConfig cfg;
    EXPECT_EQ(PollDelay(0, cfg).count(), 1000);
    EXPECT_EQ(PollDelay(1, cfg).count(), 1500);
    EXPECT_EQ(PollDelay(2, cfg).count(), 2250);
    EXPECT_EQ(PollDelay(6, cfg).count(), 10000);
    EXPECT_EQ(PollDelay(1000, cfg).count(), 10000);
    for (int i = 0; i < 40; ++i) EXPECT_LE(PollDelay(i, cfg), PollDelay(i + 1, cfg));
}

TEST(ImageTasks, OneUsageRowPerGeneration) {
    Catalog c;
    store::ImageGeneration g;
    g.id = "gen";
    g.user_id = "u";
    g.api_key_id = "k";
    g.endpoint = "/v1/images/generations";
    g.model = "wanx-v1";
    g.seed = 7;
    g.status = store::GenerationStatus::kSucceeded;
    g.task_id = "task-1";
    g.upstream_request_id = "req-1";
    g.created_at = 1000;
    g.finished_at = 4500;
    store::GeneratedImage ok, bad;
    ok.ok = true;
    g.images = {ok, bad, ok};
    store::ApiCall row = GenerationCallRow(g, c);
    EXPECT_EQ(row.status_code, 200);
    EXPECT_EQ(row.image_count, 2);  // successful images only
    EXPECT_EQ(row.cost_micro_cny, 2 * 160'000);
    EXPECT_EQ(row.latency_ms, 3500);
    EXPECT_EQ(row.upstream_task_id, "task-1");
    EXPECT_EQ(row.upstream_request_id, "req-1");
    EXPECT_EQ(row.api_key_id, "k");
    EXPECT_EQ(row.created_at, 1000);
    EXPECT_EQ(ImageSeed(g, 0), 7);
    EXPECT_EQ(ImageSeed(g, 2), 9);

    g.status = store::GenerationStatus::kFailed;
    g.error_code = "content_filtered";
    g.images.clear();
    row = GenerationCallRow(g, c);
    EXPECT_EQ(row.status_code, 400);
    EXPECT_EQ(row.cost_micro_cny, 0);
    g.error_code = "timeout";
    EXPECT_EQ(GenerationCallRow(g, c).status_code, 504);
    g.error_code = "InvalidParameter";
    EXPECT_EQ(GenerationCallRow(g, c).status_code, 502);
    g.seed.reset();
    EXPECT_FALSE(ImageSeed(g, 1));
}

}  // namespace
}  // namespace hub::services
