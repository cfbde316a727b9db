#pragma once
// The only place where core::ErrorCode becomes an HTTP status and the JSON error envelope
// {"error":{"code","message","request_id"}}.
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.hpp"
#include "http/message.hpp"

namespace hub::api {

int StatusFor(core::ErrorCode code);
std::string DefaultApiCode(core::ErrorCode code);
http::Response ErrorResponse(const core::Error& e, const std::string& request_id);

// JSON bodies: 415 unless Content-Type is application/json, 400 invalid_json when broken,
// too deep (> 64 levels) or not valid UTF-8, 400 when the top level is not an object.
core::Result<nlohmann::json> ParseJsonObject(const http::Request& req);

http::Response JsonResponse(int status, const nlohmann::json& body);

}  // namespace hub::api
