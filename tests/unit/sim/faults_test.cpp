#include <gtest/gtest.h>

#include "faults.hpp"
#include "models.hpp"
#include "rate_limit.hpp"
#include "recorder.hpp"

namespace hub::sim {
namespace {

TEST(SimFaults, ParsesSwitches) {
    FaultSet f;
    auto unknown = ApplyFaultSpec("cut:3, drip:50,utf8-split,stall:2,inspection:mid,bogus,429", &f);
    EXPECT_EQ(unknown, std::vector<std::string>{"bogus"});
    EXPECT_EQ(f.cut_after, 3);
    EXPECT_EQ(f.drip_ms, 50);
    EXPECT_TRUE(f.utf8_split);
    EXPECT_EQ(f.stall_ms, 2000);
    EXPECT_EQ(f.inspection_mid, 3);
    EXPECT_EQ(f.status, 429);
    EXPECT_EQ(f.names.size(), 6u);

    FaultSet g;
    EXPECT_TRUE(ApplyFaultSpec("stall,stall-before-headers:1,drip,inspection,reset,malformed,"
                               "task-failed,task-partial,500,401,503,arrearage,no-blank-lines",
                               &g)
                    .empty());
    EXPECT_EQ(g.stall_ms, kDefaultStallMs);
    EXPECT_EQ(g.stall_before_headers_ms, 1000);
    EXPECT_EQ(g.drip_ms, kDefaultDripMs);
    EXPECT_TRUE(g.inspection && g.reset && g.malformed && g.task_failed && g.task_partial &&
                g.no_blank_lines);
    EXPECT_EQ(g.status, 400);  // last status switch wins
    EXPECT_EQ(ApplyFaultSpec("cut", &g).size(), 1u);      // cut needs N
    EXPECT_EQ(ApplyFaultSpec("cut:x", &g).size(), 1u);
    EXPECT_EQ(ApplyFaultSpec("reset:1", &g).size(), 1u);
}

TEST(SimFaults, Directives) {
    auto d = ParseDirectives("hello [sim:cut:2] and [sim:tokens=500] [sim:tps=12.5] "
                             "[sim:ttft=300] [sim:fault=drip] [sim:task-seconds=0.5] [sim:reasoning=4]");
    EXPECT_EQ(d.faults, "cut:2,drip");
    EXPECT_EQ(d.tokens, 500);
    EXPECT_EQ(d.tokens_per_second, 12.5);
    EXPECT_EQ(d.first_token_ms, 300);
    EXPECT_EQ(d.task_seconds, 0.5);
    EXPECT_EQ(d.reasoning_tokens, 4);
    EXPECT_TRUE(ParseDirectives("no directives [sim:unterminated").faults.empty());
}

TEST(SimFaults, QueueAppliesToMatchingPaths) {
    FaultQueue q;
    q.Push({"429", "/compatible-mode", 2});
    q.Push({"500", "", 1});
    EXPECT_EQ(q.Take("/api/v1/tasks/x"), "500");
    EXPECT_EQ(q.Take("/api/v1/tasks/x"), "");
    EXPECT_EQ(q.Take("/compatible-mode/v1/chat/completions"), "429");
    EXPECT_EQ(q.List().size(), 1u);
    EXPECT_EQ(q.Take("/compatible-mode/v1/chat/completions"), "429");
    EXPECT_TRUE(q.List().empty());
}

TEST(SimRateLimit, SlidingMinutePerKey) {
    RpmLimiter l(2);
    EXPECT_TRUE(l.Allow("a", 0));
    EXPECT_TRUE(l.Allow("a", 1000));
    EXPECT_FALSE(l.Allow("a", 2000));
    EXPECT_TRUE(l.Allow("b", 2000));
    EXPECT_TRUE(l.Allow("a", 60'001));
    RpmLimiter off(0);
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(off.Allow("a", 0));
}

TEST(SimModels, Lookup) {
    EXPECT_TRUE(LookupModel("qwen-plus"));
    EXPECT_EQ(LookupModel("qwen-plus-latest")->base, "qwen-plus");
    EXPECT_EQ(LookupModel("qwen-plus-2025-04-28")->base, "qwen-plus");
    EXPECT_EQ(LookupModel("qwen3-235b-a22b-thinking-2507")->thinking, Thinking::kAlways);
    EXPECT_TRUE(LookupModel("qwq-plus")->stream_only);
    EXPECT_EQ(LookupModel("qwen-vl-max")->kind, ModelKind::kVision);
    EXPECT_EQ(LookupModel("wanx-v1")->kind, ModelKind::kImage);
    EXPECT_FALSE(LookupModel("gpt-4"));
    EXPECT_FALSE(LookupModel("qwen-plus-foo"));
    EXPECT_TRUE(LookupModel("my-model", {"my-model"}));
}

TEST(SimRecorder, MasksSecretsAndTracksCancellations) {
    EXPECT_EQ(MaskSecret("Bearer sk-abcdef123456"), "Bearer ****3456");
    EXPECT_EQ(MaskSecret("sk-1"), "****");
    Recorder rec(2);
    RecordedRequest r;
    r.method = "POST";
    r.path = "/compatible-mode/v1/chat/completions";
    r.headers = {{"Authorization", "Bearer sk-abcdef123456"}, {"X-Other", "v"}};
    r.body = R"({"messages":[{"role":"user","content":"hi"}]})";
    auto s1 = rec.Begin(r);
    rec.SetInfo(s1, "compat.chat", "qwen-plus", true, "rid-1");
    rec.Finish(s1, 200, "cancelled", 3);
    auto s2 = rec.Begin(r);
    rec.SetInfo(s2, "compat.chat", "qwen-plus", false, "rid-2");
    rec.Finish(s2, 200, "ok");
    r.path = "/api/v1/tasks/x";
    r.body = "not json";
    auto s3 = rec.Begin(r);
    rec.Finish(s3, 200, "ok");

    auto list = rec.RequestsJson(10)["requests"];
    ASSERT_EQ(list.size(), 2u);  // capacity 2
    EXPECT_EQ(list[0]["request_id"], "rid-2");
    EXPECT_EQ(list[0]["headers"]["authorization"], "Bearer ****3456");
    EXPECT_EQ(list[0]["body"]["messages"][0]["content"], "hi");
    EXPECT_TRUE(list[1]["body"].is_null());
    EXPECT_EQ(list[1]["body_text"], "not json");
    EXPECT_EQ(rec.RequestsJson(1)["requests"][0]["path"], "/api/v1/tasks/x");
    EXPECT_EQ(rec.RequestsJson(10, "/compatible-mode")["requests"].size(), 1u);

    auto stats = rec.StatsJson();
    EXPECT_EQ(stats["requests"], 3);
    EXPECT_EQ(stats["cancelled"], 1);
    EXPECT_EQ(stats["cancelled_request_ids"], nlohmann::json::array({"rid-1"}));
    EXPECT_EQ(stats["streams"]["started"], 1);
    EXPECT_EQ(stats["in_flight"], 0);
    rec.Reset();
    EXPECT_EQ(rec.StatsJson()["requests"], 0);
    EXPECT_TRUE(rec.RequestsJson(10)["requests"].empty());
}

}  // namespace
}  // namespace hub::sim
