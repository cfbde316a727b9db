#include "api/sse.hpp"

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
    out += data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += "\n\n";
    return out;
}

}  // namespace hub::api
