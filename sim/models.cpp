#include "models.hpp"

#include <cctype>

namespace hub::sim {
namespace {

struct Entry {
    const char* name;
    ModelKind kind;
    Thinking thinking;
    bool thinking_default;
    bool stream_only;
    bool stream_only_thinking;
    bool message_default;
};

constexpr ModelKind C = ModelKind::kChat;
constexpr ModelKind V = ModelKind::kVision;
constexpr ModelKind I = ModelKind::kImage;
constexpr ModelKind E = ModelKind::kEmbedding;
constexpr Thinking N = Thinking::kNever;
constexpr Thinking O = Thinking::kOptional;
constexpr Thinking A = Thinking::kAlways;

// name, kind, thinking, thinking default, stream-only, stream-only when thinking, message default
const Entry kCatalogue[] = {
    {"qwen-max", C, N, false, false, false, false},
    {"qwen-plus", C, O, false, false, false, false},
    {"qwen-turbo", C, O, false, false, false, false},
    {"qwen-flash", C, O, false, false, false, false},
    {"qwen-long", C, N, false, false, false, false},
    {"qwen3-max", C, O, false, false, false, true},
    {"qwen3-max-preview", C, O, false, false, false, true},
    {"qwq-plus", C, A, true, true, false, true},
    {"qwq-32b", C, A, true, true, false, true},
    {"qwen3-235b-a22b", C, O, true, false, true, true},
    {"qwen3-32b", C, O, true, false, true, true},
    {"qwen3-30b-a3b", C, O, true, false, true, true},
    {"qwen3-14b", C, O, true, false, true, true},
    {"qwen3-8b", C, O, true, false, true, true},
    {"qwen3-235b-a22b-thinking-2507", C, A, true, true, false, true},
    {"qwen3-235b-a22b-instruct-2507", C, N, false, false, false, true},
    {"qwen2.5-72b-instruct", C, N, false, false, false, false},
    {"qwen2.5-7b-instruct", C, N, false, false, false, false},
    {"deepseek-r1", C, A, true, false, false, true},
    {"deepseek-v3", C, N, false, false, false, true},
    {"qwen-omni-turbo", C, N, false, true, false, true},
    {"qwen-vl-max", V, N, false, false, false, true},
    {"qwen-vl-plus", V, N, false, false, false, true},
    {"qwen-vl-ocr", V, N, false, false, false, true},
    {"qwen2.5-vl-72b-instruct", V, N, false, false, false, true},
    {"qwen3-vl-plus", V, O, false, false, false, true},
    {"qvq-max", V, A, true, true, false, true},
    {"wanx-v1", I, N, false, false, false, false},
    {"wanx2.0-t2i-turbo", I, N, false, false, false, false},
    {"wanx2.1-t2i-turbo", I, N, false, false, false, false},
    {"wanx2.1-t2i-plus", I, N, false, false, false, false},
    {"wan2.2-t2i-flash", I, N, false, false, false, false},
    {"wan2.2-t2i-plus", I, N, false, false, false, false},
    {"wan2.5-t2i-preview", I, N, false, false, false, false},
    {"text-embedding-v3", E, N, false, false, false, false},
    {"text-embedding-v4", E, N, false, false, false, false},
};

ModelInfo FromEntry(const Entry& e, std::string_view requested) {
    ModelInfo m;
    m.name = std::string(requested);
    m.base = e.name;
    m.kind = e.kind;
    m.thinking = e.thinking;
    m.thinking_default = e.thinking_default;
    m.stream_only = e.stream_only;
    m.stream_only_thinking = e.stream_only_thinking;
    m.default_message_format = e.message_default;
    m.wanx_v1 = m.base == "wanx-v1";
    m.wan25 = m.base.rfind("wan2.5", 0) == 0;
    return m;
}

bool AllDigitsOrDash(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '-')) return false;
    }
    return std::isdigit(static_cast<unsigned char>(s.front())) &&
           std::isdigit(static_cast<unsigned char>(s.back()));
}

}  // namespace

std::optional<ModelInfo> LookupModel(std::string_view name, const std::vector<std::string>& extra) {
    if (name.empty()) return std::nullopt;
    for (const auto& e : kCatalogue) {
        if (name == e.name) return FromEntry(e, name);
    }
    // Longest catalogue entry that is a prefix followed by "-latest" or a date-like snapshot.
    const Entry* best = nullptr;
    for (const auto& e : kCatalogue) {
        std::string_view b = e.name;
        if (name.size() <= b.size() + 1 || name.substr(0, b.size()) != b || name[b.size()] != '-')
            continue;
        std::string_view rest = name.substr(b.size() + 1);
        if (rest == "latest" || AllDigitsOrDash(rest)) {
            if (!best || std::string_view(best->name).size() < b.size()) best = &e;
        }
    }
    if (best) return FromEntry(*best, name);
    for (const auto& x : extra) {
        if (name == x) {
            Entry e{x.c_str(), C, N, false, false, false, false};
            return FromEntry(e, name);
        }
    }
    return std::nullopt;
}

std::vector<std::string> CatalogueNames(ModelKind kind) {
    std::vector<std::string> out;
    for (const auto& e : kCatalogue) {
        if (e.kind == kind) out.emplace_back(e.name);
    }
    return out;
}

std::vector<std::string> AllCatalogueNames() {
    std::vector<std::string> out;
    for (const auto& e : kCatalogue) out.emplace_back(e.name);
    return out;
}

}  // namespace hub::sim
