#include "bailian/error_policy.hpp"

#include <gtest/gtest.h>

#include "bailian/responses.hpp"
#include "unit/bailian/conformance.hpp"

namespace hub::bailian {
namespace {

using core::ErrorCode;

UpstreamFailure Http(int status, std::string code, std::string request_id = "req-1",
                     int attempt = 1) {
    UpstreamFailure f;
    f.kind = FailureKind::kHttpStatus;
    f.error.http_status = status;
    f.error.code = std::move(code);
    f.error.request_id = std::move(request_id);
    f.attempt = attempt;
    return f;
}

FailureDecision Decide(const UpstreamFailure& f, double jitter = 0.5) {
    return DecideOnFailure(f, RetryPolicy{}, jitter);
}

struct Case {
    int status;
    const char* code;
    UpstreamAction action;
    KeyOutcome outcome;
    ErrorCode error;
    const char* api_code;
};

TEST(ErrorPolicy, Table) {
    using A = UpstreamAction;
    using K = KeyOutcome;
    const Case cases[] = {
        {401, "InvalidApiKey", A::kDisableKeyAndTryAnother, K::kAuthFailed, ErrorCode::kUpstream,
         "upstream_error"},
        {401, "invalid_api_key", A::kDisableKeyAndTryAnother, K::kAuthFailed, ErrorCode::kUpstream,
         "upstream_error"},
        {403, "AccessDenied", A::kDisableKeyAndTryAnother, K::kAuthFailed, ErrorCode::kUpstream,
         "upstream_error"},
        {403, "Workspace.AccessDenied", A::kDisableKeyAndTryAnother, K::kAuthFailed,
         ErrorCode::kUpstream, "upstream_error"},
        {400, "Arrearage", A::kDisableKeyAndTryAnother, K::kAuthFailed, ErrorCode::kUpstream,
         "upstream_error"},
        {429, "PrepaidBillOverdue", A::kDisableKeyAndTryAnother, K::kAuthFailed,
         ErrorCode::kUpstream, "upstream_error"},
        {429, "Throttling.RateQuota", A::kCoolKeyAndTryAnother, K::kThrottled,
         ErrorCode::kRateLimited, "upstream_rate_limited"},
        {429, "Throttling.AllocationQuota", A::kCoolKeyAndTryAnother, K::kThrottled,
         ErrorCode::kRateLimited, "upstream_rate_limited"},
        {429, "limit_requests", A::kCoolKeyAndTryAnother, K::kThrottled, ErrorCode::kRateLimited,
         "upstream_rate_limited"},
        {429, "", A::kCoolKeyAndTryAnother, K::kThrottled, ErrorCode::kRateLimited,
         "upstream_rate_limited"},
        {500, "InternalError", A::kRetrySameKeyLater, K::kServerError, ErrorCode::kUpstream,
         "upstream_error"},
        {500, "InternalError.Algo", A::kRetrySameKeyLater, K::kServerError, ErrorCode::kUpstream,
         "upstream_error"},
        {502, "", A::kRetrySameKeyLater, K::kServerError, ErrorCode::kUpstream, "upstream_error"},
        {503, "ModelUnavailable", A::kRetrySameKeyLater, K::kServerError, ErrorCode::kUpstream,
         "upstream_error"},
        {504, "", A::kRetrySameKeyLater, K::kServerError, ErrorCode::kUpstreamTimeout,
         "upstream_timeout"},
        {408, "RequestTimeOut", A::kRetrySameKeyLater, K::kServerError, ErrorCode::kUpstreamTimeout,
         "upstream_timeout"},
        {400, "DataInspectionFailed", A::kFail, K::kSuccess, ErrorCode::kUnprocessable,
         "content_filtered"},
        {400, "data_inspection_failed", A::kFail, K::kSuccess, ErrorCode::kUnprocessable,
         "content_filtered"},
        {400, "InvalidParameter", A::kFail, K::kSuccess, ErrorCode::kInvalidArgument,
         "upstream_invalid_request"},
        {400, "invalid_parameter_error", A::kFail, K::kSuccess, ErrorCode::kInvalidArgument,
         "upstream_invalid_request"},
        {400, "BadRequest.EmptyInput", A::kFail, K::kSuccess, ErrorCode::kInvalidArgument,
         "upstream_invalid_request"},
        {413, "BadRequest.TooLarge", A::kFail, K::kSuccess, ErrorCode::kInvalidArgument,
         "upstream_invalid_request"},
        // One model being unavailable must not take keys out of service.
        {403, "Model.AccessDenied", A::kFail, K::kSuccess, ErrorCode::kUpstream, "upstream_error"},
        {403, "AccessDenied.Unpurchased", A::kFail, K::kSuccess, ErrorCode::kUpstream,
         "upstream_error"},
        {404, "ModelNotFound", A::kFail, K::kSuccess, ErrorCode::kUpstream, "upstream_error"},
        {404, "model_not_found", A::kFail, K::kSuccess, ErrorCode::kUpstream, "upstream_error"},
        {400, "UnsupportedOperation", A::kFail, K::kSuccess, ErrorCode::kUpstream,
         "upstream_error"},
        {400, "FlowNotPublished", A::kFail, K::kSuccess, ErrorCode::kUpstream, "upstream_error"},
        {418, "", A::kFail, K::kSuccess, ErrorCode::kUpstream, "upstream_error"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::to_string(c.status) + " " + c.code);
        FailureDecision d = Decide(Http(c.status, c.code));
        EXPECT_EQ(UpstreamActionName(d.action), UpstreamActionName(c.action));
        EXPECT_EQ(d.key_outcome, c.outcome);
        EXPECT_EQ(d.error.code, c.error);
        EXPECT_EQ(d.error.api_code, c.api_code);
    }
}

TEST(ErrorPolicy, ConformanceErrorBodies) {
    using testing::ReadConformance;
    UpstreamFailure f;
    f.error = ParseErrorBody(401, ReadConformance("error_invalid_api_key_native.json"));
    EXPECT_EQ(Decide(f).action, UpstreamAction::kDisableKeyAndTryAnother);
    f.error = ParseErrorBody(401, ReadConformance("compat_error_invalid_api_key.json"));
    EXPECT_EQ(Decide(f).action, UpstreamAction::kDisableKeyAndTryAnother);
    f.error = ParseErrorBody(400, ReadConformance("error_invalid_parameter_native.json"));
    FailureDecision bad = Decide(f);
    EXPECT_EQ(bad.action, UpstreamAction::kFail);
    EXPECT_EQ(bad.error.code, ErrorCode::kInvalidArgument);
    // Compatible "code": null with a param: a request problem.
    f.error = ParseErrorBody(400, ReadConformance("compat_files_upload_error.json"));
    EXPECT_EQ(Decide(f).error.code, ErrorCode::kInvalidArgument);
}

TEST(ErrorPolicy, CarriesRequestIdAndKeepsDetailOutOfPublicMessage) {
    UpstreamFailure f = Http(500, "InternalError", "7e3d5586-cb70");
    f.error.message = "An internal error has occured, secret-ish detail";
    FailureDecision d = DecideOnFailure(f, RetryPolicy{}, 0.0);
    EXPECT_NE(d.error.public_message.find("7e3d5586-cb70"), std::string::npos);
    EXPECT_EQ(d.error.public_message.find("secret-ish"), std::string::npos);
    EXPECT_NE(d.error.detail.find("secret-ish"), std::string::npos);
    EXPECT_NE(d.error.detail.find("InternalError"), std::string::npos);
    EXPECT_NE(d.error.detail.find("status=500"), std::string::npos);

    FailureDecision cf = Decide(Http(400, "DataInspectionFailed", "rid-cf"));
    EXPECT_NE(cf.error.public_message.find("rid-cf"), std::string::npos);

    FailureDecision none = Decide(Http(502, "", ""));
    EXPECT_EQ(none.error.public_message.find("request id"), std::string::npos);
}

TEST(ErrorPolicy, BadRequestShowsUpstreamMessage) {
    UpstreamFailure f = Http(400, "InvalidParameter");
    f.error.message = "Range of input length should be [1, 30720]";
    FailureDecision d = Decide(f);
    EXPECT_NE(d.error.public_message.find("Range of input length"), std::string::npos);
}

TEST(ErrorPolicy, NoRetryOnceTheClientGotBytes) {
    for (int status : {401, 429, 500, 503}) {
        UpstreamFailure f = Http(status, "");
        f.first_byte_sent = true;
        FailureDecision d = Decide(f);
        EXPECT_EQ(d.action, UpstreamAction::kFail) << status;
        EXPECT_NE(d.key_outcome, KeyOutcome::kSuccess) << status;  // the key still learns
    }
    UpstreamFailure t;
    t.kind = FailureKind::kTimeout;
    t.first_byte_sent = true;
    FailureDecision d = Decide(t);
    EXPECT_EQ(d.action, UpstreamAction::kFail);
    EXPECT_EQ(d.error.code, ErrorCode::kUpstreamTimeout);
}

TEST(ErrorPolicy, AttemptsAreBounded) {
    RetryPolicy p;
    p.max_attempts = 3;
    EXPECT_EQ(DecideOnFailure(Http(500, "", "r", 1), p, 0.5).action,
              UpstreamAction::kRetrySameKeyLater);
    EXPECT_EQ(DecideOnFailure(Http(500, "", "r", 2), p, 0.5).action,
              UpstreamAction::kRetrySameKeyLater);
    EXPECT_EQ(DecideOnFailure(Http(500, "", "r", 3), p, 0.5).action, UpstreamAction::kFail);
    EXPECT_EQ(DecideOnFailure(Http(429, "", "r", 3), p, 0.5).action, UpstreamAction::kFail);
    EXPECT_EQ(DecideOnFailure(Http(401, "", "r", 3), p, 0.5).action, UpstreamAction::kFail);
    FailureDecision last = DecideOnFailure(Http(429, "", "r", 3), p, 0.5);
    EXPECT_EQ(last.error.code, ErrorCode::kRateLimited);
    EXPECT_EQ(last.key_outcome, KeyOutcome::kThrottled);
}

TEST(ErrorPolicy, JitteredExponentialBackoff) {
    RetryPolicy p;
    p.max_attempts = 10;
    p.backoff_base = std::chrono::milliseconds(200);
    p.backoff_max = std::chrono::milliseconds(1000);
    auto delay = [&](int attempt, double jitter) {
        return DecideOnFailure(Http(503, "", "r", attempt), p, jitter).delay.count();
    };
    EXPECT_EQ(delay(1, 0.0), 100);  // cap 200: between 100 and 200
    EXPECT_EQ(delay(1, 1.0), 200);
    EXPECT_EQ(delay(2, 0.0), 200);  // cap 400
    EXPECT_EQ(delay(2, 1.0), 400);
    EXPECT_EQ(delay(3, 0.5), 600);   // cap 800
    EXPECT_EQ(delay(4, 1.0), 1000);  // capped
    EXPECT_EQ(delay(9, 1.0), 1000);
    EXPECT_EQ(delay(1, 7.0), 200);  // jitter clamped
    EXPECT_EQ(delay(1, -1.0), 100);
    for (double j = 0.0; j <= 1.0; j += 0.125) {
        EXPECT_GE(delay(2, j), 200);
        EXPECT_LE(delay(2, j), 400);
    }
    // No delay for actions that switch keys.
    EXPECT_EQ(DecideOnFailure(Http(429, "", "r", 1), p, 1.0).delay.count(), 0);
}

TEST(ErrorPolicy, TransportFailuresAndBrokenStreams) {
    UpstreamFailure conn;
    conn.kind = FailureKind::kConnection;
    FailureDecision c = Decide(conn);
    EXPECT_EQ(c.action, UpstreamAction::kRetrySameKeyLater);
    EXPECT_EQ(c.key_outcome, KeyOutcome::kServerError);
    EXPECT_EQ(c.error.code, ErrorCode::kUpstream);

    UpstreamFailure timeout;
    timeout.kind = FailureKind::kTimeout;
    FailureDecision t = Decide(timeout);
    EXPECT_EQ(t.action, UpstreamAction::kRetrySameKeyLater);
    EXPECT_EQ(t.error.api_code, "upstream_timeout");

    UpstreamFailure truncated;
    truncated.kind = FailureKind::kStreamError;
    truncated.error.code = "incomplete_stream";
    EXPECT_EQ(Decide(truncated).action, UpstreamAction::kRetrySameKeyLater);
    truncated.first_byte_sent = true;
    EXPECT_EQ(Decide(truncated).action, UpstreamAction::kFail);

    // A mid-stream compatible error has no status: the code decides.
    UpstreamFailure filtered;
    filtered.kind = FailureKind::kStreamError;
    filtered.error.code = "data_inspection_failed";
    filtered.first_byte_sent = true;
    EXPECT_EQ(Decide(filtered).error.api_code, "content_filtered");
    UpstreamFailure throttled;
    throttled.kind = FailureKind::kStreamError;
    throttled.error.code = "Throttling.RateQuota";
    EXPECT_EQ(Decide(throttled).action, UpstreamAction::kCoolKeyAndTryAnother);
}

TEST(ErrorPolicy, ToHubErrorMatchesDecision) {
    UpstreamError e;
    e.http_status = 400;
    e.code = "DataInspectionFailed";
    e.request_id = "x";
    core::Error err = ToHubError(FailureKind::kHttpStatus, e);
    EXPECT_EQ(err.code, ErrorCode::kUnprocessable);
    EXPECT_EQ(err.api_code, "content_filtered");
}

}  // namespace
}  // namespace hub::bailian
