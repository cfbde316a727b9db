// Native frames and bodies against the recorded conformance payloads.
#include <gtest/gtest.h>

#include "content.hpp"
#include "errors.hpp"
#include "models.hpp"
#include "protocol_native.hpp"
#include "unit/sim/sim_test_util.hpp"

namespace hub::sim {
namespace {

using test::KeyPaths;
using test::ojson;
using test::ParseSse;
using test::ReadConformance;
using test::SortedKeyPaths;

ChatRequest NativeRequest(const std::string& file, Api api = Api::kNativeText) {
    auto body = nlohmann::json::parse(ReadConformance(file));
    ChatRequest r;
    auto err = ParseNativeRequest(body, api, &r);
    EXPECT_FALSE(err.has_value()) << (err ? NativeErrorMessage(*err) : "");
    return r;
}

struct Built {
    ChatRequest req;
    ModelInfo model;
    Completion comp;
    NativeShape shape;
};

Built Build(ChatRequest req, GenOptions opt = {}) {
    Built b;
    b.req = std::move(req);
    b.model = *LookupModel(b.req.model_name);
    b.comp = Generate(b.req, b.model, opt);
    b.shape = NativeShapeFor(b.req, b.model, b.comp);
    return b;
}

std::string Joined(const std::vector<Frame>& frames) {
    std::string s;
    for (const auto& f : frames) s += f.data;
    return s;
}

// Every event: id counts from 1, event:result, the :HTTP_STATUS/200 comment, and a data line
// with no space after "data:". finish_reason is the string "null" until the last event.
void CheckNativeFraming(const std::string& text, std::size_t* count) {
    auto events = ParseSse(text);
    ASSERT_FALSE(events.empty());
    for (std::size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(events[i].id, std::to_string(i + 1));
        EXPECT_EQ(events[i].event, "result");
        ASSERT_EQ(events[i].comments.size(), 1u);
        EXPECT_EQ(events[i].comments[0], "HTTP_STATUS/200");
        EXPECT_EQ(events[i].raw_data_line.rfind("data:{", 0), 0u);
    }
    EXPECT_EQ(text.find("[DONE]"), std::string::npos);
    EXPECT_EQ(text.find("id: "), std::string::npos);
    EXPECT_EQ(text.find("event: "), std::string::npos);
    *count = events.size();
}

TEST(SimNative, MessageStreamMatchesRecordedShape) {
    auto req = NativeRequest("native_message_request.json");
    req.incremental_output = true;
    req.stream = true;
    auto b = Build(req);
    ASSERT_TRUE(b.shape.message);
    auto frames = NativeStreamFrames(b.req, b.comp, b.shape, "rid-1");
    std::string text = Joined(frames);
    std::size_t n = 0;
    CheckNativeFraming(text, &n);
    auto ours = ParseSse(text);
    auto theirs = ParseSse(ReadConformance("native_message_stream_ok.sse"));
    ASSERT_GE(theirs.size(), 2u);
    // Same keys in the same order as the recording, on intermediate and final events.
    EXPECT_EQ(KeyPaths(ojson::parse(ours.front().data)), KeyPaths(ojson::parse(theirs.front().data)));
    EXPECT_EQ(KeyPaths(ojson::parse(ours.back().data)), KeyPaths(ojson::parse(theirs.back().data)));
    int last_out = 0;
    std::string text_all;
    for (std::size_t i = 0; i < ours.size(); ++i) {
        auto j = ojson::parse(ours[i].data);
        auto fr = j["output"]["choices"][0]["finish_reason"];
        ASSERT_TRUE(fr.is_string());
        EXPECT_EQ(fr.get<std::string>(), i + 1 < ours.size() ? "null" : "stop");
        int out = j["usage"]["output_tokens"].get<int>();
        EXPECT_GE(out, last_out);  // cumulative
        last_out = out;
        EXPECT_EQ(j["usage"]["total_tokens"].get<int>(),
                  j["usage"]["input_tokens"].get<int>() + out);
        EXPECT_EQ(j["request_id"], "rid-1");
        text_all += j["output"]["choices"][0]["message"]["content"].get<std::string>();
    }
    EXPECT_EQ(last_out, b.comp.OutputTokens());
    EXPECT_EQ(text_all, b.comp.choices[0].Text());
    EXPECT_EQ(ours.size(), b.comp.choices[0].content.size() + 1);
}

TEST(SimNative, NonIncrementalStreamRepeatsTheWholeText) {
    auto req = NativeRequest("native_message_request.json");
    req.incremental_output = false;
    auto b = Build(req);
    auto events = ParseSse(Joined(NativeStreamFrames(b.req, b.comp, b.shape, "r")));
    std::string prev;
    for (const auto& e : events) {
        auto t = ojson::parse(e.data)["output"]["choices"][0]["message"]["content"].get<std::string>();
        EXPECT_EQ(t.rfind(prev, 0), 0u);
        prev = t;
    }
    EXPECT_EQ(prev, b.comp.choices[0].Text());
}

TEST(SimNative, TextStreamMatchesRecordedShape) {
    ChatRequest r;
    ASSERT_FALSE(ParseNativeRequest(
        nlohmann::json::parse(R"({"model":"qwen-max","input":{"prompt":"What is 1+1?"},
                                  "parameters":{"result_format":"text","incremental_output":true}})"),
        Api::kNativeText, &r));
    auto b = Build(r);
    ASSERT_FALSE(b.shape.message);
    std::string text = Joined(NativeStreamFrames(b.req, b.comp, b.shape, "r"));
    std::size_t n = 0;
    CheckNativeFraming(text, &n);
    auto ours = ParseSse(text);
    auto theirs = ParseSse(ReadConformance("native_text_stream_ok.sse"));
    EXPECT_EQ(KeyPaths(ojson::parse(ours.front().data)), KeyPaths(ojson::parse(theirs.front().data)));
    EXPECT_EQ(KeyPaths(ojson::parse(ours.back().data)), KeyPaths(ojson::parse(theirs.back().data)));
    EXPECT_EQ(ojson::parse(ours.back().data)["output"]["finish_reason"], "stop");
    EXPECT_EQ(ojson::parse(ours.front().data)["output"]["finish_reason"], "null");
    // Recorded text stream separates events with blank lines.
    EXPECT_NE(text.find("}\n\nid:2\n"), std::string::npos);
}

TEST(SimNative, NoBlankLinesQuirk) {
    auto b = Build(NativeRequest("native_message_request.json"));
    std::string text = Joined(NativeStreamFrames(b.req, b.comp, b.shape, "r", false));
    EXPECT_EQ(text.find("\n\n"), std::string::npos);
    EXPECT_NE(text.find("}\nid:2\n"), std::string::npos);
    EXPECT_GE(ParseSse(text).size(), 2u);
}

TEST(SimNative, ReasoningStreamMatchesRecordedShape) {
    ChatRequest r;
    ASSERT_FALSE(ParseNativeRequest(
        nlohmann::json::parse(R"({"model":"qwen-plus-latest","input":{"messages":[{"role":"user","content":"请问 1+1 是多少？"}]},
             "parameters":{"result_format":"message","incremental_output":true,"enable_thinking":true,"thinking_budget":10}})"),
        Api::kNativeText, &r));
    auto b = Build(r);
    ASSERT_TRUE(b.comp.thinking);
    EXPECT_LE(b.comp.ReasoningTokens(), 10);
    auto ours = ParseSse(Joined(NativeStreamFrames(b.req, b.comp, b.shape, "r")));
    auto theirs = ParseSse(ReadConformance("native_reasoning_stream.sse"));
    // First event: reasoning; a content event; the last event: stop.
    EXPECT_EQ(KeyPaths(ojson::parse(ours.front().data)), KeyPaths(ojson::parse(theirs.front().data)));
    EXPECT_EQ(KeyPaths(ojson::parse(ours.back().data)), KeyPaths(ojson::parse(theirs.back().data)));
    auto first = ojson::parse(ours.front().data)["output"]["choices"][0]["message"];
    EXPECT_EQ(first["content"], "");
    EXPECT_NE(first["reasoning_content"], "");
    auto content_ev = ojson::parse(ours[b.comp.choices[0].reasoning.size()].data);
    EXPECT_EQ(content_ev["output"]["choices"][0]["message"]["reasoning_content"], "");
    EXPECT_NE(content_ev["output"]["choices"][0]["message"]["content"], "");
    auto last = ojson::parse(ours.back().data);
    EXPECT_EQ(last["usage"]["output_tokens_details"]["reasoning_tokens"], b.comp.ReasoningTokens());
    EXPECT_EQ(last["usage"]["output_tokens"], b.comp.OutputTokens());
}

