// Compatible-mode bodies and chunks against the recorded/official payloads.
#include <gtest/gtest.h>

#include "content.hpp"
#include "errors.hpp"
#include "models.hpp"
#include "protocol_compat.hpp"
#include "unit/sim/sim_test_util.hpp"

namespace hub::sim {
namespace {

using test::KeyPaths;
using test::ojson;
using test::ParseSse;
using test::ReadConformance;

ChatRequest Compat(const std::string& body) {
    ChatRequest r;
    auto err = ParseCompatRequest(nlohmann::json::parse(body), &r);
    EXPECT_FALSE(err.has_value()) << (err ? NativeErrorMessage(*err) : "");
    return r;
}

Completion Gen(const ChatRequest& r, GenOptions opt = {}) {
    return Generate(r, *LookupModel(r.model_name), opt);
}

const CompatMeta kMeta{"chatcmpl-428b414f-fdd4-94c6-b179-8f576ad653a8", 1726132850, "qwen-plus"};

std::string Joined(const std::vector<Frame>& frames) {
    std::string s;
    for (const auto& f : frames) s += f.data;
    return s;
}

TEST(SimCompat, NonStreamBodyMatchesRecordedKeyOrder) {
    auto r = Compat(R"({"model":"qwen-plus","messages":[{"role":"user","content":"你是谁？"}]})");
    auto c = Gen(r);
    auto ours = ojson::parse(CompatBody(r, c, kMeta));
    auto theirs = ojson::parse(ReadConformance("compat_nonstream_ok.json"));
    EXPECT_EQ(KeyPaths(ours), KeyPaths(theirs));
    EXPECT_TRUE(ours["system_fingerprint"].is_null());
    EXPECT_TRUE(ours["choices"][0]["logprobs"].is_null());
    EXPECT_EQ(ours["usage"]["completion_tokens"], c.OutputTokens());
    EXPECT_EQ(ours["usage"]["total_tokens"], c.OutputTokens() + c.input_tokens);
    EXPECT_EQ(ours["id"], kMeta.id);
}

TEST(SimCompat, StreamWithUsageMatchesOfficialExample) {
    auto r = Compat(R"({"model":"qwen-plus","stream":true,"stream_options":{"include_usage":true},
                        "messages":[{"role":"user","content":"Who are you?"}]})");
    auto c = Gen(r);
    std::string text = Joined(CompatStreamFrames(r, c, kMeta));
    std::string official = ReadConformance("compat_stream_include_usage.sse");
    auto ours = ParseSse(text);
    auto theirs = ParseSse(official);
    ASSERT_GE(ours.size(), 4u);
    // "data: " with a space, events separated by a blank line, [DONE] last.
    for (const auto& e : ours) EXPECT_EQ(e.raw_data_line.rfind("data: ", 0), 0u);
    EXPECT_EQ(ours.back().data, "[DONE]");
    EXPECT_EQ(text.substr(text.size() - 14), "data: [DONE]\n\n");
    EXPECT_EQ(text.find("id:"), std::string::npos);
    EXPECT_EQ(text.find("event:"), std::string::npos);
    // Role chunk, a content chunk, finish chunk, usage chunk: same keys, same order.
    EXPECT_EQ(KeyPaths(ojson::parse(ours[0].data)), KeyPaths(ojson::parse(theirs[0].data)));
    EXPECT_EQ(KeyPaths(ojson::parse(ours[2].data)), KeyPaths(ojson::parse(theirs[2].data)));
    std::size_t n = ours.size();
    EXPECT_EQ(KeyPaths(ojson::parse(ours[n - 3].data)), KeyPaths(ojson::parse(theirs[theirs.size() - 3].data)));
    EXPECT_EQ(KeyPaths(ojson::parse(ours[n - 2].data)), KeyPaths(ojson::parse(theirs[theirs.size() - 2].data)));
    auto usage = ojson::parse(ours[n - 2].data);
    EXPECT_TRUE(usage["choices"].empty());
    EXPECT_EQ(usage["usage"]["completion_tokens"], c.OutputTokens());
    EXPECT_EQ(usage["usage"]["prompt_tokens"], c.input_tokens);
    // Content deltas concatenate to the answer; usage is null on every chunk but the last.
    std::string all;
    for (std::size_t i = 1; i + 3 < n; ++i) {
        auto j = ojson::parse(ours[i].data);
        EXPECT_TRUE(j["usage"].is_null());
        EXPECT_TRUE(j["choices"][0]["finish_reason"].is_null());
        all += j["choices"][0]["delta"]["content"].get<std::string>();
    }
    EXPECT_EQ(all, c.choices[0].Text());
    EXPECT_EQ(ojson::parse(ours[n - 3].data)["choices"][0]["finish_reason"], "stop");
}

TEST(SimCompat, StreamWithoutIncludeUsageHasNoUsageChunk) {
    auto r = Compat(R"({"model":"qwen-plus","stream":true,"messages":[{"role":"user","content":"hi"}]})");
    auto events = ParseSse(Joined(CompatStreamFrames(r, Gen(r), kMeta)));
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
        auto j = ojson::parse(events[i].data);
        EXPECT_TRUE(j["usage"].is_null());
        EXPECT_FALSE(j["choices"].empty());
    }
}

