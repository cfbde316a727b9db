#pragma once
// OpenAI-compatible mode (bailian-api.md §2): chat.completion bodies, chat.completion.chunk
// SSE frames ("data: " with a space, [DONE] at the end), the model list. Pure.
#include <cstdint>
#include <string>
#include <vector>

#include "chat_request.hpp"
#include "content.hpp"
#include "frames.hpp"

namespace hub::sim {

struct CompatMeta {
    std::string id;  // "chatcmpl-<uuid>"
    std::int64_t created = 0;
    std::string model;
};

std::string CompatBody(const ChatRequest& req, const Completion& c, const CompatMeta& meta);
// Every event of the stream, [DONE] included (last).
std::vector<Frame> CompatStreamFrames(const ChatRequest& req, const Completion& c,
                                      const CompatMeta& meta);
std::string CompatDoneFrame();
std::string CompatModelsBody(const std::vector<std::string>& names, std::int64_t created);

}  // namespace hub::sim