TEST(SimNative, MultimodalStreamMatchesRecordedShape) {
    auto req = NativeRequest("multimodal_vl_request.json", Api::kNativeMultimodal);
    req.incremental_output = true;
    auto b = Build(req);
    ASSERT_TRUE(b.shape.multimodal);
    EXPECT_EQ(b.comp.image_tokens, kImageTokens);
    auto ours = ParseSse(Joined(NativeStreamFrames(b.req, b.comp, b.shape, "r")));
    auto theirs = ParseSse(ReadConformance("multimodal_vl_stream.sse"));
    EXPECT_EQ(KeyPaths(ojson::parse(ours.front().data)), KeyPaths(ojson::parse(theirs.front().data)));
    EXPECT_EQ(KeyPaths(ojson::parse(ours.back().data)), KeyPaths(ojson::parse(theirs.back().data)));
    // As recorded: the stop rides on the last content event; no total_tokens.
    EXPECT_EQ(ours.size(), b.comp.choices[0].content.size());
    auto last = ojson::parse(ours.back().data);
    EXPECT_EQ(last["output"]["choices"][0]["finish_reason"], "stop");
    EXPECT_FALSE(last["usage"].contains("total_tokens"));
}

TEST(SimNative, NonStreamBodiesMatchRecordedShapes) {
    {
        auto b = Build(NativeRequest("native_message_request.json"));
        auto ours = ojson::parse(NativeBody(b.req, b.comp, b.shape, "r"));
        auto theirs = ojson::parse(ReadConformance("native_message_nonstream_ok.json"));
        EXPECT_EQ(KeyPaths(ours), KeyPaths(theirs));
        EXPECT_EQ(ours["usage"]["output_tokens"], b.comp.OutputTokens());
        EXPECT_EQ(ours["usage"]["input_tokens"], InputTokens(b.req));
    }
    {
        ChatRequest r;
        ASSERT_FALSE(ParseNativeRequest(
            nlohmann::json::parse(R"({"model":"qwen-max","input":{"prompt":"1+1?"},"parameters":{"result_format":"text"}})"),
            Api::kNativeText, &r));
        auto b = Build(r);
        auto ours = ojson::parse(NativeBody(b.req, b.comp, b.shape, "r"));
        auto theirs = ojson::parse(ReadConformance("native_text_nonstream_ok.json"));
        EXPECT_EQ(KeyPaths(ours), KeyPaths(theirs));
    }
    {
        auto b = Build(NativeRequest("native_tools_request.json"));
        auto ours = ojson::parse(NativeBody(b.req, b.comp, b.shape, "r"));
        auto theirs = ojson::parse(ReadConformance("native_tools_nonstream_toolcall.json"));
        EXPECT_EQ(KeyPaths(ours), KeyPaths(theirs));
        auto tc = ours["output"]["choices"][0]["message"]["tool_calls"][0];
        EXPECT_EQ(tc["function"]["name"], "get_current_weather");
        EXPECT_EQ(tc["id"].get<std::string>().rfind("call_", 0), 0u);
        EXPECT_EQ(tc["id"].get<std::string>().size(),
                  std::string("call_cec4c19d27624537b583af").size());
        auto args = nlohmann::json::parse(tc["function"]["arguments"].get<std::string>());
        EXPECT_EQ(args["location"], "杭州");
    }
    {
        auto b = Build(NativeRequest("multimodal_vl_request.json", Api::kNativeMultimodal));
        auto ours = ojson::parse(NativeBody(b.req, b.comp, b.shape, "r"));
        auto theirs = ojson::parse(ReadConformance("multimodal_vl_nonstream.json"));
        EXPECT_EQ(KeyPaths(ours), KeyPaths(theirs));
    }
    {
        ChatRequest r;
        ASSERT_FALSE(ParseNativeRequest(
            nlohmann::json::parse(R"({"model":"deepseek-r1","input":{"messages":[{"role":"user","content":"请问 1+1 是多少？"}]},
                 "parameters":{"result_format":"message","max_completion_tokens":3}})"),
            Api::kNativeText, &r));
        auto b = Build(r);
        auto ours = ojson::parse(NativeBody(b.req, b.comp, b.shape, "r"));
        auto theirs = ojson::parse(ReadConformance("native_reasoning_nonstream_length.json"));
        EXPECT_EQ(SortedKeyPaths(ours), SortedKeyPaths(theirs));
        EXPECT_EQ(ours["output"]["choices"][0]["finish_reason"], "length");
        EXPECT_EQ(ours["output"]["choices"][0]["message"]["content"], "");
    }
    {
        auto req = NativeRequest("native_message_request.json");
        req.logprobs = true;
        req.top_logprobs = 1;
        auto b = Build(req);
        auto ours = ojson::parse(NativeBody(b.req, b.comp, b.shape, "r"));
        auto theirs = ojson::parse(ReadConformance("native_logprobs_nonstream.json"));
        EXPECT_EQ(KeyPaths(ours), KeyPaths(theirs));
    }
}

