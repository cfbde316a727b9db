#pragma once
// A chat request as the simulator understands it, parsed from either API's body.
// Parsing also validates: a bad request yields the SimError DashScope would answer with.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "errors.hpp"

namespace hub::sim {

enum class Api { kCompat, kNativeText, kNativeMultimodal };

struct ChatMessage {
    std::string role;
    std::string text;  // all text parts joined
    int images = 0;
    int videos = 0;
    int audios = 0;
    bool has_tool_calls = false;
};

struct ToolDef {
    std::string name;
    nlohmann::json parameters;  // JSON schema (may be null)
};

struct ChatRequest {
    Api api = Api::kCompat;
    std::string model;        // as sent
    std::string model_name;   // without a "@fault" suffix
    std::string model_fault;  // text after '@' ("" when none)
    std::vector<ChatMessage> messages;
    bool stream = false;         // compat: body "stream"; native: set by the caller from headers
    bool include_usage = false;  // compat stream_options.include_usage
    std::string result_format;   // native: "text" | "message" | "" (absent)
    std::optional<bool> incremental_output;
    std::optional<bool> enable_thinking;
    std::optional<int> thinking_budget;
    std::optional<int> max_tokens;
    int n = 1;
    std::optional<std::int64_t> seed;
    std::vector<ToolDef> tools;
    std::string tools_text;   // serialized tools (counted as input tokens)
    std::string tool_choice;  // "", "auto", "none", "required", "function"
    std::string forced_tool;  // function name when tool_choice names one
    bool json_mode = false;
    bool logprobs = false;
    int top_logprobs = 0;
    std::vector<std::string> stop;
    bool used_prompt = false;  // native input.prompt

    const ChatMessage* LastUser() const;
    const ChatMessage* Last() const { return messages.empty() ? nullptr : &messages.back(); }
    std::string AllText() const;  // every message's text, for directives and the json check
};

// Parses and validates. On failure returns the error (and *out is unspecified).
std::optional<SimError> ParseCompatRequest(const nlohmann::json& body, ChatRequest* out);
std::optional<SimError> ParseNativeRequest(const nlohmann::json& body, Api api, ChatRequest* out);

// Splits "qwen-plus@cut:3" into ("qwen-plus", "cut:3").
void SplitModelFault(const std::string& model, std::string* name, std::string* fault);

}  // namespace hub::sim
