#include "api/errors.hpp"

#include "core/json_text.hpp"
#include "obs/logging.hpp"

namespace hub::api {

using core::ErrorCode;

int StatusFor(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument: return 400;
        case ErrorCode::kInvalidJson: return 400;
        case ErrorCode::kUnauthenticated: return 401;
        case ErrorCode::kForbidden: return 403;
        case ErrorCode::kNotFound: return 404;
        case ErrorCode::kMethodNotAllowed: return 405;
        case ErrorCode::kConflict: return 409;
        case ErrorCode::kPayloadTooLarge: return 413;
        case ErrorCode::kUnsupportedMediaType: return 415;
        case ErrorCode::kUnprocessable: return 422;
        case ErrorCode::kRateLimited: return 429;
        case ErrorCode::kInternal: return 500;
        case ErrorCode::kUpstream: return 502;
        case ErrorCode::kUnavailable: return 503;
        case ErrorCode::kUpstreamTimeout: return 504;
    }
    return 500;
}

std::string DefaultApiCode(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument: return "validation_failed";
        case ErrorCode::kInvalidJson: return "invalid_json";
        case ErrorCode::kUnauthenticated: return "unauthenticated";
        case ErrorCode::kForbidden: return "forbidden";
        case ErrorCode::kNotFound: return "not_found";
        case ErrorCode::kMethodNotAllowed: return "method_not_allowed";
        case ErrorCode::kConflict: return "conflict";
        case ErrorCode::kPayloadTooLarge: return "payload_too_large";
        case ErrorCode::kUnsupportedMediaType: return "unsupported_media_type";
        case ErrorCode::kUnprocessable: return "unprocessable";
        case ErrorCode::kRateLimited: return "rate_limited";
        case ErrorCode::kInternal: return "internal_error";
        case ErrorCode::kUpstream: return "upstream_error";
        case ErrorCode::kUnavailable: return "unavailable";
        case ErrorCode::kUpstreamTimeout: return "upstream_timeout";
    }
    return "internal_error";
}

http::Response JsonResponse(int status, const nlohmann::json& body) {
    return http::Response::Json(status, core::DumpJson(body));
}

http::Response ErrorResponse(const core::Error& e, const std::string& request_id) {
    int status = StatusFor(e.code);
    std::string message = e.public_message;
    if (status >= 500 && message.empty()) message = "Internal error.";
    if (!e.detail.empty()) {
        // Detail is for operators only; it never reaches the client.
        obs::Warn("request_error", {{"request_id", request_id},
                                    {"code", e.api_code.empty() ? DefaultApiCode(e.code) : e.api_code},
                                    {"detail", e.detail}});
    }
    nlohmann::json body = {
        {"error",
         {{"code", e.api_code.empty() ? DefaultApiCode(e.code) : e.api_code},
          {"message", message},
          {"request_id", request_id}}}};
    auto r = JsonResponse(status, body);
    if (e.retry_after_s > 0) r.headers.Set("Retry-After", std::to_string(e.retry_after_s));
    return r;
}

core::Result<nlohmann::json> ParseJsonObject(const http::Request& req) {
    auto ct = req.headers.GetOr("Content-Type");
    auto semi = ct.find(';');
    std::string media = ct.substr(0, semi);
    while (!media.empty() && media.back() == ' ') media.pop_back();
    if (!http::IEquals(media, "application/json")) {
        return core::Error::Make(ErrorCode::kUnsupportedMediaType, "unsupported_media_type",
                                 "Content-Type must be application/json.");
    }
    constexpr int kMaxDepth = 64;
    int depth = 0;
    bool too_deep = false;
    nlohmann::json::parser_callback_t cb = [&](int d, nlohmann::json::parse_event_t ev,
                                               nlohmann::json&) {
        if (ev == nlohmann::json::parse_event_t::object_start ||
            ev == nlohmann::json::parse_event_t::array_start) {
            depth = std::max(depth, d + 1);
            if (depth > kMaxDepth) too_deep = true;
        }
        return !too_deep;
    };
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(req.body, cb);
    } catch (const nlohmann::json::exception&) {  // parse_error, or out_of_range for 1e999
        return core::Error::Make(ErrorCode::kInvalidJson, "invalid_json",
                                 "Request body is not valid JSON.");
    }
    if (too_deep) {
        return core::Error::Make(ErrorCode::kInvalidJson, "invalid_json",
                                 "Request body is nested too deeply.");
    }
    if (!j.is_object()) {
        return core::Error::Make(ErrorCode::kInvalidJson, "invalid_json",
                                 "Request body must be a JSON object.");
    }
    return j;
}

}  // namespace hub::api
