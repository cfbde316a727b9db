// The OpenAI-compatible surface's pure parts: request parsing, completion and chunk
// rendering, error shapes, the model list.
#include "services/openai_compat.hpp"

#include <gtest/gtest.h>

namespace hub::services {
namespace {

using nlohmann::json;

CompatChatRequest MustParse(const json& body) {
    std::string param;
    auto r = ParseChatCompletionRequest(body, &param);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().public_message);
    return r.ok() ? r.value() : CompatChatRequest{};
}

std::pair<core::Error, std::string> MustFail(const json& body) {
    std::string param;
    auto r = ParseChatCompletionRequest(body, &param);
    EXPECT_FALSE(r.ok()) << body.dump();
    return {r.ok() ? core::Error{} : r.error(), param};
}

json Minimal() {
    return {{"model", "qwen-plus"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
}

// The data: payloads of SSE frames, [DONE] as the string "[DONE]".
std::vector<json> Frames(const std::string& sse) {
    std::vector<json> out;
    std::size_t pos = 0;
    while (pos < sse.size()) {
        auto end = sse.find("\n\n", pos);
        EXPECT_NE(end, std::string::npos) << "frames end with a blank line";
        if (end == std::string::npos) break;
        std::string frame = sse.substr(pos, end - pos);
        EXPECT_EQ(frame.rfind("data: ", 0), 0u) << frame;
        std::string data = frame.substr(6);
        out.push_back(data == "[DONE]" ? json("[DONE]") : json::parse(data));
        pos = end + 2;
    }
    return out;
}

TEST(ParseChatCompletion, PassesSupportedParametersThrough) {
    json body = Minimal();
    body["temperature"] = 0.7;
    body["top_p"] = 0.9;
    body["max_tokens"] = 64;
    body["stop"] = json::array({"END"});
    body["seed"] = 42;
    body["tools"] =
        json::array({{{"type", "function"},
                      {"function", {{"name", "get_weather"}, {"parameters", json::object()}}}}});
    body["tool_choice"] = "auto";
    body["response_format"] = {{"type", "json_object"}};
    body["enable_thinking"] = false;
    body["user"] = "someone";  // not a DashScope parameter: dropped
    body["logit_bias"] = json::object();
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
    auto r = MustParse(body);
    EXPECT_EQ(r.chat.model, "qwen-plus");
    EXPECT_TRUE(r.chat.stream);
    EXPECT_TRUE(r.include_usage);
    const json& p = r.chat.parameters;
    EXPECT_EQ(p["temperature"], 0.7);
    EXPECT_EQ(p["max_tokens"], 64);
    EXPECT_EQ(p["stop"], json::array({"END"}));
    EXPECT_EQ(p["seed"], 42);
    EXPECT_EQ(p["tools"].size(), 1u);
    EXPECT_EQ(p["tool_choice"], "auto");
    EXPECT_EQ(p["response_format"]["type"], "json_object");
    EXPECT_EQ(p["enable_thinking"], false);
    EXPECT_FALSE(p.contains("user"));
    EXPECT_FALSE(p.contains("logit_bias"));
    EXPECT_FALSE(p.contains("stream"));
    EXPECT_FALSE(p.contains("model"));
    EXPECT_FALSE(p.contains("messages"));
}

TEST(ParseChatCompletion, NormalisesMessagesAndNames) {
    json body = Minimal();
    body["messages"] = json::array(
        {{{"role", "developer"}, {"content", "be brief"}},
         {{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "hi"}}})}},
         {{"role", "assistant"},
          {"content", nullptr},
          {"tool_calls", json::array({{{"id", "call_1"},
                                       {"type", "function"},
                                       {"function", {{"name", "f"}, {"arguments", "{}"}}}}})}},
         {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "sunny"}, {"extra", 1}}});
    body["max_completion_tokens"] = 10;
    auto r = MustParse(body);
    ASSERT_EQ(r.chat.messages.size(), 4u);
    EXPECT_EQ(r.chat.messages[0]["role"], "system");
    EXPECT_TRUE(r.chat.messages[1]["content"].is_array());
    EXPECT_TRUE(r.chat.messages[2]["content"].is_null());
    EXPECT_EQ(r.chat.messages[3]["tool_call_id"], "call_1");
    EXPECT_FALSE(r.chat.messages[3].contains("extra"));
    EXPECT_EQ(r.chat.parameters["max_tokens"], 10);
    EXPECT_FALSE(r.chat.parameters.contains("max_completion_tokens"));
    EXPECT_FALSE(r.chat.stream);
    EXPECT_FALSE(r.include_usage);
    EXPECT_EQ(r.n, 1);
}

