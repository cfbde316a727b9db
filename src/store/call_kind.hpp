#pragma once
// What kind of call an api_calls row is, derived from its endpoint column: the chat page
// ("chat"), conversation titles ("chat.title"), images ("images..." or "/v1/images/..."), the
// OpenAI-compatible API (other "/v1/..." paths) and the DashScope pass-through
// ("/dashscope/..."). One definition for the history filter, the CSV and the web UI.
#include <optional>
#include <string_view>

namespace hub::store {

enum class CallKind { kChat, kTitle, kImages, kCompatible, kPassthrough, kOther };

inline CallKind CallKindOf(std::string_view endpoint) {
    if (endpoint == "chat.title") return CallKind::kTitle;
    if (endpoint.starts_with("images") || endpoint.starts_with("/v1/images/"))
        return CallKind::kImages;
    if (endpoint == "chat" || endpoint.starts_with("chat.")) return CallKind::kChat;
    if (endpoint.starts_with("/v1/")) return CallKind::kCompatible;
    if (endpoint.starts_with("/dashscope/")) return CallKind::kPassthrough;
    return CallKind::kOther;
}

inline std::string_view ToString(CallKind k) {
    switch (k) {
        case CallKind::kChat: return "chat";
        case CallKind::kTitle: return "title";
        case CallKind::kImages: return "images";
        case CallKind::kCompatible: return "compatible";
        case CallKind::kPassthrough: return "passthrough";
        case CallKind::kOther: return "other";
    }
    return "other";
}

inline std::optional<CallKind> ParseCallKind(std::string_view s) {
    for (CallKind k : {CallKind::kChat, CallKind::kTitle, CallKind::kImages, CallKind::kCompatible,
                       CallKind::kPassthrough, CallKind::kOther}) {
        if (s == ToString(k)) return k;
    }
    return std::nullopt;
}

}  // namespace hub::store
