// A client's JSON body through the API's readers: the body parser (ParseJsonObject: media
// type, depth and UTF-8 checks), then every exported DTO reader on the object it returns —
// field readers, image requests, chat parameters, OpenAI chat.completions bodies. An input
// that starts with '?' is a query string instead, for the paging and time readers.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/image_dto.hpp"
#include "services/chat.hpp"
#include "services/image_rules.hpp"
#include "services/models.hpp"
#include "services/openai_compat.hpp"

namespace {

using namespace hub;

void Query(std::string query) {
    http::Request req;
    req.method = "GET";
    req.path = "/api/v1/history";
    req.query = std::move(query);
    (void)api::PageFromQuery(req);
    for (const char* name : {"from", "to"}) {
        auto t = api::TimeFromQuery(req, name);
        if (t.ok() && t.value()) (void)api::Iso(*t.value());
    }
}

void Body(const nlohmann::json& body) {
    // What the routes do with every body: the readers must answer, never throw.
    (void)api::OnlyFields(body, {"title", "model", "system_prompt", "content", "parameters"});
    (void)api::OptString(body, "title");
    (void)api::ReqString(body, "content");
    (void)api::OptBool(body, "pinned");
    (void)api::OptInt(body, "limit");
    if (auto from = api::OptString(body, "from"); from.ok() && from.value()) {
        (void)api::ParseTime("from", *from.value());
    }
    if (auto content = api::OptString(body, "content"); content.ok() && content.value()) {
        (void)services::ValidateContent(*content.value(), 1000);
        (void)services::Utf8Prefix(*content.value(), 10);
    }

    static const services::Catalog catalog;
    const auto* chat_model = catalog.Find("qwen-plus");
    if (!chat_model) __builtin_trap();
    if (auto params = body.find("parameters"); params != body.end()) {
        auto parsed = services::ParseChatParameters(*params, *chat_model);
        if (parsed.ok()) (void)parsed->Upstream(*chat_model).dump();
    }

    for (bool other_fields_allowed : {false, true}) {
        auto image = api::ImageRequestFromJson(body, other_fields_allowed);
        if (!image.ok()) continue;
        for (const auto& m : services::Catalog::BuiltIn()) {
            if (m.kind != services::ModelKind::kImage) continue;
            (void)services::ValidateImageRequest(catalog, m.id, image.value());
            break;
        }
    }

    std::string param;
    auto compat = services::ParseChatCompletionRequest(body, &param);
    if (compat.ok()) (void)compat->chat.messages.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    if (!text.empty() && text.front() == '?') {
        Query(text.substr(1));
        return 0;
    }
    http::Request req;
    req.method = "POST";
    req.path = "/api/v1/conversations";
    req.headers.Set("Content-Type", "application/json; charset=utf-8");
    req.body = std::move(text);
    auto body = api::ParseJsonObject(req);
    if (!body.ok()) return 0;
    if (!body->is_object()) __builtin_trap();  // ParseJsonObject promises an object
    Body(body.value());
    return 0;
}
