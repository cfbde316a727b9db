#include "api/sse.hpp"

#include "core/json_text.hpp"

namespace hub::api {

http::Headers SseHeaders() {
    http::Headers h;
    h.Set("Content-Type", "text/event-stream; charset=utf-8");
    h.Set("Cache-Control", "no-cache");
    h.Set("X-Accel-Buffering", "no");
    return h;
}

std::string SseEvent(std::string_view name, const nlohmann::json& data) {
    std::string out = "event: ";
    out += name;
    out += "\ndata: ";
    core::AppendJson(out, data);
    out += "\n\n";
    return out;
}

}  // namespace hub::api
