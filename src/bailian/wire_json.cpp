#include "bailian/wire_json.hpp"

#include <algorithm>

namespace hub::bailian::wire {

std::optional<Json> ParseJson(std::string_view text) {
    Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

const Json* Find(const Json& j, std::string_view key) {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

std::string Str(const Json& j, std::string_view key) {
    const Json* v = Find(j, key);
    if (v == nullptr) return {};
    if (v->is_string()) return v->get<std::string>();
    if (v->is_number() || v->is_boolean()) return v->dump();
    return {};
}

std::int64_t Int(const Json& j, std::string_view key) {
    const Json* v = Find(j, key);
    if (v == nullptr) return 0;
    if (v->is_number_integer()) return v->get<std::int64_t>();
    if (v->is_number_unsigned()) return static_cast<std::int64_t>(v->get<std::uint64_t>());
    if (v->is_number_float()) {
        double d = v->get<double>();
        // Outside int64 the conversion is undefined: such a value is no usable number.
        if (!(d > -9.2e18 && d < 9.2e18)) return 0;
        return static_cast<std::int64_t>(d);
    }
    return 0;
}

namespace {

// Token counts beyond this are not real usage but a broken upstream; bounding them keeps sums
// and prices (tokens x micro-CNY per 1k) far inside 64 bits.
constexpr std::int64_t kMaxTokens = 1'000'000'000'000;

std::int64_t Tokens(const Json& j, std::string_view key) {
    return std::clamp<std::int64_t>(Int(j, key), 0, kMaxTokens);
}

}  // namespace

std::string ContentText(const Json* content) {
    if (content == nullptr) return {};
    if (content->is_string()) return content->get<std::string>();
    std::string out;
    if (content->is_array()) {
        for (const Json& part : *content) {
            if (const Json* t = Find(part, "text"); t != nullptr && t->is_string()) {
                out += t->get_ref<const std::string&>();
            }
        }
    }
    return out;
}

std::optional<Usage> ParseUsage(const Json* usage) {
    if (usage == nullptr || !usage->is_object()) return std::nullopt;
    const Json& u = *usage;
    bool any = false;
    auto has = [&](std::string_view k) {
        const Json* v = Find(u, k);
        bool present = v != nullptr && v->is_number();
        any = any || present;
        return present;
    };
    Usage out;
    if (has("input_tokens")) out.input_tokens = Tokens(u, "input_tokens");
    if (has("prompt_tokens")) out.input_tokens = Tokens(u, "prompt_tokens");
    if (has("output_tokens")) out.output_tokens = Tokens(u, "output_tokens");
    if (has("completion_tokens")) out.output_tokens = Tokens(u, "completion_tokens");
    bool has_total = has("total_tokens");
    if (has("image_tokens")) out.image_tokens = Tokens(u, "image_tokens");
    if (const Json* d = Find(u, "prompt_tokens_details")) {
        out.cached_tokens = Tokens(*d, "cached_tokens");
        // Compatible-mode VL answers may break the prompt down into text and image tokens.
        if (const Json* it = Find(*d, "image_tokens"); it != nullptr && it->is_number())
            out.image_tokens = Tokens(*d, "image_tokens");
    }
    if (const Json* d = Find(u, "output_tokens_details")) {
        out.reasoning_tokens = Tokens(*d, "reasoning_tokens");
    }
    if (const Json* d = Find(u, "completion_tokens_details")) {
        out.reasoning_tokens = Tokens(*d, "reasoning_tokens");
    }
    // Application calls: {"models":[{"model_id","input_tokens","output_tokens"}]}.
    if (const Json* models = Find(u, "models"); models != nullptr && models->is_array()) {
        for (const Json& m : *models) {
            out.input_tokens = std::min(kMaxTokens, out.input_tokens + Tokens(m, "input_tokens"));
            out.output_tokens =
                std::min(kMaxTokens, out.output_tokens + Tokens(m, "output_tokens"));
            any = true;
        }
    }
    if (!any) return std::nullopt;
    out.total_tokens =
        has_total ? Tokens(u, "total_tokens") : out.input_tokens + out.output_tokens;
    return out;
}

bool ExtractError(const Json& j, UpstreamError& out) {
    if (!j.is_object()) return false;
    if (const Json* e = Find(j, "error"); e != nullptr && !e->is_null()) {
        // Compatible mode: {"error":{"message","type","param","code"},"request_id"}.
        if (e->is_object()) {
            out.code = Str(*e, "code");
            out.type = Str(*e, "type");
            out.message = Str(*e, "message");
            out.param = Str(*e, "param");
        } else if (e->is_string()) {
            out.message = e->get<std::string>();
        } else {
            return false;
        }
        if (std::string rid = Str(j, "request_id"); !rid.empty()) out.request_id = rid;
        return true;
    }
    // Native: {"code","message","request_id"}; a success body has "output" instead.
    const Json* code = Find(j, "code");
    if (code == nullptr || Find(j, "output") != nullptr || Find(j, "choices") != nullptr) {
        return false;
    }
    out.code = Str(j, "code");
    out.message = Str(j, "message");
    if (std::string rid = Str(j, "request_id"); !rid.empty()) out.request_id = rid;
    return true;
}

std::string Excerpt(std::string_view body, std::size_t max) {
    std::string out;
    std::size_t n = body.size() <= max ? body.size() : max;
    // Do not cut a UTF-8 sequence in half.
    while (n > 0 && n < body.size() && (static_cast<unsigned char>(body[n]) & 0xC0) == 0x80) --n;
    out.reserve(n + 3);
    for (std::size_t i = 0; i < n; ++i) {
        unsigned char c = static_cast<unsigned char>(body[i]);
        out.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));
    }
    if (n < body.size()) out += "...";
    return out;
}

}  // namespace hub::bailian::wire
