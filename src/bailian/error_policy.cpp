#include "bailian/error_policy.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace hub::bailian {

namespace {

enum class Class {
    kKeyRejected,      // credentials or the key's account: disable, try another
    kThrottled,        // cool, try another
    kServer,           // transient, retry
    kTimeout,          // transient, retry
    kContentFiltered,  // fail 422
    kBadRequest,       // fail 400
    kOther,            // fail 502
};

bool StartsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

template <std::size_t N>
bool OneOf(std::string_view s, const std::array<std::string_view, N>& set) {
    return std::find(set.begin(), set.end(), s) != set.end();
}

// Account states that no retry on this key can fix (overdue payment, nothing purchased,
// free quota gone with "free tier only"). Another key may belong to another account.
constexpr std::array<std::string_view, 6> kAccountBlocked{"Arrearage",
                                                          "PrepaidBillOverdue",
                                                          "PostpaidBillOverdue",
                                                          "CommodityNotPurchased",
                                                          "AllocationQuota.FreeTierOnly",
                                                          "arrearage"};

// 403 codes about one model, not about the key: disabling the key would let one request
// for an unavailable model take every key out of service.
constexpr std::array<std::string_view, 4> kModelAccess{
    "Model.AccessDenied", "AccessDenied.Unpurchased", "model_access_denied", "ModelNotFound"};

constexpr std::array<std::string_view, 4> kThrottleCodes{"Throttling", "LimitRequests",
                                                         "limit_requests", "insufficient_quota"};

constexpr std::array<std::string_view, 8> kBadRequestCodes{
    "InvalidParameter",      "invalid_parameter_error",
    "invalid_parameter",     "InvalidURL",
    "InvalidSchema",         "InvalidSchemaFormat",
    "invalid_request_error", "context_length_exceeded"};

// Errors this module's stream decoder produces for a broken stream.
constexpr std::array<std::string_view, 2> kBrokenStream{"incomplete_stream", "invalid_stream_data"};

Class Classify(FailureKind kind, const UpstreamError& e) {
    const std::string_view code = e.code;
    const int status = e.http_status;
    if (kind == FailureKind::kTimeout) return Class::kTimeout;
    if (kind == FailureKind::kConnection) return Class::kServer;

    if (code == "DataInspectionFailed" || code == "data_inspection_failed" ||
        e.type == "data_inspection_failed") {
        return Class::kContentFiltered;
    }
    if (OneOf(code, kAccountBlocked)) return Class::kKeyRejected;
    if (OneOf(code, kModelAccess) || code == "model_not_found") return Class::kOther;
    if (status == 401 || status == 403 || code == "InvalidApiKey" || code == "invalid_api_key") {
        return Class::kKeyRejected;
    }
    if (status == 429 || StartsWith(code, "Throttling") || OneOf(code, kThrottleCodes) ||
        e.type == "limit_requests") {
        return Class::kThrottled;
    }
    if (status == 408 || status == 504 || code == "RequestTimeOut") return Class::kTimeout;
    if (status >= 500 || StartsWith(code, "InternalError") || code == "SystemError" ||
        code == "ModelUnavailable" || code == "ModelServiceFailed" || OneOf(code, kBrokenStream)) {
        return Class::kServer;
    }
    if (OneOf(code, kBadRequestCodes) || StartsWith(code, "BadRequest")) {
        return Class::kBadRequest;
    }
    if (status == 400 && code.empty() && e.type == "invalid_request_error") {
        return Class::kBadRequest;
    }
    return Class::kOther;
}

std::string WithRequestId(std::string msg, const UpstreamError& e) {
    if (!e.request_id.empty()) msg += " (upstream request id: " + e.request_id + ")";
    return msg;
}

std::string Detail(FailureKind kind, const UpstreamError& e) {
    static constexpr std::array<std::string_view, 4> kKinds{"http", "stream", "timeout",
                                                            "connection"};
    std::string d = "dashscope ";
    d += kKinds[static_cast<std::size_t>(kind)];
    d += " failure: status=" + std::to_string(e.http_status) + " code=" + e.code;
    if (!e.type.empty()) d += " type=" + e.type;
    if (!e.param.empty()) d += " param=" + e.param;
    d += " request_id=" + e.request_id + " message=" + e.message;
    return d;
}

core::Error MakeError(Class c, FailureKind kind, const UpstreamError& e) {
    using core::ErrorCode;
    std::string detail = Detail(kind, e);
    switch (c) {
        case Class::kContentFiltered:
            return core::Error::Make(
                ErrorCode::kUnprocessable, "content_filtered",
                WithRequestId("The content was rejected by the upstream content filter.", e),
                std::move(detail));
        case Class::kBadRequest: {
            std::string msg = e.message.empty()
                                  ? "The upstream service rejected the request."
                                  : "The upstream service rejected the request: " + e.message;
            return core::Error::Make(ErrorCode::kInvalidArgument, "upstream_invalid_request",
                                     WithRequestId(std::move(msg), e), std::move(detail));
        }
        case Class::kThrottled:
            return core::Error::Make(
                ErrorCode::kRateLimited, "upstream_rate_limited",
                WithRequestId("The upstream service is busy; please retry shortly.", e),
                std::move(detail));
        case Class::kTimeout:
            return core::Error::Make(ErrorCode::kUpstreamTimeout, "upstream_timeout",
                                     WithRequestId("The upstream service timed out.", e),
                                     std::move(detail));
        case Class::kKeyRejected:
        case Class::kServer:
        case Class::kOther:
            break;
    }
    return core::Error::Make(ErrorCode::kUpstream, "upstream_error",
                             WithRequestId("The upstream service returned an error.", e),
                             std::move(detail));
}

std::chrono::milliseconds Backoff(const RetryPolicy& p, int attempt, double jitter01) {
    jitter01 = std::clamp(jitter01, 0.0, 1.0);
    std::int64_t cap = std::max<std::int64_t>(p.backoff_base.count(), 1);
    for (int i = 1; i < attempt && cap < p.backoff_max.count(); ++i) cap *= 2;
    cap = std::min<std::int64_t>(cap, p.backoff_max.count());
    const double half = static_cast<double>(cap) / 2.0;
    return std::chrono::milliseconds(static_cast<std::int64_t>(half + jitter01 * half));
}

}  // namespace

