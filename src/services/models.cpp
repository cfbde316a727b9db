#include "services/models.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "cache/cache.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;

std::string_view ToString(ModelKind kind) {
    switch (kind) {
        case ModelKind::kChat:
            return "chat";
        case ModelKind::kVision:
            return "vision";
        case ModelKind::kImage:
            return "image";
    }
    return "chat";
}

std::string_view ModelFamilyPermission(ModelKind kind) {
    return kind == ModelKind::kImage ? "models:images" : "models:chat";
}

std::optional<ModelKind> ParseModelKind(std::string_view s) {
    if (s == "chat") return ModelKind::kChat;
    if (s == "vision") return ModelKind::kVision;
    if (s == "image") return ModelKind::kImage;
    return std::nullopt;
}

std::int64_t MicroCny(double cny) {
    if (!std::isfinite(cny) || cny < 0) return -1;
    return std::llround(cny * 1'000'000.0);
}

double Cny(std::int64_t micro) { return static_cast<double>(micro) / 1'000'000.0; }

PriceTier ModelInfo::TierFor(std::int64_t input_tokens) const {
    for (const auto& t : tiers) {
        if (t.up_to_input_tokens == 0 || input_tokens <= t.up_to_input_tokens) return t;
    }
    return tiers.empty() ? PriceTier{} : tiers.back();
}

namespace {

constexpr std::int64_t K = 1024;

ModelInfo Chat(std::string id, std::int64_t ctx, std::int64_t max_in, std::int64_t max_out,
               std::vector<PriceTier> tiers) {
    ModelInfo m;
    m.id = std::move(id);
    m.kind = ModelKind::kChat;
    m.context_window = ctx;
    m.max_input_tokens = max_in;
    m.max_output_tokens = max_out;
    m.tiers = std::move(tiers);
    return m;
}

ModelInfo Image(std::string id, std::int64_t micro_per_image) {
    ModelInfo m;
    m.id = std::move(id);
    m.kind = ModelKind::kImage;
    m.image_micro = micro_per_image;
    return m;
}

bool AllDigits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
}

// "qwen-plus-latest" -> "qwen-plus"; "qwen-plus-2025-04-28" -> "qwen-plus";
// "qwen-plus-0919" -> "qwen-plus"; anything else -> nullopt.
std::optional<std::string_view> AliasBase(std::string_view id) {
    constexpr std::string_view kLatest = "-latest";
    if (id.size() > kLatest.size() && id.substr(id.size() - kLatest.size()) == kLatest)
        return id.substr(0, id.size() - kLatest.size());
    // -YYYY-MM-DD
    if (id.size() > 11) {
        std::string_view tail = id.substr(id.size() - 11);
        if (tail[0] == '-' && AllDigits(tail.substr(1, 4)) && tail[5] == '-' &&
            AllDigits(tail.substr(6, 2)) && tail[8] == '-' && AllDigits(tail.substr(9, 2)))
            return id.substr(0, id.size() - 11);
    }
    // -MMDD
    if (id.size() > 5) {
        std::string_view tail = id.substr(id.size() - 5);
        if (tail[0] == '-' && AllDigits(tail.substr(1))) return id.substr(0, id.size() - 5);
    }
    return std::nullopt;
}

Error UnknownModel(std::string_view id) {
    std::string shown(id.substr(0, 64));
    return Error::Make(ErrorCode::kInvalidArgument, "unknown_model",
                       "Unknown or disabled model '" + shown + "'. GET /api/v1/models lists them.");
}

}  // namespace

