#include "api/image_dto.hpp"

#include "api/dto.hpp"
#include "services/images.hpp"

namespace hub::api {

namespace {

using nlohmann::json;

json OrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
json OrNull(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); }
json TimeOrNull(const std::optional<std::int64_t>& ms) { return ms ? json(Iso(*ms)) : json(nullptr); }

json ErrorOrNull(const std::string& code, const std::string& message) {
    if (code.empty()) return nullptr;
    return {{"code", code}, {"message", message}};
}

}  // namespace

core::Result<services::ImageRequest> ImageRequestFromJson(const json& body,
                                                          bool other_fields_allowed) {
    if (!other_fields_allowed) {
        auto only = OnlyFields(body, {"prompt", "negative_prompt", "model", "size", "n", "seed",
                                      "prompt_extend", "watermark"});
        if (!only.ok()) return only.error();
    }
    services::ImageRequest r;
    auto prompt = ReqString(body, "prompt");
    if (!prompt.ok()) return prompt.error();
    r.prompt = std::move(prompt.value());
    for (auto [field, out] : {std::pair{"negative_prompt", &r.negative_prompt},
                              std::pair{"model", &r.model}, std::pair{"size", &r.size}}) {
        auto v = OptString(body, field);
        if (!v.ok()) return v.error();
        if (v.value()) *out = std::move(*v.value());
    }
    auto n = OptInt(body, "n");
    if (!n.ok()) return n.error();
    if (n.value()) {
        if (*n.value() < 1 || *n.value() > 4) return FieldError("n", "must be between 1 and 4.");
        r.n = static_cast<int>(*n.value());
    }
    auto seed = OptInt(body, "seed");
    if (!seed.ok()) return seed.error();
    r.seed = seed.value();
    auto extend = OptBool(body, "prompt_extend");
    if (!extend.ok()) return extend.error();
    r.prompt_extend = extend.value().value_or(true);
    auto watermark = OptBool(body, "watermark");
    if (!watermark.ok()) return watermark.error();
    r.watermark = watermark.value().value_or(false);
    return r;
}

json GenerationJson(const store::ImageGeneration& g, const services::Images& images) {
    json items = json::array();
    std::int64_t ok = 0;
    for (const auto& x : g.images) {
        std::string url = x.ok ? images.SignedPath(x.id) : std::string();
        ok += x.ok ? 1 : 0;
        items.push_back({{"id", x.id},
                         {"index", x.index},
                         {"status", x.ok ? "succeeded" : "failed"},
                         {"url", OrNull(url)},
                         {"download_url", url.empty() ? json(nullptr) : json(url + "&download=1")},
                         {"width", x.width},
                         {"height", x.height},
                         {"seed", OrNull(x.seed)},
                         {"actual_prompt", OrNull(x.actual_prompt)},
                         {"content_type", OrNull(x.content_type)},
                         {"bytes", x.ok ? json(x.bytes) : json(nullptr)},
                         {"error", ErrorOrNull(x.error_code, x.error_message)}});
    }
    return {{"id", g.id},
            {"status", std::string(store::ToString(g.status))},
            {"model", g.model},
            {"prompt", g.prompt},
            {"negative_prompt", g.negative_prompt},
            {"size", g.size},
            {"n", g.n},
            {"seed", OrNull(g.seed)},
            {"prompt_extend", g.prompt_extend},
            {"watermark", g.watermark},
            {"task_id", OrNull(g.task_id)},
            {"created_at", Iso(g.created_at)},
            {"submitted_at", TimeOrNull(g.submitted_at)},
            {"started_at", TimeOrNull(g.started_at)},
            {"finished_at", TimeOrNull(g.finished_at)},
            {"error", ErrorOrNull(g.error_code, g.error_message)},
            {"cost_cny", services::Cny(images.catalog().ImageCostMicroCny(g.model, ok))},
            {"images", items}};
}

nlohmann::json UploadJson(const store::Upload& u) {
    return {{"id", u.id},
            {"url", "/api/v1/files/" + u.id},
            {"content_type", u.content_type},
            {"bytes", u.bytes},
            {"width", u.width},
            {"height", u.height},
            {"name", u.original_name},
            {"created_at", Iso(u.created_at)}};
}

}  // namespace hub::api
