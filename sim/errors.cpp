#include "errors.hpp"

#include <nlohmann/json.hpp>

namespace hub::sim {
namespace {

using ojson = nlohmann::ordered_json;

struct Compat {
    const char* type;
    const char* code;  // nullptr = JSON null
};

Compat CompatCodes(ErrorKind k) {
    switch (k) {
        case ErrorKind::kInvalidApiKey: return {"invalid_request_error", "invalid_api_key"};
        case ErrorKind::kThrottling: return {"limit_requests", "limit_requests"};
        case ErrorKind::kInvalidParameter:
        case ErrorKind::kEmptyModel:
        case ErrorKind::kEmptyInput:
        case ErrorKind::kUnsupportedOperation:
        case ErrorKind::kAsyncRequired:
            return {"invalid_request_error", "invalid_parameter_error"};
        case ErrorKind::kInspectionInput:
        case ErrorKind::kInspectionOutput:
            return {"data_inspection_failed", "data_inspection_failed"};
        case ErrorKind::kInternal: return {"internal_error", "internal_error"};
        case ErrorKind::kModelNotFound: return {"invalid_request_error", "model_not_found"};
        case ErrorKind::kModelUnavailable: return {"model_unavailable", "model_unavailable"};
        case ErrorKind::kAccessDenied: return {"access_denied", "access_denied"};
        case ErrorKind::kArrearage: return {"Arrearage", "Arrearage"};
        case ErrorKind::kNotFound: return {"invalid_request_error", "not_found"};
    }
    return {"internal_error", "internal_error"};
}

std::string CompatMessage(const SimError& e) {
    if (!e.message.empty() && e.kind != ErrorKind::kInvalidApiKey &&
        e.kind != ErrorKind::kThrottling && e.kind != ErrorKind::kModelNotFound)
        return e.message;
    switch (e.kind) {
        case ErrorKind::kInvalidApiKey:
            return "Incorrect API key provided. For details, see: "
                   "https://help.aliyun.com/zh/model-studio/error-code#apikey-error";
        case ErrorKind::kThrottling:
            return "You have exceeded your current request limit. For details, see: "
                   "https://help.aliyun.com/zh/model-studio/error-code#rate-limit";
        case ErrorKind::kModelNotFound:
            return "The model `" + e.model + "` does not exist or you do not have access to it.";
        default: return NativeErrorMessage(e);
    }
}

}  // namespace

int ErrorStatus(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kInvalidApiKey: return 401;
        case ErrorKind::kThrottling: return 429;
        case ErrorKind::kInternal: return 500;
        case ErrorKind::kModelNotFound:
        case ErrorKind::kNotFound: return 404;
        case ErrorKind::kModelUnavailable: return 503;
        case ErrorKind::kAccessDenied:
        case ErrorKind::kAsyncRequired: return 403;
        default: return 400;
    }
}

std::string NativeErrorCode(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kInvalidApiKey: return "InvalidApiKey";
        case ErrorKind::kThrottling: return "Throttling.RateQuota";
        case ErrorKind::kInvalidParameter: return "InvalidParameter";
        case ErrorKind::kEmptyModel: return "BadRequest.EmptyModel";
        case ErrorKind::kEmptyInput: return "BadRequest.EmptyInput";
        case ErrorKind::kInspectionInput:
        case ErrorKind::kInspectionOutput: return "DataInspectionFailed";
        case ErrorKind::kInternal: return "InternalError";
        case ErrorKind::kModelNotFound: return "ModelNotFound";
        case ErrorKind::kModelUnavailable: return "ModelUnavailable";
        case ErrorKind::kAccessDenied:
        case ErrorKind::kAsyncRequired: return "AccessDenied";
        case ErrorKind::kArrearage: return "Arrearage";
        case ErrorKind::kUnsupportedOperation: return "UnsupportedOperation";
        case ErrorKind::kNotFound: return "NotFound";
    }
    return "InternalError";
}

std::string NativeErrorMessage(const SimError& e) {
    if (!e.message.empty()) return e.message;
    switch (e.kind) {
        case ErrorKind::kInvalidApiKey: return "Invalid API-key provided.";
        case ErrorKind::kThrottling: return "Requests rate limit exceeded, please try again later.";
        case ErrorKind::kInvalidParameter:
            return "Required parameter(s) missing or invalid, please check the request parameters.";
        case ErrorKind::kEmptyModel: return "Required parameter \"model\" missing from request.";
        case ErrorKind::kEmptyInput: return "Required input parameter missing from request.";
        case ErrorKind::kInspectionInput: return "Input data may contain inappropriate content.";
        case ErrorKind::kInspectionOutput: return "Output data may contain inappropriate content.";
        case ErrorKind::kInternal:
            return "An internal error has occured, please try again later or contact service "
                   "support.";
        case ErrorKind::kModelNotFound: return "Model can not be found.";
        case ErrorKind::kModelUnavailable: return "Model is unavailable, please try again later.";
        case ErrorKind::kAccessDenied: return "Access denied.";
        case ErrorKind::kArrearage:
            return "Access denied, please make sure your account is in good standing.";
        case ErrorKind::kUnsupportedOperation:
            return "Failed to cancel the task, please confirm if the task is in PENDING status.";
        case ErrorKind::kAsyncRequired: return "current user api does not support synchronous calls";
        case ErrorKind::kNotFound: return "Not Found";
    }
    return "Internal error.";
}

ErrorReply NativeError(const SimError& e, std::string_view request_id) {
    ojson j;
    j["code"] = NativeErrorCode(e.kind);
    j["message"] = NativeErrorMessage(e);
    j["request_id"] = request_id;
    return {ErrorStatus(e.kind), j.dump()};
}

namespace {
ojson CompatErrorObject(const SimError& e) {
    Compat c = CompatCodes(e.kind);
    ojson err;
    err["message"] = CompatMessage(e);
    err["type"] = c.type;
    err["param"] = e.param.empty() ? ojson(nullptr) : ojson(e.param);
    err["code"] = c.code ? ojson(c.code) : ojson(nullptr);
    return err;
}
}  // namespace

ErrorReply CompatError(const SimError& e, std::string_view request_id) {
    ojson j;
    j["error"] = CompatErrorObject(e);
    j["request_id"] = request_id;
    return {ErrorStatus(e.kind), j.dump()};
}

std::string NativeErrorEvent(const SimError& e, std::string_view request_id, int event_id) {
    std::string out = "id:" + std::to_string(event_id) + "\nevent:error\n:HTTP_STATUS/" +
                      std::to_string(ErrorStatus(e.kind)) + "\ndata:";
    out += NativeError(e, request_id).body;
    out += "\n\n";
    return out;
}

std::string CompatErrorData(const SimError& e) {
    // Seen in public client tests: {"error":{"code":…,"param":null,"message":…,"type":…}}.
    Compat c = CompatCodes(e.kind);
    ojson err;
    err["code"] = c.code ? ojson(c.code) : ojson(nullptr);
    err["param"] = e.param.empty() ? ojson(nullptr) : ojson(e.param);
    err["message"] = CompatMessage(e);
    err["type"] = c.type;
    ojson j;
    j["error"] = std::move(err);
    return "data: " + j.dump() + "\n\n";
}

}  // namespace hub::sim
