#pragma once
// The model catalog: which models the hub offers, their kind, context window and prices, and
// what a call costs. A built-in list (shared docs/bailian-api.md §8) that configuration can
// extend, re-price and disable. Immutable after start-up, so lookups need no locking and the
// pointers it hands out stay valid for the life of the Catalog. Pure: no I/O.
//
// Prices are kept as integers: micro-CNY per 1,000 tokens (0.0008 CNY/1K = 800), and
// micro-CNY per image. The cost of a call is
//   round((input_tokens * input_price + output_tokens * output_price) / 1000)   [micro-CNY]
// i.e. tokens × CNY-per-1K × 1000, rounded once to the nearest micro-CNY.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bailian/types.hpp"
#include "core/result.hpp"

namespace hub::cache {
class Cache;
}

namespace hub::services {

enum class ModelKind { kChat, kVision, kImage };
std::string_view ToString(ModelKind kind);  // "chat", "vision", "image"
std::optional<ModelKind> ParseModelKind(std::string_view s);
// The permission that calls models of `kind`: "models:chat" (chat, vision), "models:images".
std::string_view ModelFamilyPermission(ModelKind kind);

// Input-length tier of a token price (qwen3-max and qwen-flash price by prompt length).
struct PriceTier {
    std::int64_t up_to_input_tokens = 0;  // this tier applies up to here; 0 = no upper bound
    std::int64_t input_micro_per_1k = 0;
    std::int64_t output_micro_per_1k = 0;
    bool operator==(const PriceTier&) const = default;
};

struct ModelInfo {
    std::string id;
    ModelKind kind = ModelKind::kChat;
    std::int64_t context_window = 0;                // tokens, prompt + answer
    std::int64_t max_input_tokens = 0;              // 0 = context_window
    std::int64_t max_output_tokens = 0;             // 0 = not known
    std::vector<PriceTier> tiers;                   // ascending; the last one usually unbounded
    std::int64_t thinking_output_micro_per_1k = 0;  // output price in thinking mode; 0 = same
    std::int64_t image_micro = 0;                   // per generated image (image models)
    bool thinking = false;       // accepts enable_thinking (hybrid thinking models)
    bool always_thinks = false;  // reasons without being asked (qwq-*)
    bool stream_only = false;    // upstream refuses non-stream calls
    bool enabled = true;

    // The largest prompt (in tokens) this model accepts.
    std::int64_t InputLimit() const {
        return max_input_tokens > 0 ? max_input_tokens : context_window;
    }
    // The price tier for a prompt of `input_tokens`; a zero tier when the model has no prices.
    PriceTier TierFor(std::int64_t input_tokens) const;
};

struct CatalogConfig {
    std::string default_model = "qwen-plus";
    std::vector<std::string> disabled;  // model ids (exact, or the base id of aliases)
    // Added models; one with the id of a built-in model replaces it (re-pricing).
    std::vector<ModelInfo> custom;
};

class Catalog {
public:
    // Validates the config: custom models need an id, a context window for chat/vision kinds,
    // non-negative prices; the default model must exist, be enabled and be a chat model.
    static core::Result<Catalog> Make(CatalogConfig cfg);
    // The built-in catalog only, default "qwen-plus" (tests).
    Catalog();

    static std::vector<ModelInfo> BuiltIn();

    // The model with this id, enabled or not; snapshot and alias ids ("qwen-plus-latest",
    // "qwen-plus-2025-04-28", "qwen-plus-0919") resolve to their base model. nullptr = unknown.
    const ModelInfo* Find(std::string_view id) const;
    // An enabled model of one of `kinds`; anything else is 400 "unknown_model".
    core::Result<const ModelInfo*> Require(std::string_view id,
                                           std::initializer_list<ModelKind> kinds) const;
    // An enabled chat or vision model (conversations, /v1/chat/completions).
    core::Result<const ModelInfo*> RequireChat(std::string_view id) const {
        return Require(id, {ModelKind::kChat, ModelKind::kVision});
    }

    const std::vector<ModelInfo>& All() const { return models_; }  // in catalog order
    const std::string& DefaultModel() const { return default_model_; }

    // Cost of one token-billed call. Thinking-mode output price applies when the usage shows
    // reasoning tokens or `thinking` is set.
    static std::int64_t CostMicroCny(const ModelInfo& model, const bailian::Usage& usage,
                                     bool thinking = false);
    // Same by id; 0 for an unknown model.
    std::int64_t CostMicroCny(std::string_view model, const bailian::Usage& usage,
                              bool thinking = false) const;
    // Cost of `images` generated images; 0 for an unknown model.
    std::int64_t ImageCostMicroCny(std::string_view model, std::int64_t images) const;

private:
    explicit Catalog(std::vector<ModelInfo> models, std::string default_model,
                     std::vector<std::string> disabled_aliases);
    const ModelInfo* FindExact(std::string_view id) const;

    std::vector<ModelInfo> models_;
    std::string default_model_;
    std::vector<std::string> disabled_aliases_;  // disabled ids that are not catalog ids
};

// The catalog as the API shows it, rendered once and kept in the cache (key "models:list",
// one minute), so that GET /models costs a cache read.
class ModelDirectory {
public:
    ModelDirectory(const Catalog& catalog, cache::Cache& cache);
    const Catalog& catalog() const { return catalog_; }
    std::string ListBody(const std::function<std::string(const Catalog&)>& render);

private:
    const Catalog& catalog_;
    cache::Cache& cache_;
};

// CNY per 1K tokens (or per image) as configured -> integer micro-CNY; -1 when negative or
// not finite.
std::int64_t MicroCny(double cny);
// The inverse, for display (800 -> 0.0008).
double Cny(std::int64_t micro);

}  // namespace hub::services