std::vector<ModelInfo> Catalog::BuiltIn() {
    // Beijing list prices, micro-CNY per 1K tokens (shared docs/bailian-api.md §8; several are
    // marked uncertain there: re-price them in the config when the bill says otherwise).
    std::vector<ModelInfo> v;
    v.push_back(Chat("qwen3-max", 256 * K, 252 * K, 64 * K,
                     {{32 * K, 2500, 10000}, {128 * K, 4000, 16000}, {0, 7000, 28000}}));
    v.push_back(Chat("qwen-max", 32 * K, 30 * K, 8 * K, {{0, 2400, 9600}}));
    {
        ModelInfo m = Chat("qwen-plus", 128 * K, 0, 16 * K, {{0, 800, 2000}});
        m.thinking = true;
        m.thinking_output_micro_per_1k = 8000;
        v.push_back(std::move(m));
    }
    {
        ModelInfo m = Chat("qwen-turbo", 1'000'000, 0, 16 * K, {{0, 300, 600}});
        m.thinking = true;
        v.push_back(std::move(m));
    }
    {
        ModelInfo m = Chat("qwen-flash", 1'000'000, 997 * K, 32 * K,
                           {{128 * K, 150, 1500}, {256 * K, 600, 6000}, {0, 1200, 12000}});
        m.thinking = true;
        v.push_back(std::move(m));
    }
    {
        ModelInfo m = Chat("qwq-plus", 128 * K, 98 * K, 8 * K, {{0, 1600, 4000}});
        m.always_thinks = true;
        m.stream_only = true;
        v.push_back(std::move(m));
    }
    v.push_back(Chat("qwen-long", 10'000'000, 0, 8 * K, {{0, 500, 2000}}));
    {
        ModelInfo m = Chat("qwen-vl-max", 128 * K, 126 * K, 8 * K, {{0, 1600, 4000}});
        m.kind = ModelKind::kVision;
        v.push_back(std::move(m));
    }
    {
        ModelInfo m = Chat("qwen-vl-plus", 128 * K, 126 * K, 8 * K, {{0, 800, 2000}});
        m.kind = ModelKind::kVision;
        v.push_back(std::move(m));
    }
    v.push_back(Image("wanx-v1", 160'000));
    v.push_back(Image("wanx2.1-t2i-turbo", 140'000));
    v.push_back(Image("wanx2.1-t2i-plus", 200'000));
    v.push_back(Image("wan2.2-t2i-flash", 140'000));
    v.push_back(Image("wan2.2-t2i-plus", 200'000));
    v.push_back(Image("wan2.5-t2i-preview", 200'000));
    return v;
}

Catalog::Catalog() : Catalog(BuiltIn(), "qwen-plus", {}) {}

Catalog::Catalog(std::vector<ModelInfo> models, std::string default_model,
                 std::vector<std::string> disabled_aliases)
    : models_(std::move(models)), default_model_(std::move(default_model)),
      disabled_aliases_(std::move(disabled_aliases)) {}

core::Result<Catalog> Catalog::Make(CatalogConfig cfg) {
    auto bad = [](const std::string& what) {
        return Error::Make(ErrorCode::kInvalidArgument, "invalid_config", "models: " + what);
    };
    std::vector<ModelInfo> models = BuiltIn();
    for (auto& m : cfg.custom) {
        if (m.id.empty() || m.id.size() > 128)
            return bad("a custom model needs an id (1-128 chars)");
        if (m.id.find_first_of(" \t\r\n\"") != std::string::npos)
            return bad("model id '" + m.id + "' contains spaces or quotes");
        if (m.kind != ModelKind::kImage && m.context_window <= 0)
            return bad("model '" + m.id + "' needs a context_window > 0");
        if (m.image_micro < 0 || m.thinking_output_micro_per_1k < 0)
            return bad("model '" + m.id + "' has a negative price");
        for (const auto& t : m.tiers) {
            if (t.input_micro_per_1k < 0 || t.output_micro_per_1k < 0)
                return bad("model '" + m.id + "' has a negative price");
        }
        auto it = std::find_if(models.begin(), models.end(),
                               [&](const ModelInfo& x) { return x.id == m.id; });
        if (it != models.end()) {
            *it = std::move(m);
        } else {
            models.push_back(std::move(m));
        }
    }
    std::vector<std::string> disabled_aliases;
    for (const auto& id : cfg.disabled) {
        if (id.empty()) continue;
        auto it = std::find_if(models.begin(), models.end(),
                               [&](const ModelInfo& x) { return x.id == id; });
        if (it != models.end()) {
            it->enabled = false;
        } else {
            disabled_aliases.push_back(id);
        }
    }
    Catalog c(std::move(models), std::move(cfg.default_model), std::move(disabled_aliases));
    auto def = c.Require(c.default_model_, {ModelKind::kChat, ModelKind::kVision});
    if (!def.ok())
        return bad("the default model '" + c.default_model_ + "' is unknown or disabled");
    return c;
}

const ModelInfo* Catalog::FindExact(std::string_view id) const {
    for (const auto& m : models_) {
        if (m.id == id) return &m;
    }
    return nullptr;
}

const ModelInfo* Catalog::Find(std::string_view id) const {
    if (const ModelInfo* m = FindExact(id)) return m;
    if (auto base = AliasBase(id)) return FindExact(*base);
    return nullptr;
}

core::Result<const ModelInfo*> Catalog::Require(std::string_view id,
                                                std::initializer_list<ModelKind> kinds) const {
    const ModelInfo* m = Find(id);
    if (!m || !m->enabled) return UnknownModel(id);
    if (std::find(disabled_aliases_.begin(), disabled_aliases_.end(), id) !=
        disabled_aliases_.end())
        return UnknownModel(id);
    if (std::find(kinds.begin(), kinds.end(), m->kind) == kinds.end()) return UnknownModel(id);
    return m;
}

std::int64_t Catalog::CostMicroCny(const ModelInfo& model, const bailian::Usage& usage,
                                   bool thinking) {
    PriceTier t = model.TierFor(usage.input_tokens);
    std::int64_t out_price = t.output_micro_per_1k;
    if ((thinking || usage.reasoning_tokens > 0) && model.thinking_output_micro_per_1k > 0)
        out_price = model.thinking_output_micro_per_1k;
    std::int64_t in = std::max<std::int64_t>(0, usage.input_tokens);
    std::int64_t out = std::max<std::int64_t>(0, usage.output_tokens);
    // micro-CNY × 1000: exact in 64 bits for any realistic token count.
    std::int64_t milli = in * t.input_micro_per_1k + out * out_price;
    return (milli + 500) / 1000;
}

std::int64_t Catalog::CostMicroCny(std::string_view model, const bailian::Usage& usage,
                                   bool thinking) const {
    const ModelInfo* m = Find(model);
    return m ? CostMicroCny(*m, usage, thinking) : 0;
}

std::int64_t Catalog::ImageCostMicroCny(std::string_view model, std::int64_t images) const {
    const ModelInfo* m = Find(model);
    return m ? m->image_micro * std::max<std::int64_t>(0, images) : 0;
}

ModelDirectory::ModelDirectory(const Catalog& catalog, cache::Cache& cache)
    : catalog_(catalog), cache_(cache) {}

std::string ModelDirectory::ListBody(const std::function<std::string(const Catalog&)>& render) {
    constexpr std::string_view kKey = "models:list";
    if (auto hit = cache_.Get(kKey)) return std::move(*hit);
    std::string body = render(catalog_);
    cache_.Put(std::string(kKey), body, std::chrono::minutes(1));
    return body;
}

}  // namespace hub::services
