#include <gtest/gtest.h>

#include "unit/sim/sim_test_util.hpp"
#include "wanx.hpp"

namespace hub::sim {
namespace {

using nlohmann::json;
using test::KeyPaths;
using test::ojson;
using test::ReadConformance;
using test::SortedKeyPaths;

ImageRequest Parse(const std::string& body) {
    ImageRequest r;
    auto e = ParseImageRequest(json::parse(body), {}, &r);
    EXPECT_FALSE(e) << (e ? e->message : "");
    return r;
}

TEST(SimWanx, ParsesRecordedSubmit) {
    auto r = Parse(ReadConformance("wanx_v1_submit_request.json"));
    EXPECT_TRUE(r.wanx_v1);
    EXPECT_EQ(r.n, 4);
    EXPECT_EQ(r.width, 1024);
    EXPECT_EQ(r.prompt, "一只奔跑的猫");
    EXPECT_EQ(r.seed, 42);
}

TEST(SimWanx, Validation) {
    ImageRequest r;
    auto e = ParseImageRequest(json::parse(R"({"model":"wanx-v1","input":{"prompt":"x"},"parameters":{"size":"512*512"}})"), {}, &r);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message, "The size is not match the allowed size ['1024*1024', '720*1280', '1280*720']");
    e = ParseImageRequest(json::parse(R"({"model":"wan2.2-t2i-flash","input":{"prompt":"x"},"parameters":{"size":"1024x1024"}})"), {}, &r);
    ASSERT_TRUE(e);
    e = ParseImageRequest(json::parse(R"({"model":"wan2.2-t2i-flash","input":{"prompt":"x"},"parameters":{"n":5}})"), {}, &r);
    ASSERT_TRUE(e);
    e = ParseImageRequest(json::parse(R"({"model":"qwen-plus","input":{"prompt":"x"}})"), {}, &r);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind, ErrorKind::kModelNotFound);
    e = ParseImageRequest(json::parse(R"({"model":"wan2.5-t2i-preview","input":{"prompt":"x"},"parameters":{"size":"1024*1024"}})"), {}, &r);
    ASSERT_TRUE(e);
    auto ok = Parse(R"({"model":"wan2.5-t2i-preview","input":{"prompt":"x"}})");
    EXPECT_EQ(ok.size, "1280*1280");
    EXPECT_EQ(ok.n, 4);
}