TEST(ParseChatCompletion, RejectsBadBodiesNamingTheParameter) {
    struct Case {
        json body;
        std::string param;
        std::string code;
    };
    std::vector<Case> cases;
    json b = Minimal();
    b.erase("model");
    cases.push_back({b, "model", "missing_required_parameter"});
    b = Minimal();
    b["model"] = 7;
    cases.push_back({b, "model", "invalid_type"});
    b = Minimal();
    b["messages"] = json::array();
    cases.push_back({b, "messages", "invalid_value"});
    b = Minimal();
    b["messages"] = "hi";
    cases.push_back({b, "messages", "invalid_type"});
    b = Minimal();
    b["messages"][0]["role"] = "wizard";
    cases.push_back({b, "messages[0].role", "invalid_value"});
    b = Minimal();
    b["messages"][0].erase("content");
    cases.push_back({b, "messages[0].content", "missing_required_parameter"});
    b = Minimal();
    b["messages"] = json::array({{{"role", "tool"}, {"content", "x"}}});
    cases.push_back({b, "messages[0].tool_call_id", "missing_required_parameter"});
    b = Minimal();
    b["temperature"] = "hot";
    cases.push_back({b, "temperature", "invalid_type"});
    b = Minimal();
    b["temperature"] = 3;
    cases.push_back({b, "temperature", "invalid_value"});
    b = Minimal();
    b["max_tokens"] = 0;
    cases.push_back({b, "max_tokens", "invalid_value"});
    b = Minimal();
    b["n"] = 9;
    cases.push_back({b, "n", "invalid_value"});
    b = Minimal();
    b["stop"] = json::array({1});
    cases.push_back({b, "stop", "invalid_type"});
    b = Minimal();
    b["stream"] = "yes";
    cases.push_back({b, "stream", "invalid_type"});
    b = Minimal();
    b["response_format"] = {{"type", "xml"}};
    cases.push_back({b, "response_format.type", "invalid_value"});
    for (const auto& c : cases) {
        auto [e, param] = MustFail(c.body);
        EXPECT_EQ(e.code, core::ErrorCode::kInvalidArgument) << c.body.dump();
        EXPECT_EQ(param, c.param) << c.body.dump();
        EXPECT_EQ(e.api_code, c.code) << c.body.dump();
        EXPECT_FALSE(e.public_message.empty());
    }
}

TEST(CompletionJson, PlainAnswer) {
    bailian::ChatResult r;
    r.content = "Hello.";
    r.finish_reason = "stop";
    r.usage = {11, 5, 16, 0, 3, 0};
    json j = CompletionJson(r, "chatcmpl-1", "qwen-plus", 1700000000);
    EXPECT_EQ(j["id"], "chatcmpl-1");
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["created"], 1700000000);
    EXPECT_EQ(j["model"], "qwen-plus");
    ASSERT_EQ(j["choices"].size(), 1u);
    EXPECT_EQ(j["choices"][0]["index"], 0);
    EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
    EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello.");
    EXPECT_FALSE(j["choices"][0]["message"].contains("tool_calls"));
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(j["usage"]["prompt_tokens"], 11);
    EXPECT_EQ(j["usage"]["completion_tokens"], 5);
    EXPECT_EQ(j["usage"]["total_tokens"], 16);
    EXPECT_EQ(j["usage"]["prompt_tokens_details"]["cached_tokens"], 3);
}

TEST(CompletionJson, ToolCallsAndReasoning) {
    bailian::ChatResult r;
    r.finish_reason = "stop";  // native-style
    r.reasoning = "thinking";
    r.tool_calls = json::array(
        {{{"index", 0},
          {"id", "call_abc"},
          {"type", "function"},
          {"function", {{"name", "get_weather"}, {"arguments", "{\"location\": \"Hangzhou\"}"}}}}});
    r.usage = {10, 4, 0, 2, 0, 0};
    json j = CompletionJson(r, "id", "qwen-plus", 1);
    const json& m = j["choices"][0]["message"];
    EXPECT_TRUE(m["content"].is_null());
    EXPECT_EQ(m["reasoning_content"], "thinking");
    ASSERT_EQ(m["tool_calls"].size(), 1u);
    EXPECT_EQ(m["tool_calls"][0]["id"], "call_abc");
    EXPECT_EQ(m["tool_calls"][0]["function"]["name"], "get_weather");
    EXPECT_FALSE(m["tool_calls"][0].contains("index"));
    EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
    EXPECT_EQ(j["usage"]["total_tokens"], 14) << "total filled in when upstream omits it";
    EXPECT_EQ(j["usage"]["completion_tokens_details"]["reasoning_tokens"], 2);
}