std::string_view UpstreamActionName(UpstreamAction a) {
    switch (a) {
        case UpstreamAction::kRetrySameKeyLater:
            return "retry_same_key_later";
        case UpstreamAction::kCoolKeyAndTryAnother:
            return "cool_key_and_try_another";
        case UpstreamAction::kDisableKeyAndTryAnother:
            return "disable_key_and_try_another";
        case UpstreamAction::kFail:
            return "fail";
    }
    return "fail";
}

core::Error ToHubError(FailureKind kind, const UpstreamError& error) {
    return MakeError(Classify(kind, error), kind, error);
}

FailureDecision DecideOnFailure(const UpstreamFailure& f, const RetryPolicy& policy,
                                double jitter01) {
    const Class c = Classify(f.kind, f.error);
    FailureDecision d;
    d.error = MakeError(c, f.kind, f.error);
    const bool may_retry = !f.first_byte_sent && f.attempt < policy.max_attempts;
    switch (c) {
        case Class::kKeyRejected:
            d.key_outcome = KeyOutcome::kAuthFailed;
            if (may_retry) d.action = UpstreamAction::kDisableKeyAndTryAnother;
            break;
        case Class::kThrottled:
            d.key_outcome = KeyOutcome::kThrottled;
            if (may_retry) d.action = UpstreamAction::kCoolKeyAndTryAnother;
            break;
        case Class::kServer:
        case Class::kTimeout:
            d.key_outcome = KeyOutcome::kServerError;
            if (may_retry) {
                d.action = UpstreamAction::kRetrySameKeyLater;
                d.delay = Backoff(policy, f.attempt, jitter01);
            }
            break;
        case Class::kContentFiltered:
        case Class::kBadRequest:
        case Class::kOther:
            d.key_outcome = KeyOutcome::kSuccess;  // the key itself is fine
            break;
    }
    return d;
}

}  // namespace hub::bailian
