#pragma once
// Server-sent events as the API writes them: the response headers and one named event.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace hub::api {

// text/event-stream, no caching, no proxy buffering.
http::Headers SseHeaders();
// "event: NAME\ndata: JSON\n\n".
std::string SseEvent(std::string_view name, const nlohmann::json& data);

}  // namespace hub::api