TEST(ChunkRenderer, StreamWithUsage) {
    ChunkRenderer r("chatcmpl-x", "qwen-plus", 5, /*include_usage=*/true);
    std::string sse;
    sse += r.OnEvent(bailian::ReasoningDelta{"hmm"});
    sse += r.OnEvent(bailian::ContentDelta{"Hel"});
    sse += r.OnEvent(bailian::ContentDelta{""});
    sse += r.OnEvent(bailian::ContentDelta{"lo"});
    sse += r.OnEvent(bailian::Usage{3, 2, 5, 0, 0, 0});
    sse += r.OnEvent(bailian::Finish{"stop"});
    sse += r.OnEvent(bailian::Done{});
    sse += r.Finish({3, 2, 5, 0, 0, 0}, "stop");
    auto frames = Frames(sse);
    ASSERT_EQ(frames.size(), 7u) << sse;
    EXPECT_EQ(frames[0]["choices"][0]["delta"]["role"], "assistant");
    EXPECT_EQ(frames[0]["object"], "chat.completion.chunk");
    EXPECT_EQ(frames[0]["id"], "chatcmpl-x");
    EXPECT_TRUE(frames[0]["usage"].is_null());
    EXPECT_EQ(frames[1]["choices"][0]["delta"]["reasoning_content"], "hmm");
    EXPECT_EQ(frames[2]["choices"][0]["delta"]["content"], "Hel");
    EXPECT_EQ(frames[3]["choices"][0]["delta"]["content"], "lo");
    EXPECT_TRUE(frames[3]["choices"][0]["finish_reason"].is_null());
    EXPECT_EQ(frames[4]["choices"][0]["finish_reason"], "stop");
    EXPECT_TRUE(frames[5]["choices"].empty());
    EXPECT_EQ(frames[5]["usage"]["prompt_tokens"], 3);
    EXPECT_EQ(frames[5]["usage"]["completion_tokens"], 2);
    EXPECT_EQ(frames[5]["usage"]["total_tokens"], 5);
    EXPECT_EQ(frames[6], "[DONE]");
}

TEST(ChunkRenderer, ToolCallsWithoutUsage) {
    ChunkRenderer r("id", "qwen-plus", 5, /*include_usage=*/false);
    std::string sse;
    sse += r.OnEvent(bailian::ToolCallDelta{0, "call_1", "function", "get_weather", ""});
    sse += r.OnEvent(bailian::ToolCallDelta{0, "", "", "", "{\"location\":"});
    sse += r.OnEvent(bailian::ToolCallDelta{0, "", "", "", " \"Hangzhou\"}"});
    sse += r.Finish({1, 1, 2, 0, 0, 0}, "stop");
    auto frames = Frames(sse);
    ASSERT_EQ(frames.size(), 6u) << sse;
    EXPECT_FALSE(frames[0].contains("usage"));
    const json& first = frames[1]["choices"][0]["delta"]["tool_calls"][0];
    EXPECT_EQ(first["index"], 0);
    EXPECT_EQ(first["id"], "call_1");
    EXPECT_EQ(first["type"], "function");
    EXPECT_EQ(first["function"]["name"], "get_weather");
    const json& next = frames[2]["choices"][0]["delta"]["tool_calls"][0];
    EXPECT_FALSE(next.contains("id"));
    EXPECT_FALSE(next["function"].contains("name"));
    EXPECT_EQ(next["function"]["arguments"], "{\"location\":");
    EXPECT_EQ(frames[4]["choices"][0]["finish_reason"], "tool_calls");
    EXPECT_EQ(frames[5], "[DONE]");
}

