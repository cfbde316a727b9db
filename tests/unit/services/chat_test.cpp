// Pure parts of a chat turn: token estimate, content checks, parameters, context trimming,
// titles.
#include "services/chat.hpp"

#include <gtest/gtest.h>

namespace hub::services {
namespace {

using store::Message;
using store::MessageRole;
using store::MessageStatus;

Message M(const std::string& id, MessageRole role, const std::string& content,
          std::optional<std::string> parent = std::nullopt,
          MessageStatus status = MessageStatus::kComplete) {
    Message m;
    m.id = id;
    m.role = role;
    m.content = content;
    m.parent_id = std::move(parent);
    m.status = status;
    return m;
}

std::vector<std::string> Contents(const nlohmann::json& messages) {
    std::vector<std::string> out;
    for (const auto& m : messages)
        out.push_back(m["role"].get<std::string>() + ":" + m["content"].get<std::string>());
    return out;
}

TEST(ChatPure, EstimateTokens) {
    EXPECT_EQ(EstimateTokens(""), 0);
    EXPECT_EQ(EstimateTokens("abcd"), 1);
    EXPECT_EQ(EstimateTokens("abcde"), 2);
    EXPECT_EQ(EstimateTokens("hi there, you!"), 1 + 2 + 1 + 1 + 1);
    EXPECT_EQ(EstimateTokens("   \n\t"), 0);
    EXPECT_EQ(EstimateTokens("你好世界"), 4);
    EXPECT_EQ(EstimateTokens("a你b"), 3);
}

TEST(ChatPure, Utf8Helpers) {
    EXPECT_EQ(Utf8Length("héllo"), 5u);
    EXPECT_EQ(Utf8Length("你好"), 2u);
    EXPECT_EQ(Utf8Prefix("你好世界", 2), "你好");
    EXPECT_EQ(Utf8Prefix("abc", 10), "abc");
}

TEST(ChatPure, ValidateContent) {
    EXPECT_TRUE(ValidateContent("hi", 10).ok());
    auto empty = ValidateContent(" \n\t", 10);
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().api_code, "validation_failed");
    EXPECT_FALSE(ValidateContent("", 10).ok());
    EXPECT_TRUE(ValidateContent("你好你好你好你好你好", 10).ok());  // characters, not bytes
    auto longer = ValidateContent("12345678901", 10);
    ASSERT_FALSE(longer.ok());
    EXPECT_EQ(longer.error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_EQ(longer.error().api_code, "content_too_long");
}

TEST(ChatPure, ParametersInRange) {
    Catalog c;
    const ModelInfo& plus = *c.Find("qwen-plus");
    const ModelInfo& max = *c.Find("qwen-max");
    auto ok = ParseChatParameters({{"temperature", 0.7},
                                   {"top_p", 1},
                                   {"max_tokens", 100},
                                   {"enable_search", true},
                                   {"enable_thinking", true}},
                                  plus);
    ASSERT_TRUE(ok.ok()) << ok.error().public_message;
    EXPECT_DOUBLE_EQ(*ok->temperature, 0.7);
    EXPECT_EQ(*ok->max_tokens, 100);
    EXPECT_TRUE(ok->Thinks(plus));
    nlohmann::json up = ok->Upstream(plus);
    EXPECT_EQ(up["enable_thinking"], true);
    EXPECT_EQ(up["max_tokens"], 100);
    EXPECT_EQ(up["enable_search"], true);

    EXPECT_TRUE(ParseChatParameters(nullptr, plus).ok());
    EXPECT_TRUE(ParseChatParameters(nlohmann::json::object(), plus).ok());
    EXPECT_TRUE(ParseChatParameters({{"temperature", 0}}, plus).ok());
    EXPECT_TRUE(ParseChatParameters({{"temperature", nullptr}}, plus).ok());
    EXPECT_TRUE(ParseChatParameters({{"max_tokens", 8.0}}, plus).ok());
    EXPECT_TRUE(ParseChatParameters({{"enable_thinking", false}}, max).ok());
    EXPECT_FALSE(ParseChatParameters({{"enable_thinking", false}}, max)
                     ->Upstream(max)
                     .contains("enable_thinking"));

    const nlohmann::json bad[] = {
        nlohmann::json::array(),
        {{"temperature", -0.1}},
        {{"temperature", 2}},
        {{"temperature", 3.5}},
        {{"temperature", "hot"}},
        {{"top_p", 0}},
        {{"top_p", 1.01}},
        {{"max_tokens", 0}},
        {{"max_tokens", 1.5}},
        {{"max_tokens", -3}},
        {{"max_tokens", 10'000'000}},
        {{"max_tokens", "10"}},
        {{"enable_search", "yes"}},
        {{"enable_thinking", true}, {"x", 1}},
        {{"seed", 1}},
    };
    for (const auto& b : bad) {
        auto r = ParseChatParameters(b, plus);
        ASSERT_FALSE(r.ok()) << b.dump();
        EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument) << b.dump();
        EXPECT_EQ(r.error().api_code, "validation_failed") << b.dump();
    }
    auto no_think = ParseChatParameters({{"enable_thinking", true}}, max);
    ASSERT_FALSE(no_think.ok());
    EXPECT_NE(no_think.error().public_message.find("enable_thinking"), std::string::npos);
    auto over = ParseChatParameters({{"max_tokens", max.max_output_tokens + 1}}, max);
    EXPECT_FALSE(over.ok());
}

TEST(ChatPure, ContextBudgetLeavesRoomForTheAnswer) {
    ModelInfo m;
    m.context_window = 1000;
    EXPECT_EQ(ContextBudget(m, {}), 1000);
    ChatParameters p;
    p.max_tokens = 300;
    EXPECT_EQ(ContextBudget(m, p), 700);
    m.max_input_tokens = 600;
    EXPECT_EQ(ContextBudget(m, p), 600);
    p.max_tokens = 5000;
    EXPECT_EQ(ContextBudget(m, p), 0);
}

TEST(ChatPure, ContextKeepsTheNewestHistoryThatFits) {
    // Each message "wordN" (5 chars) costs 2 + 4 = 6 tokens; the question "q?" 2 + 4 = 6.
    std::vector<Message> h;
    for (int i = 0; i < 10; ++i) {
        h.push_back(M("u" + std::to_string(i), MessageRole::kUser, "word" + std::to_string(i)));
        h.push_back(M("a" + std::to_string(i), MessageRole::kAssistant, "repl" + std::to_string(i),
                      "u" + std::to_string(i)));
    }
    auto all = BuildContext("", h, "q?", 10'000);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->history_used, 20u);
    EXPECT_EQ(all->messages.size(), 21u);
    EXPECT_EQ(all->messages.back()["content"], "q?");
    EXPECT_EQ(all->estimated_tokens, 21 * 6);

    // Budget for the question + 4 history messages (+ 3 tokens slack): the 4 newest survive.
    auto some = BuildContext("", h, "q?", 6 + 4 * 6 + 3);
    ASSERT_TRUE(some.ok());
    EXPECT_EQ(Contents(some->messages),
              (std::vector<std::string>{"user:word8", "assistant:repl8", "user:word9",
                                        "assistant:repl9", "user:q?"}));
    EXPECT_EQ(some->history_dropped, 16u);

    // An odd budget would start with an answer whose question was dropped: it is left out.
    auto odd = BuildContext("", h, "q?", 6 + 3 * 6);
    ASSERT_TRUE(odd.ok());
    EXPECT_EQ(Contents(odd->messages),
              (std::vector<std::string>{"user:word9", "assistant:repl9", "user:q?"}));

    // The system prompt always goes first and counts against the budget.
    auto sys = BuildContext("Be brief.", h, "q?", 6 + 8 + 2 * 6);  // "Be brief." costs 8
    ASSERT_TRUE(sys.ok());
    EXPECT_EQ(Contents(sys->messages), (std::vector<std::string>{"system:Be brief.", "user:word9",
                                                                 "assistant:repl9", "user:q?"}));

    auto none = BuildContext("", h, "q?", 6);
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(none->messages.size(), 1u);
}

TEST(ChatPure, ContextSkipsFailedAndRegeneratedAnswers) {
    std::vector<Message> h = {
        M("u1", MessageRole::kUser, "first"),
        M("a1", MessageRole::kAssistant, "old answer", "u1"),
        M("a2", MessageRole::kAssistant, "new answer", "u1"),
        M("u2", MessageRole::kUser, "second"),
        M("a3", MessageRole::kAssistant, "", "u2", MessageStatus::kError),
        M("u3", MessageRole::kUser, "third"),
        M("a4", MessageRole::kAssistant, "partial", "u3", MessageStatus::kInterrupted),
        M("s", MessageRole::kSystem, "ignored"),
    };
    auto ctx = BuildContext("", h, "next", 10'000);
    ASSERT_TRUE(ctx.ok());
    EXPECT_EQ(Contents(ctx->messages),
              (std::vector<std::string>{"user:first", "assistant:new answer", "user:second",
                                        "user:third", "assistant:partial", "user:next"}));
}

TEST(ChatPure, ContextTooLongIsRefused) {
    auto r = BuildContext(std::string(4000, 'x'), {}, "hi", 100);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().api_code, "context_too_long");
}

TEST(ChatPure, FallbackTitle) {
    EXPECT_EQ(FallbackTitle("What is the capital of France?"), "What is the capital of France?");
    EXPECT_EQ(FallbackTitle("  one two   three four five six seven eight "),
              "one two three four five six…");
    EXPECT_EQ(FallbackTitle("line one\nline two"), "line one line two");
    EXPECT_EQ(FallbackTitle(""), "New conversation");
    EXPECT_EQ(FallbackTitle("   "), "New conversation");
    std::string cjk =
        "请帮我写一首关于秋天的诗，要求押韵并且有意境，最好能表达思乡之情，再加上一些关于月亮和桂花"
        "的描写，还要提到大雁南飞和落叶";
    std::string t = FallbackTitle(cjk);
    EXPECT_EQ(Utf8Length(t), 49u);  // 48 characters and the ellipsis
    EXPECT_EQ(t.rfind("…"), t.size() - 3);
    std::string word(100, 'a');
    EXPECT_EQ(Utf8Length(FallbackTitle(word)), 49u);
}

TEST(ChatPure, CleanTitle) {
    EXPECT_EQ(CleanTitle("\"Paris Trip Planning\""), "Paris Trip Planning");
    EXPECT_EQ(CleanTitle("Title: Paris trip."), "Paris trip");
    EXPECT_EQ(CleanTitle("\n\n## **Rust lifetimes**\nmore text"), "Rust lifetimes");
    EXPECT_EQ(CleanTitle("“秋天的诗”。"), "秋天的诗");
    EXPECT_EQ(CleanTitle("标题：秋天的诗"), "秋天的诗");
    EXPECT_EQ(CleanTitle("Window method value. Context follows here"), "Window method value");
    EXPECT_EQ(CleanTitle("秋天的诗。然后是别的"), "秋天的诗");
    EXPECT_EQ(CleanTitle("  \n  "), "");
    EXPECT_EQ(CleanTitle("..."), "");
    std::string many = "one two three four five six seven eight nine ten eleven twelve";
    EXPECT_EQ(CleanTitle(many), "one two three four five six seven eight nine ten");
}

}  // namespace
}  // namespace hub::services
