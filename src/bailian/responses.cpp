#include "bailian/responses.hpp"

#include <utility>

#include "bailian/wire_json.hpp"

namespace hub::bailian {

namespace {

using wire::Find;
using wire::Json;
using wire::Str;

core::Error Malformed(std::string detail) {
    return core::Error::Make(core::ErrorCode::kUpstream, "upstream_error",
                             "The upstream service returned an unexpected response.",
                             std::move(detail));
}

const Json* FirstChoice(const Json* choices) {
    if (choices == nullptr || !choices->is_array()) return nullptr;
    for (const Json& c : *choices) {
        if (wire::Int(c, "index") == 0) return &c;
    }
    return nullptr;
}

void FromMessage(const Json& choice, ChatResult& r) {
    r.finish_reason = Str(choice, "finish_reason");
    if (r.finish_reason == "null") r.finish_reason.clear();
    const Json* message = Find(choice, "message");
    if (message == nullptr) return;
    r.content = wire::ContentText(Find(*message, "content"));
    r.reasoning = Str(*message, "reasoning_content");
    if (const Json* tc = Find(*message, "tool_calls"); tc != nullptr && tc->is_array()) {
        r.tool_calls = *tc;
    }
}

}  // namespace

core::Result<ChatResult> ParseChatResponse(ApiStyle style, std::string_view body) {
    auto j = wire::ParseJson(body);
    if (!j || !j->is_object())
        return Malformed("chat response is not a JSON object: " + wire::Excerpt(body));
    UpstreamError err;
    if (wire::ExtractError(*j, err)) {
        return Malformed("chat response is an error body: code=" + err.code +
                         " message=" + err.message + " request_id=" + err.request_id);
    }
    ChatResult r;
    r.request_id = Str(*j, "request_id");
    if (auto usage = wire::ParseUsage(Find(*j, "usage"))) r.usage = *usage;

    if (style == ApiStyle::kCompatible) {
        const Json* choice = FirstChoice(Find(*j, "choices"));
        if (choice == nullptr) return Malformed("compatible chat response without choices[0]");
        FromMessage(*choice, r);
        r.model = Str(*j, "model");
        r.response_id = Str(*j, "id");
        return r;
    }
    const Json* output = Find(*j, "output");
    if (output == nullptr || !output->is_object()) {
        return Malformed("native chat response without output");
    }
    if (const Json* choice = FirstChoice(Find(*output, "choices"))) {
        FromMessage(*choice, r);
    } else if (const Json* text = Find(*output, "text"); text != nullptr) {
        r.content = wire::ContentText(text);
        r.finish_reason = Str(*output, "finish_reason");
    } else {
        return Malformed("native chat response with neither output.choices nor output.text");
    }
    return r;
}

UpstreamError ParseErrorBody(int http_status, std::string_view body,
                             std::string_view header_request_id) {
    UpstreamError e;
    auto j = wire::ParseJson(body);
    if (!j || !wire::ExtractError(*j, e)) {
        e.message = wire::Excerpt(body);
        if (j) e.request_id = Str(*j, "request_id");
    }
    e.http_status = http_status;
    if (e.request_id.empty()) e.request_id = std::string(header_request_id);
    return e;
}

}  // namespace hub::bailian