TEST(SimNative, ToolCallStreamCarriesArgumentsInPieces) {
    auto req = NativeRequest("native_tools_request.json");
    req.incremental_output = true;
    auto b = Build(req);
    auto events = ParseSse(Joined(NativeStreamFrames(b.req, b.comp, b.shape, "r")));
    std::string args;
    for (const auto& e : events) {
        auto m = ojson::parse(e.data)["output"]["choices"][0]["message"];
        if (m.contains("tool_calls")) args += m["tool_calls"][0]["function"]["arguments"].get<std::string>();
    }
    EXPECT_EQ(args, b.comp.choices[0].tool_call->arguments);
    EXPECT_EQ(ojson::parse(events.back().data)["output"]["choices"][0]["finish_reason"], "stop");
}

TEST(SimNative, ToolFollowUpAddsIndexAndCachedTokens) {
    ChatRequest r;
    ASSERT_FALSE(ParseNativeRequest(nlohmann::json::parse(R"({"model":"qwen-max","input":{"messages":[
        {"role":"user","content":"杭州和上海的天气"},
        {"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"w","arguments":"{}"}}]},
        {"role":"tool","content":"杭州 18℃"}]},"parameters":{"result_format":"message","incremental_output":true}})"),
                                    Api::kNativeText, &r));
    auto b = Build(r);
    EXPECT_TRUE(b.comp.after_tool);
    auto ours = ParseSse(Joined(NativeStreamFrames(b.req, b.comp, b.shape, "r")));
    auto theirs = ParseSse(ReadConformance("native_tools_followup_stream.sse"));
    EXPECT_EQ(KeyPaths(ojson::parse(ours.front().data)), KeyPaths(ojson::parse(theirs.front().data)));
    EXPECT_EQ(KeyPaths(ojson::parse(ours.back().data)), KeyPaths(ojson::parse(theirs.back().data)));
    EXPECT_NE(b.comp.choices[0].Text().find("杭州 18℃"), std::string::npos);
}

TEST(SimNative, ErrorEventMatchesRecording) {
    SimError e = SimError::InvalidParameter(
        "Role must be user or assistant and Content length must be greater than 0");
    std::string ours = NativeErrorEvent(e, "7671ecd8-93cc-9ee9-bc89-739f0fd8b809", 1);
    std::string theirs = ReadConformance("native_stream_error_event.sse");
    // Byte for byte (the recording ends with one newline after data; we add the blank line).
    EXPECT_EQ(ours.substr(0, ours.size() - 1), theirs);
}

}  // namespace
}  // namespace hub::sim
