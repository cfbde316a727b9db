#pragma once
// Deterministic answers: what the simulated model "says" for a request. Pure.
//
// Rules (docs/simulator.md repeats them):
// - content is a hash-seeded sequence of words (seed: model, last user message, `seed`, choice);
//   English words, or Chinese words when the last user message contains CJK characters;
// - a last user message containing "echo" is answered with that message, verbatim;
// - after a role=tool message the answer quotes the tool result;
// - tools + a prompt about the weather (or a forced tool_choice) give a tool call;
// - thinking (enable_thinking or an always-thinking model) emits reasoning first;
// - json_object mode answers a JSON object;
// - each emitted piece is one output token; max_tokens caps reasoning+content ("length").
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat_request.hpp"
#include "models.hpp"

namespace hub::sim {

constexpr int kImageTokens = 1247;  // input tokens per image part
constexpr int kVideoTokens = 2048;
constexpr int kAudioTokens = 512;

struct GenOptions {
    std::optional<int> content_tokens;    // override of the answer length
    std::optional<int> reasoning_tokens;  // override of the reasoning length
    bool force_multibyte = false;         // make sure the content holds multi-byte characters
};

struct ToolCallPlan {
    std::string id;
    std::string name;
    std::string arguments;            // JSON text
    std::vector<std::string> pieces;  // arguments split for streaming; joined == arguments
};

struct ChoicePlan {
    std::vector<std::string> reasoning;  // pieces, one token each
    std::vector<std::string> content;
    std::optional<ToolCallPlan> tool_call;
    std::string finish_reason = "stop";  // "stop" | "length" | "tool_calls"

    int OutputTokens() const;
    int ReasoningTokens() const { return static_cast<int>(reasoning.size()); }
    std::string Text() const;
    std::string ReasoningText() const;
};

struct Completion {
    std::vector<ChoicePlan> choices;
    int input_tokens = 0;  // includes image_tokens
    int image_tokens = 0;
    bool thinking = false;
    bool after_tool = false;  // the last message was a tool result

    int OutputTokens() const;
    int ReasoningTokens() const;
};

// Token estimate for text: a run of ASCII letters/digits counts ceil(len/4), other ASCII
// punctuation 1 each, whitespace 0, every non-ASCII code point 1.
int CountTokens(std::string_view text);
// Σ over messages (CountTokens(text) + 3) + CountTokens(tools) + media tokens.
int InputTokens(const ChatRequest& req);
int ImageTokens(const ChatRequest& req);

bool ThinkingEnabled(const ChatRequest& req, const ModelInfo& model);
// Splits text into stream pieces (leading whitespace + a word, or one non-ASCII character).
// Joining the pieces gives the text back.
std::vector<std::string> SplitPieces(std::string_view text);

Completion Generate(const ChatRequest& req, const ModelInfo& model, const GenOptions& opt);

}  // namespace hub::sim
