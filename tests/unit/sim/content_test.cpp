#include <gtest/gtest.h>

#include "content.hpp"
#include "json_text.hpp"

namespace hub::sim {
namespace {

ChatRequest User(const std::string& text, const std::string& model = "qwen-plus") {
    ChatRequest r;
    r.model = r.model_name = model;
    r.messages.push_back({"user", text});
    return r;
}

Completion Gen(const ChatRequest& r, GenOptions o = {}) {
    return Generate(r, *LookupModel(r.model_name), o);
}

TEST(SimContent, CountTokens) {
    EXPECT_EQ(CountTokens(""), 0);
    EXPECT_EQ(CountTokens("hello"), 2);         // 5 letters -> ceil(5/4)
    EXPECT_EQ(CountTokens("What is 1+1?"), 6);  // What, is, 1, +, 1, ?
    EXPECT_EQ(CountTokens("你好"), 2);
    EXPECT_EQ(CountTokens("a 😊"), 2);
}

TEST(SimContent, SplitPiecesRoundTrips) {
    for (std::string s : {"please echo this: 你好 world", "  two  spaces ", "😊x y", ""}) {
        std::string joined;
        for (const auto& p : SplitPieces(s)) joined += p;
        EXPECT_EQ(joined, s);
    }
    EXPECT_EQ(SplitPieces("a b").size(), 2u);
}

TEST(SimContent, DeterministicAndPromptDependent) {
    auto a = Gen(User("tell me a story"));
    auto b = Gen(User("tell me a story"));
    auto c = Gen(User("tell me another story"));
    EXPECT_EQ(a.choices[0].Text(), b.choices[0].Text());
    EXPECT_NE(a.choices[0].Text(), c.choices[0].Text());
    EXPECT_EQ(a.OutputTokens(), static_cast<int>(a.choices[0].content.size()));
    EXPECT_EQ(a.choices[0].finish_reason, "stop");
    EXPECT_EQ(a.choices[0].content.back(), ".");
    auto s1 = User("tell me a story");
    s1.seed = 7;
    EXPECT_NE(Gen(s1).choices[0].Text(), a.choices[0].Text());
}

TEST(SimContent, InputTokensFromTheRequestText) {
    auto r = User("What is 1+1?");
    r.messages.insert(r.messages.begin(), ChatMessage{"system", "Be brief."});
    EXPECT_EQ(InputTokens(r), CountTokens("What is 1+1?") + 3 + CountTokens("Be brief.") + 3);
    r.messages.back().images = 2;
    EXPECT_EQ(ImageTokens(r), 2 * kImageTokens);
}

TEST(SimContent, EchoAnswersWithTheLastUserMessage) {
    auto c = Gen(User("Echo: the quick 狐狸"));
    EXPECT_EQ(c.choices[0].Text(), "Echo: the quick 狐狸");
}

TEST(SimContent, ChineseInChineseOut) {
    auto c = Gen(User("请问 1+1 是多少？"));
    EXPECT_NE(FirstSplitInsideChar(c.choices[0].Text()), std::string::npos);
}

TEST(SimContent, LengthOverrideAndMaxTokens) {
    GenOptions o;
    o.content_tokens = 100;
    EXPECT_EQ(Gen(User("x"), o).OutputTokens(), 100);
    auto r = User("x");
    r.max_tokens = 5;
    auto c = Gen(r, o);
    EXPECT_EQ(c.OutputTokens(), 5);
    EXPECT_EQ(c.choices[0].finish_reason, "length");
}

TEST(SimContent, ThinkingRules) {
    auto plain = Gen(User("x"));
    EXPECT_FALSE(plain.thinking);
    auto r = User("x");
    r.enable_thinking = true;
    auto t = Gen(r);
    EXPECT_TRUE(t.thinking);
    EXPECT_GT(t.ReasoningTokens(), 0);
    EXPECT_EQ(t.OutputTokens(), t.ReasoningTokens() + static_cast<int>(t.choices[0].content.size()));
    EXPECT_TRUE(Gen(User("x", "qwq-plus")).thinking);       // always thinks
    auto never = User("x", "qwen-max");
    never.enable_thinking = true;
    EXPECT_FALSE(Gen(never).thinking);
    r.thinking_budget = 2;
    EXPECT_EQ(Gen(r).ReasoningTokens(), 2);
    r.thinking_budget.reset();
    r.max_tokens = 3;
    GenOptions o;
    o.reasoning_tokens = 10;
    auto cut = Gen(r, o);
    EXPECT_EQ(cut.ReasoningTokens(), 3);
    EXPECT_TRUE(cut.choices[0].content.empty());
    EXPECT_EQ(cut.choices[0].finish_reason, "length");
}

TEST(SimContent, ToolCallForWeatherQuestions) {
    auto r = User("What's the weather like in New York right now?");
    r.tools.push_back({"get_current_weather", nlohmann::json::parse(
        R"({"type":"object","properties":{"location":{"type":"string"}},"required":["location"]})")});
    auto c = Gen(r);
    ASSERT_TRUE(c.choices[0].tool_call);
    const auto& t = *c.choices[0].tool_call;
    EXPECT_EQ(t.name, "get_current_weather");
    EXPECT_EQ(t.arguments, R"({"location": "New York"})");
    std::string joined;
    for (const auto& p : t.pieces) joined += p;
    EXPECT_EQ(joined, t.arguments);
    EXPECT_GT(t.pieces.size(), 1u);
    EXPECT_EQ(c.choices[0].finish_reason, "tool_calls");
    EXPECT_TRUE(c.choices[0].content.empty());

    auto none = r;
    none.tool_choice = "none";
    EXPECT_FALSE(Gen(none).choices[0].tool_call);
    auto unrelated = User("Tell me a joke");
    unrelated.tools = r.tools;
    EXPECT_FALSE(Gen(unrelated).choices[0].tool_call);
    unrelated.forced_tool = "get_current_weather";
    EXPECT_TRUE(Gen(unrelated).choices[0].tool_call);
}

TEST(SimContent, AnswerAfterToolResultQuotesIt) {
    auto r = User("weather in Paris?");
    r.tools.push_back({"get_weather", nullptr});
    r.messages.push_back({"assistant", "", 0, 0, 0, true});
    r.messages.push_back({"tool", "Paris: 21C, sunny"});
    auto c = Gen(r);
    EXPECT_TRUE(c.after_tool);
    EXPECT_FALSE(c.choices[0].tool_call);
    EXPECT_EQ(c.choices[0].Text(), "Based on the tool result: Paris: 21C, sunny");
}

TEST(SimContent, JsonModeAnswersJson) {
    auto r = User("answer in json");
    r.json_mode = true;
    auto j = nlohmann::json::parse(Gen(r).choices[0].Text());
    EXPECT_TRUE(j.contains("answer"));
}

TEST(SimContent, ForceMultibyteForUtf8Split) {
    GenOptions o;
    o.force_multibyte = true;
    auto c = Gen(User("plain english please"), o);
    EXPECT_NE(FirstSplitInsideChar(c.choices[0].Text()), std::string::npos);
}

}  // namespace
}  // namespace hub::sim
