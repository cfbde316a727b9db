#include "app/models_config.hpp"

namespace hub::app {

core::Result<services::Catalog> MakeCatalog(const Config& cfg) {
    services::CatalogConfig cc;
    cc.default_model = cfg.default_model;
    cc.disabled = cfg.disabled_models;
    for (const auto& m : cfg.custom_models) {
        services::ModelInfo info;
        info.id = m.id;
        info.kind = services::ParseModelKind(m.kind).value_or(services::ModelKind::kChat);
        info.context_window = m.context_window;
        info.max_input_tokens = m.max_input_tokens;
        info.max_output_tokens = m.max_output_tokens;
        if (info.kind == services::ModelKind::kImage) {
            info.image_micro = services::MicroCny(m.image_price);
        } else {
            info.tiers.push_back(
                {0, services::MicroCny(m.input_price), services::MicroCny(m.output_price)});
            info.thinking_output_micro_per_1k = services::MicroCny(m.thinking_output_price);
        }
        info.thinking = m.thinking;
        info.enabled = m.enabled;
        cc.custom.push_back(std::move(info));
    }
    return services::Catalog::Make(std::move(cc));
}

}  // namespace hub::app
