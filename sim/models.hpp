#pragma once
// The simulator's model catalogue: which names exist and how each behaves.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hub::sim {

enum class ModelKind { kChat, kVision, kImage, kEmbedding };
enum class Thinking { kNever, kOptional, kAlways };

struct ModelInfo {
    std::string name;  // as requested (snapshot/-latest suffix kept)
    std::string base;  // catalogue entry it resolved to
    ModelKind kind = ModelKind::kChat;
    Thinking thinking = Thinking::kNever;
    bool thinking_default = false;      // for kOptional: value when enable_thinking is absent
    bool stream_only = false;           // always stream-only
    bool stream_only_thinking = false;  // stream-only while thinking (open-source Qwen3)
    bool default_message_format = false;  // native result_format default "message"
    bool wanx_v1 = false;                 // image: wanx-v1 size rules
    bool wan25 = false;                   // image: wan2.5 size rules
};

// Resolves a model name: exact catalogue names, plus "<name>-latest" and dated snapshots
// ("<name>-2025-04-28", "<name>-0919"), plus `extra` names (treated as plain chat models).
std::optional<ModelInfo> LookupModel(std::string_view name,
                                     const std::vector<std::string>& extra = {});

// Catalogue names (for GET /compatible-mode/v1/models), in a stable order.
std::vector<std::string> CatalogueNames(ModelKind kind);
std::vector<std::string> AllCatalogueNames();

}  // namespace hub::sim