TEST(ChunkRenderer, EmptyAnswerAndFailure) {
    ChunkRenderer empty("id", "m", 1, false);
    auto frames = Frames(empty.Finish({}, ""));
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[1]["choices"][0]["finish_reason"], "stop");

    ChunkRenderer broken("id", "m", 1, true);
    std::string sse = broken.OnEvent(bailian::ContentDelta{"par"});
    sse += broken.Fail(core::Error::Make(core::ErrorCode::kUnprocessable, "content_filtered",
                                         "The answer was blocked by content moderation."),
                       422);
    frames = Frames(sse);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[2]["error"]["code"], "content_filtered");
    EXPECT_EQ(frames[2]["error"]["type"], "invalid_request_error");
    EXPECT_EQ(sse.find("[DONE]"), std::string::npos);
    EXPECT_TRUE(broken.OnEvent(bailian::ContentDelta{"more"}).empty());
}

TEST(OpenAiErrors, ShapeAndMapping) {
    using core::ErrorCode;
    json j = OpenAiErrorJson(
        core::Error::Make(ErrorCode::kUnauthenticated, "invalid_api_key",
                          "The API key is invalid, expired or revoked.", "secret detail"),
        401);
    EXPECT_EQ(j["error"]["code"], "invalid_api_key");
    EXPECT_EQ(j["error"]["type"], "invalid_request_error");
    EXPECT_TRUE(j["error"]["param"].is_null());
    EXPECT_EQ(j["error"]["message"], "The API key is invalid, expired or revoked.");
    EXPECT_EQ(j.dump().find("secret detail"), std::string::npos);

    j = OpenAiErrorJson(core::Error::Make(ErrorCode::kInvalidArgument, "unknown_model", "x"), 400,
                        std::string("model"));
    EXPECT_EQ(j["error"]["code"], "model_not_found");
    EXPECT_EQ(j["error"]["param"], "model");
    EXPECT_EQ(OpenAiErrorType(403), "permission_error");
    EXPECT_EQ(OpenAiErrorType(429), "rate_limit_error");
    EXPECT_EQ(OpenAiErrorType(502), "server_error");
    EXPECT_EQ(OpenAiErrorType(404), "invalid_request_error");
    j = OpenAiErrorJson(core::Error::Make(ErrorCode::kInternal, "", ""), 500);
    EXPECT_TRUE(j["error"]["code"].is_null());
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
}

TEST(OpenAiFinish, Mapping) {
    EXPECT_EQ(OpenAiFinishReason("stop", false), "stop");
    EXPECT_EQ(OpenAiFinishReason("stop", true), "tool_calls");
    EXPECT_EQ(OpenAiFinishReason("length", true), "length");
    EXPECT_EQ(OpenAiFinishReason("", false), "stop");
    EXPECT_EQ(OpenAiFinishReason("null", true), "tool_calls");
}

TEST(ModelList, EnabledModelsTheCallerMayUse) {
    Catalog catalog;
    Caller nothing;  // no model family permission: no models
    EXPECT_TRUE(ModelListJson(catalog, nothing)["data"].empty());
    Caller chat_only;
    chat_only.principal.permissions.Add(auth::perm::kModelsChat);
    json chat_list = ModelListJson(catalog, chat_only);
    EXPECT_FALSE(chat_list["data"].empty());
    for (const auto& m : chat_list["data"]) EXPECT_NE(m["kind"], "image");
    Caller any;
    any.principal.permissions.Add(auth::perm::kModelsChat);
    any.principal.permissions.Add(auth::perm::kModelsImages);
    json all = ModelListJson(catalog, any);
    EXPECT_EQ(all["object"], "list");
    ASSERT_FALSE(all["data"].empty());
    bool has_plus = false;
    for (const auto& m : all["data"]) {
        EXPECT_EQ(m["object"], "model");
        EXPECT_TRUE(m["id"].is_string());
        if (m["id"] == "qwen-plus") has_plus = true;
    }
    EXPECT_TRUE(has_plus);
    Caller limited = any;
    limited.allowed_models = {"qwen-plus"};
    json some = ModelListJson(catalog, limited);
    ASSERT_EQ(some["data"].size(), 1u);
    EXPECT_EQ(some["data"][0]["id"], "qwen-plus");
    // The role's allow-list narrows too; a key's list cannot widen it.
    Caller role_limited = any;
    role_limited.principal.models = auth::ModelAllowList({"qwen-max"});
    role_limited.allowed_models = {"qwen-plus", "qwen-max"};
    json role_some = ModelListJson(catalog, role_limited);
    ASSERT_EQ(role_some["data"].size(), 1u);
    EXPECT_EQ(role_some["data"][0]["id"], "qwen-max");
}

}  // namespace
}  // namespace hub::services
