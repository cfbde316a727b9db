#pragma once
// Non-stream DashScope bodies: chat responses of both API styles into one ChatResult, and
// error bodies of both styles into an UpstreamError.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "bailian/types.hpp"
#include "core/result.hpp"

namespace hub::bailian {

struct ChatResult {
    std::string content;        // the answer text (VL content arrays are concatenated)
    std::string reasoning;      // reasoning_content of thinking models ("" when none)
    nlohmann::json tool_calls;  // OpenAI-shaped array, or null when the model called no tool
    std::string finish_reason;  // "stop", "length", "tool_calls" (native may say "stop")
    Usage usage;
    std::string request_id;   // body request_id ("" in compatible mode: use x-request-id)
    std::string model;        // compatible mode only
    std::string response_id;  // compatible mode "chatcmpl-..." id
};

// Parses a successful (HTTP 2xx) chat body: compatible chat.completion, or native
// text-generation / multimodal-generation / application completion (result_format message or
// text). A body that is not JSON, is an error body, or has neither choices nor text is a
// kUpstream error (detail for the logs).
[[nodiscard]] core::Result<ChatResult> ParseChatResponse(ApiStyle style, std::string_view body);

// Parses an error body leniently; never fails. Handles native {"code","message","request_id"}
// and compatible {"error":{"message","type","param","code"},"request_id"} (any field missing,
// code null), {"error":"text"}, and non-JSON bodies (an excerpt becomes the message).
// `header_request_id` (x-request-id) is used when the body has no request_id.
UpstreamError ParseErrorBody(int http_status, std::string_view body,
                             std::string_view header_request_id = {});

}  // namespace hub::bailian
