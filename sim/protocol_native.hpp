#pragma once
// Native DashScope generation (bailian-api.md §3, §4.1): output/usage/request_id bodies and
// the native SSE framing: "id:N", "event:result", ":HTTP_STATUS/200", "data:{…}" — no space
// after the colons, finish_reason "null" (a string) on intermediate events, cumulative usage
// on every event, no [DONE]. Pure.
#include <string>
#include <vector>

#include "chat_request.hpp"
#include "content.hpp"
#include "frames.hpp"
#include "models.hpp"

namespace hub::sim {

struct NativeShape {
    bool message = true;      // result_format message (else text)
    bool incremental = false; // incremental_output
    bool multimodal = false;  // content as [{"text":…}], usage with image_tokens
};

// result_format / incremental_output as the service would apply them for this request:
// explicit values win; thinking or tool calls force "message"; multimodal is always message.
NativeShape NativeShapeFor(const ChatRequest& req, const ModelInfo& model, const Completion& c);

std::string NativeBody(const ChatRequest& req, const Completion& c, const NativeShape& shape,
                       const std::string& request_id);
std::vector<Frame> NativeStreamFrames(const ChatRequest& req, const Completion& c,
                                      const NativeShape& shape, const std::string& request_id,
                                      bool blank_lines = true);

}  // namespace hub::sim
