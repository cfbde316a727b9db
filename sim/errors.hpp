#pragma once
// DashScope error bodies, written exactly as the service writes them:
// native {"code","message","request_id"} and compatible {"error":{message,type,param,code},
// "request_id"}, with the same HTTP statuses (bailian-api.md §2.4, §3.4, §7).
#include <string>
#include <string_view>

namespace hub::sim {

enum class ErrorKind {
    kInvalidApiKey,         // 401
    kThrottling,            // 429 (RPM)
    kInvalidParameter,      // 400
    kEmptyModel,            // 400 BadRequest.EmptyModel
    kEmptyInput,            // 400 BadRequest.EmptyInput
    kInspectionInput,       // 400 DataInspectionFailed (input)
    kInspectionOutput,      // 400 DataInspectionFailed (output)
    kInternal,              // 500
    kModelNotFound,         // 404
    kModelUnavailable,      // 503
    kAccessDenied,          // 403
    kArrearage,             // 400
    kUnsupportedOperation,  // 400 (task cancel)
    kAsyncRequired,         // 403 (image synthesis without X-DashScope-Async)
    kNotFound,              // 404 unknown URL
};

struct SimError {
    ErrorKind kind = ErrorKind::kInternal;
    std::string message;  // empty = the standard message for the kind
    std::string param;    // compatible mode "param" (null when empty)
    std::string model;    // for kModelNotFound

    static SimError Of(ErrorKind k, std::string msg = {}) { return SimError{k, std::move(msg), {}, {}}; }
    static SimError InvalidParameter(std::string msg, std::string param = {}) {
        return SimError{ErrorKind::kInvalidParameter, std::move(msg), std::move(param), {}};
    }
    static SimError ModelNotFound(std::string model) {
        return SimError{ErrorKind::kModelNotFound, {}, {}, std::move(model)};
    }
};

struct ErrorReply {
    int status = 500;
    std::string body;  // JSON
};

int ErrorStatus(ErrorKind kind);
std::string NativeErrorCode(ErrorKind kind);
std::string NativeErrorMessage(const SimError& e);

ErrorReply NativeError(const SimError& e, std::string_view request_id);
ErrorReply CompatError(const SimError& e, std::string_view request_id);

// Native SSE error event (HTTP status line stays 200):
// "id:N\nevent:error\n:HTTP_STATUS/400\ndata:{...}\n\n".
std::string NativeErrorEvent(const SimError& e, std::string_view request_id, int event_id);
// Compatible-mode error inside a stream: "data: {"error":{...}}\n\n".
std::string CompatErrorData(const SimError& e);

}  // namespace hub::sim
