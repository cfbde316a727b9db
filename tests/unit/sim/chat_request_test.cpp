#include <gtest/gtest.h>

#include "chat_request.hpp"
#include "unit/sim/sim_test_util.hpp"

namespace hub::sim {
namespace {

using nlohmann::json;
using test::ReadConformance;

std::optional<SimError> Native(const std::string& body, ChatRequest* r,
                               Api api = Api::kNativeText) {
    return ParseNativeRequest(json::parse(body), api, r);
}

TEST(SimChatRequest, ParsesRecordedNativeRequests) {
    ChatRequest r;
    ASSERT_FALSE(ParseNativeRequest(json::parse(ReadConformance("native_message_request.json")),
                                    Api::kNativeText, &r));
    EXPECT_EQ(r.model_name, "qwen-max");
    EXPECT_EQ(r.result_format, "message");
    EXPECT_EQ(r.max_tokens, 1500);  // max_completion_tokens
    EXPECT_EQ(r.incremental_output, false);
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0].text, "请问 1+1 是多少？");

    ChatRequest t;
    ASSERT_FALSE(ParseNativeRequest(json::parse(ReadConformance("native_tools_request.json")),
                                    Api::kNativeText, &t));
    ASSERT_EQ(t.tools.size(), 1u);
    EXPECT_EQ(t.forced_tool, "get_current_weather");
    EXPECT_EQ(t.stop, std::vector<std::string>{"你好"});

    ChatRequest v;
    ASSERT_FALSE(ParseNativeRequest(json::parse(ReadConformance("multimodal_vl_request.json")),
                                    Api::kNativeMultimodal, &v));
    EXPECT_EQ(v.messages[1].images, 1);
    EXPECT_EQ(v.messages[1].text, "这个图片是哪里，请用简短的语言回答");
}

TEST(SimChatRequest, NativeValidationMessages) {
    ChatRequest r;
    auto e = Native(R"({"model":"qwen-plus","input":{"prompt":"hi","messages":[]}})", &r);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind, ErrorKind::kInvalidParameter);
    EXPECT_EQ(e->message, "Role must be user or assistant and Content length must be greater than 0");
    e = Native(R"({"model":"qwen-plus","input":{}})", &r);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message, "Either \"prompt\" or \"messages\" must exist and cannot both be none.");
    e = Native(R"({"input":{"prompt":"x"}})", &r);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind, ErrorKind::kEmptyModel);
    e = Native(R"({"model":"qwen-plus"})", &r);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind, ErrorKind::kEmptyInput);
    e = Native(R"({"model":"qwen-plus","input":{"prompt":"x"},"parameters":{"temperature":2.0}})", &r);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message, "Range of temperature should be [0.0, 2.0)");
    e = Native(R"({"model":"qwen-plus","input":{"messages":[{"role":"robot","content":"x"}]}})", &r);
    ASSERT_TRUE(e);
}

TEST(SimChatRequest, CompatParsing) {
    ChatRequest r;
    auto e = ParseCompatRequest(json::parse(R"({"model":"qwen-vl-max@cut:3","stream":true,
        "stream_options":{"include_usage":true},"enable_thinking":true,"thinking_budget":50,
        "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:x"}},
                                              {"type":"text","text":"Read it"}]}]})"),
                                &r);
    ASSERT_FALSE(e);
    EXPECT_EQ(r.model_name, "qwen-vl-max");
    EXPECT_EQ(r.model_fault, "cut:3");
    EXPECT_TRUE(r.stream);
    EXPECT_TRUE(r.include_usage);
    EXPECT_EQ(r.enable_thinking, true);
    EXPECT_EQ(r.thinking_budget, 50);
    EXPECT_EQ(r.messages[0].images, 1);
    EXPECT_EQ(r.messages[0].text, "Read it");
}

TEST(SimChatRequest, CompatErrorsCarryTheAlgoPrefix) {
    ChatRequest r;
    auto e = ParseCompatRequest(json::parse(R"({"model":"qwen-plus","top_p":0,"messages":[{"role":"user","content":"x"}]})"), &r);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message, "<400> InternalError.Algo.InvalidParameter: Range of top_p should be (0.0, 1.0]");
    EXPECT_EQ(e->param, "top_p");
    e = ParseCompatRequest(json::parse(R"({"model":"qwen-plus","messages":[]})"), &r);
    ASSERT_TRUE(e);
    e = ParseCompatRequest(json::parse(R"({"messages":[{"role":"user","content":"x"}]})"), &r);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind, ErrorKind::kEmptyModel);
}

TEST(SimChatRequest, JsonModeNeedsTheWordJson) {
    ChatRequest r;
    auto e = ParseCompatRequest(json::parse(R"({"model":"qwen-plus","response_format":{"type":"json_object"},
        "messages":[{"role":"user","content":"hello"}]})"), &r);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message,
              "'messages' must contain the word 'json' in some form, to use 'response_format' of "
              "type 'json_object'.");
    ChatRequest ok;
    EXPECT_FALSE(ParseCompatRequest(json::parse(R"({"model":"qwen-plus","response_format":{"type":"json_object"},
        "messages":[{"role":"system","content":"Reply in JSON."},{"role":"user","content":"hello"}]})"), &ok));
    EXPECT_TRUE(ok.json_mode);
}

}  // namespace
}  // namespace hub::sim