TEST(SimCompat, ThinkingStreamsReasoningFirst) {
    auto r = Compat(R"({"model":"qwen-plus","stream":true,"enable_thinking":true,
                        "stream_options":{"include_usage":true},
                        "messages":[{"role":"user","content":"hi"}]})");
    auto c = Gen(r);
    ASSERT_TRUE(c.thinking);
    auto events = ParseSse(Joined(CompatStreamFrames(r, c, kMeta)));
    auto first = ojson::parse(events[0].data)["choices"][0]["delta"];
    EXPECT_TRUE(first["content"].is_null());
    EXPECT_EQ(first["reasoning_content"], "");
    EXPECT_EQ(first["role"], "assistant");
    std::string reasoning, content;
    bool seen_content = false;
    for (std::size_t i = 1; i + 3 < events.size(); ++i) {
        auto d = ojson::parse(events[i].data)["choices"][0]["delta"];
        if (d["content"].is_null()) {
            EXPECT_FALSE(seen_content) << "reasoning after content";
            reasoning += d["reasoning_content"].get<std::string>();
        } else {
            seen_content = true;
            EXPECT_TRUE(d["reasoning_content"].is_null());
            content += d["content"].get<std::string>();
        }
    }
    EXPECT_EQ(reasoning, c.choices[0].ReasoningText());
    EXPECT_EQ(content, c.choices[0].Text());
    auto usage = ojson::parse(events[events.size() - 2].data)["usage"];
    EXPECT_EQ(usage["completion_tokens_details"]["reasoning_tokens"], c.ReasoningTokens());
    auto body = ojson::parse(CompatBody(r, c, kMeta));
    EXPECT_EQ(body["choices"][0]["message"]["reasoning_content"], c.choices[0].ReasoningText());
}

TEST(SimCompat, ToolCallInOpenAiShape) {
    auto r = Compat(R"({"model":"qwen-plus","stream":true,
        "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
                  "properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},"required":["city","unit"]}}}],
        "messages":[{"role":"user","content":"What's the weather in Paris today?"}]})");
    auto c = Gen(r);
    ASSERT_TRUE(c.choices[0].tool_call);
    auto args = nlohmann::json::parse(c.choices[0].tool_call->arguments);
    EXPECT_EQ(args["city"], "Paris");
    EXPECT_EQ(args["unit"], "c");
    auto body = ojson::parse(CompatBody(r, c, kMeta));
    auto msg = body["choices"][0]["message"];
    EXPECT_EQ(KeyPaths(msg["tool_calls"][0]),
              (std::vector<std::string>{"id", "type", "index", "function", "function.name",
                                        "function.arguments"}));
    EXPECT_EQ(msg["content"], "");
    EXPECT_EQ(body["choices"][0]["finish_reason"], "tool_calls");
    auto events = ParseSse(Joined(CompatStreamFrames(r, c, kMeta)));
    std::string joined;
    std::string id;
    for (const auto& e : events) {
        if (e.data == "[DONE]") continue;
        auto j = ojson::parse(e.data);
        if (j["choices"].empty()) continue;
        auto d = j["choices"][0]["delta"];
        if (d.contains("tool_calls")) {
            if (id.empty()) id = d["tool_calls"][0]["id"];
            joined += d["tool_calls"][0]["function"]["arguments"].get<std::string>();
        }
    }
    EXPECT_EQ(id, c.choices[0].tool_call->id);
    EXPECT_EQ(joined, c.choices[0].tool_call->arguments);
}

TEST(SimCompat, SeveralChoices) {
    auto r = Compat(R"({"model":"qwen-plus","n":2,"messages":[{"role":"user","content":"hi"}]})");
    auto c = Gen(r);
    auto body = ojson::parse(CompatBody(r, c, kMeta));
    ASSERT_EQ(body["choices"].size(), 2u);
    EXPECT_EQ(body["choices"][1]["index"], 1);
    EXPECT_NE(body["choices"][0]["message"]["content"], body["choices"][1]["message"]["content"]);
}

TEST(SimCompat, LogprobsWhenAsked) {
    auto r = Compat(R"({"model":"qwen-plus","logprobs":true,"top_logprobs":2,"messages":[{"role":"user","content":"hi"}]})");
    auto c = Gen(r);
    auto body = ojson::parse(CompatBody(r, c, kMeta));
    auto lp = body["choices"][0]["logprobs"]["content"];
    ASSERT_EQ(lp.size(), c.choices[0].content.size());
    EXPECT_EQ(lp[0]["top_logprobs"].size(), 2u);
    EXPECT_EQ(lp[0]["token"], c.choices[0].content[0]);
}

TEST(SimCompat, ModelsList) {
    auto j = ojson::parse(CompatModelsBody({"qwen-plus", "qwen-max"}, 1));
    EXPECT_EQ(j["object"], "list");
    EXPECT_EQ(j["data"][0]["id"], "qwen-plus");
    EXPECT_EQ(j["data"][0]["object"], "model");
}

TEST(SimCompat, MalformedFrameIsNotJson) {
    auto r = Compat(R"({"model":"qwen-plus","stream":true,"messages":[{"role":"user","content":"hi"}]})");
    auto frames = CompatStreamFrames(r, Gen(r), kMeta);
    std::string bad = MalformFrame(frames[1].data);
    auto events = ParseSse(bad);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_TRUE(nlohmann::json::parse(events[0].data, nullptr, false).is_discarded());
    EXPECT_EQ(bad.substr(bad.size() - 2), "\n\n");
    EXPECT_TRUE(nlohmann::json::parse(MalformBody(R"({"a":1})"), nullptr, false).is_discarded());
}

}  // namespace
}  // namespace hub::sim
