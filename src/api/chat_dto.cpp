#include "api/chat_dto.hpp"

#include "api/dto.hpp"
#include "services/image_rules.hpp"
#include "store/call_kind.hpp"

namespace hub::api {

namespace {
nlohmann::json OrNull(const std::string& s) {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}
}  // namespace

nlohmann::json ConversationJson(const store::Conversation& c,
                                const std::optional<store::MessageTotals>& totals) {
    nlohmann::json j = {{"id", c.id},
                        {"title", c.title},
                        {"model", OrNull(c.model)},
                        {"system_prompt", c.system_prompt},
                        {"pinned", c.pinned},
                        {"archived", c.archived},
                        {"created_at", Iso(c.created_at)},
                        {"updated_at", Iso(c.updated_at)}};
    if (totals) {
        j["message_count"] = totals->messages;
        j["input_tokens"] = totals->input_tokens;
        j["output_tokens"] = totals->output_tokens;
    }
    return j;
}

nlohmann::json MessageJson(const store::Message& m) {
    return {{"id", m.id},
            {"conversation_id", m.conversation_id},
            {"role", std::string(store::ToString(m.role))},
            {"content", m.content},
            {"reasoning", OrNull(m.reasoning)},
            {"model", OrNull(m.model)},
            {"status", std::string(store::ToString(m.status))},
            {"error_code", OrNull(m.error_code)},
            {"input_tokens", m.input_tokens},
            {"output_tokens", m.output_tokens},
            {"parent_id", m.parent_id ? nlohmann::json(*m.parent_id) : nlohmann::json(nullptr)},
            {"attachments", AttachmentsJson(m.attachments)},
            {"created_at", Iso(m.created_at)}};
}

nlohmann::json AttachmentsJson(const std::vector<std::string>& ids) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& id : ids) out.push_back({{"id", id}, {"url", "/api/v1/files/" + id}});
    return out;
}

nlohmann::json ModelJson(const services::ModelInfo& m, bool is_default) {
    nlohmann::json prices = {{"currency", "CNY"}};
    if (m.kind == services::ModelKind::kImage) {
        prices["per_image"] = services::Cny(m.image_micro);
    } else {
        services::PriceTier base = m.tiers.empty() ? services::PriceTier{} : m.tiers.front();
        prices["input_per_1k_tokens"] = services::Cny(base.input_micro_per_1k);
        prices["output_per_1k_tokens"] = services::Cny(base.output_micro_per_1k);
        if (m.thinking_output_micro_per_1k > 0)
            prices["thinking_output_per_1k_tokens"] = services::Cny(m.thinking_output_micro_per_1k);
        if (m.tiers.size() > 1) {
            nlohmann::json tiers = nlohmann::json::array();
            for (const auto& t : m.tiers) {
                tiers.push_back({{"up_to_input_tokens", t.up_to_input_tokens
                                                            ? nlohmann::json(t.up_to_input_tokens)
                                                            : nlohmann::json(nullptr)},
                                 {"input_per_1k_tokens", services::Cny(t.input_micro_per_1k)},
                                 {"output_per_1k_tokens", services::Cny(t.output_micro_per_1k)}});
            }
            prices["tiers"] = tiers;
        }
    }
    auto opt = [](std::int64_t v) { return v > 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
    nlohmann::json image = nullptr;
    if (m.kind == services::ModelKind::kImage) {
        services::ImageRules rules = services::RulesFor(m);
        image = {{"sizes", rules.sizes},
                 {"default_size", rules.default_size},
                 {"max_n", rules.max_n},
                 {"max_prompt_chars", rules.max_prompt_chars},
                 {"max_negative_prompt_chars", rules.max_negative_prompt_chars}};
    }
    return {{"id", m.id},
            {"kind", std::string(services::ToString(m.kind))},
            {"context_window", opt(m.context_window)},
            {"max_input_tokens", opt(m.kind == services::ModelKind::kImage ? 0 : m.InputLimit())},
            {"max_output_tokens", opt(m.max_output_tokens)},
            {"prices", prices},
            {"thinking", m.thinking || m.always_thinks},
            {"enabled", m.enabled},
            {"image", image},
            {"default", is_default}};
}

nlohmann::json ApiCallJson(const store::ApiCall& c) {
    return {{"id", c.id},
            {"user_id", c.user_id},
            {"api_key_id", c.api_key_id ? nlohmann::json(*c.api_key_id) : nlohmann::json(nullptr)},
            {"conversation_id",
             c.conversation_id ? nlohmann::json(*c.conversation_id) : nlohmann::json(nullptr)},
            {"endpoint", c.endpoint},
            {"kind", std::string(store::ToString(store::CallKindOf(c.endpoint)))},
            {"model", c.model},
            {"status_code", c.status_code},
            {"error_code", OrNull(c.error_code)},
            {"input_tokens", c.input_tokens},
            {"output_tokens", c.output_tokens},
            {"image_count", c.image_count},
            {"image_tokens", c.image_tokens},
            {"latency_ms", c.latency_ms},
            {"first_token_ms",
             c.first_token_ms ? nlohmann::json(*c.first_token_ms) : nlohmann::json(nullptr)},
            {"cost_micro_cny", c.cost_micro_cny},
            {"cost_cny", services::Cny(c.cost_micro_cny)},
            {"upstream_request_id", OrNull(c.upstream_request_id)},
            {"upstream_task_id", OrNull(c.upstream_task_id)},
            {"cache_hit", c.cache_hit},
            {"created_at", Iso(c.created_at)}};
}

nlohmann::json UsageBucketJson(const store::UsageBucket& b) {
    return {{"calls", b.calls},
            {"input_tokens", b.input_tokens},
            {"output_tokens", b.output_tokens},
            {"total_tokens", b.total_tokens},
            {"images", b.images},
            {"cost_micro_cny", b.cost_micro_cny},
            {"cost_cny", services::Cny(b.cost_micro_cny)},
            {"errors", b.errors},
            {"latency_ms",
             {{"p50", b.latency_p50_ms}, {"p95", b.latency_p95_ms}, {"p99", b.latency_p99_ms}}}};
}

}  // namespace hub::api
