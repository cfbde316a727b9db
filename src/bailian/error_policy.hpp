#pragma once
// What to do when an upstream call fails, and what the hub tells its client. Pure.
//
// * 401/403 about the key, or the key's account blocked (Arrearage, *BillOverdue,
//   CommodityNotPurchased, AllocationQuota.FreeTierOnly): disable the key and try another;
//   the client error is 502 upstream_error.
// * 429 throttling: cool the key and try another; 429 upstream_rate_limited.
// * 5xx, connection errors, broken streams: retry after a jittered backoff; 502 upstream_error.
// * Timeouts (also 408/504): retry after a jittered backoff; 504 upstream_timeout.
// * DataInspectionFailed / data_inspection_failed: fail with 422 content_filtered.
// * 400 request errors (InvalidParameter, invalid_parameter_error, BadRequest.*, ...): fail
//   with 400 upstream_invalid_request carrying DashScope's message.
// * Model-level 403/404 (Model.AccessDenied, AccessDenied.Unpurchased, ModelNotFound,
//   model_not_found): fail with 502 and leave the key alone, so one request for an
//   unavailable model cannot take every key out of service.
// * Everything else: fail with 502 upstream_error.
// Retries of any kind happen only before the first byte went to the client and while
// attempts remain. Public messages carry DashScope's request id; details are for logs.
#include <chrono>
#include <string_view>

#include "bailian/key_pool.hpp"
#include "bailian/types.hpp"
#include "core/result.hpp"

namespace hub::bailian {

enum class UpstreamAction {
    kRetrySameKeyLater,        // transient: wait `delay`, Acquire() again (may be the same key)
    kCoolKeyAndTryAnother,     // Acquire() again excluding the keys already tried
    kDisableKeyAndTryAnother,  // Acquire() again excluding the keys already tried
    kFail,                     // return `error` to the client
};
std::string_view UpstreamActionName(UpstreamAction a);

enum class FailureKind {
    kHttpStatus,   // a non-2xx response (error holds the parsed body)
    kStreamError,  // an error inside a 200 stream (native event:error, compatible error chunk,
                   // broken or truncated stream)
    kTimeout,      // connect / first-byte / idle timeout
    kConnection,   // connection refused, reset, TLS failure
};

struct UpstreamFailure {
    FailureKind kind = FailureKind::kHttpStatus;
    UpstreamError error;           // status, code, message, request_id (may be empty)
    bool first_byte_sent = false;  // something already reached our client: never retry
    int attempt = 1;               // the attempt that failed, 1-based, all keys together
};

struct RetryPolicy {
    int max_attempts = 3;  // upstream attempts per client request
    std::chrono::milliseconds backoff_base{250};
    std::chrono::milliseconds backoff_max{4000};
};

struct FailureDecision {
    UpstreamAction action = UpstreamAction::kFail;
    KeyOutcome key_outcome = KeyOutcome::kSuccess;  // complete the lease with this
    std::chrono::milliseconds delay{0};             // only for kRetrySameKeyLater
    // The error for the client: when action is kFail, and also when the caller cannot act
    // (e.g. Acquire() finds no other key).
    core::Error error;
};

// `jitter01` is a uniform random number in [0, 1] drawn by the caller (keeps this pure);
// the delay is equal-jitter: cap/2 + jitter01*cap/2 with cap = min(max, base * 2^(attempt-1)).
FailureDecision DecideOnFailure(const UpstreamFailure& failure, const RetryPolicy& policy,
                                double jitter01);

// The client-facing error for an upstream failure, without any retry consideration.
core::Error ToHubError(FailureKind kind, const UpstreamError& error);

}  // namespace hub::bailian