TEST(SimWanx, LifecycleAndBodies) {
    TaskStore store;
    const std::int64_t t0 = 1'709'285'904'817;  // 2024-03-01 17:38:24.817 in China time
    Task t = store.Submit(Parse(ReadConformance("wanx_v1_submit_request.json")), t0, 4000, false, false);
    EXPECT_EQ(FormatChinaTime(t0), "2024-03-01 17:38:24.817");

    auto submit = ojson::parse(SubmitBody(t.id, "rid"));
    EXPECT_EQ(KeyPaths(submit), KeyPaths(ojson::parse(ReadConformance("wanx_v1_submit_pending.json"))));

    EXPECT_EQ(t.StatusAt(t0), TaskStatus::kPending);
    auto running = ojson::parse(TaskBody(&t, t.id, t0 + 1500, "rid", "http://h"));
    EXPECT_EQ(running["output"]["task_status"], "RUNNING");
    EXPECT_EQ(KeyPaths(running), KeyPaths(ojson::parse(ReadConformance("task_running.json"))));

    auto done = ojson::parse(TaskBody(&t, t.id, t0 + 4000, "rid", "http://h"));
    EXPECT_EQ(done["output"]["task_status"], "SUCCEEDED");
    EXPECT_EQ(KeyPaths(done), KeyPaths(ojson::parse(ReadConformance("wanx_v1_task_succeeded.json"))));
    EXPECT_EQ(done["usage"]["image_count"], 4);
    std::string url = done["output"]["results"][0]["url"];
    EXPECT_EQ(url.rfind("http://h/results/" + t.id + "/1.png?Expires=", 0), 0u);

    // Cancel only while PENDING.
    EXPECT_EQ(store.Cancel(t.id, t0 + 1500), TaskStore::CancelResult::kNotPending);
    EXPECT_EQ(store.Cancel("nope", t0), TaskStore::CancelResult::kUnknown);
    Task p = store.Submit(Parse(R"({"model":"wanx-v1","input":{"prompt":"x"}})"), t0, 4000, false, false);
    EXPECT_EQ(store.Cancel(p.id, t0 + 10), TaskStore::CancelResult::kOk);
    EXPECT_EQ(store.Find(p.id)->StatusAt(t0 + 10'000), TaskStatus::kCanceled);
}

TEST(SimWanx, Wan2xResultsCarryPrompts) {
    TaskStore store;
    Task t = store.Submit(Parse(R"({"model":"wan2.2-t2i-flash","input":{"prompt":"花店"},"parameters":{"n":1}})"),
                          0, 0, false, false);
    auto body = ojson::parse(TaskBody(&t, t.id, 0, "rid", "http://h"));
    auto theirs = ojson::parse(ReadConformance("wanx_t2i_v2_task_succeeded.json"));
    EXPECT_EQ(KeyPaths(body), KeyPaths(theirs));
    EXPECT_EQ(body["output"]["results"][0]["orig_prompt"], "花店");
}

TEST(SimWanx, FailedAndPartialShapes) {
    TaskStore store;
    Task f = store.Submit(Parse(R"({"model":"wanx-v1","input":{"prompt":"x"}})"), 0, 0, true, false);
    auto failed = ojson::parse(TaskBody(&f, f.id, 0, "rid", "http://h"));
    EXPECT_EQ(failed["output"]["task_status"], "FAILED");
    EXPECT_FALSE(failed.contains("usage"));
    auto theirs_failed = ojson::parse(ReadConformance("wanx_task_failed.json"));
    for (const auto& k : SortedKeyPaths(theirs_failed)) {
        auto all = SortedKeyPaths(failed);
        EXPECT_NE(std::find(all.begin(), all.end(), k), all.end()) << k;
    }
    EXPECT_EQ(failed["output"]["task_metrics"]["FAILED"], 4);

    Task p = store.Submit(Parse(R"({"model":"wanx-v1","input":{"prompt":"x"},"parameters":{"n":2}})"), 0, 0,
                          false, true);
    auto partial = ojson::parse(TaskBody(&p, p.id, 0, "rid", "http://h"));
    EXPECT_EQ(partial["output"]["task_status"], "SUCCEEDED");
    EXPECT_EQ(partial["usage"]["image_count"], 1);
    EXPECT_TRUE(partial["output"]["results"][0].contains("url"));
    EXPECT_EQ(partial["output"]["results"][1]["code"], "InternalError.Timeout");
    EXPECT_EQ(partial["output"]["task_metrics"]["FAILED"], 1);
    EXPECT_TRUE(p.ImageFailed(1));
}

TEST(SimWanx, UnknownTask) {
    auto ours = ojson::parse(TaskBody(nullptr, "1111", 0, "rid", ""));
    auto theirs = ojson::parse(ReadConformance("task_unknown.json"));
    EXPECT_EQ(KeyPaths(ours), KeyPaths(theirs));
    EXPECT_EQ(ours["output"]["task_status"], "UNKNOWN");
}

TEST(SimWanx, ResultImagesAreSmallPngsShapedLikeTheRequest) {
    TaskStore store;
    Task t = store.Submit(Parse(R"({"model":"wanx-v1","input":{"prompt":"x"},"parameters":{"size":"720*1280"}})"),
                          0, 0, false, false);
    int w = 0, h = 0;
    ResultDims(t, &w, &h);
    EXPECT_EQ(h, 64);
    EXPECT_EQ(w, 36);
    std::string png = ResultPng(t, 0);
    EXPECT_EQ(png.substr(1, 3), "PNG");
    EXPECT_EQ(png, ResultPng(t, 0));
    EXPECT_NE(png, ResultPng(t, 1));
}

TEST(SimWanx, StoreIsBounded) {
    TaskStore store(2);
    auto r = Parse(R"({"model":"wanx-v1","input":{"prompt":"x"}})");
    Task a = store.Submit(r, 0, 0, false, false);
    store.Submit(r, 0, 0, false, false);
    store.Submit(r, 0, 0, false, false);
    EXPECT_EQ(store.Size(), 2u);
    EXPECT_FALSE(store.Find(a.id));
}

}  // namespace
}  // namespace hub::sim
