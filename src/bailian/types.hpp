#pragma once
// Value types shared by the DashScope response parsers, the stream decoder and the error policy.
#include <cstdint>
#include <string>

namespace hub::bailian {

// The two DashScope API styles: OpenAI-compatible (/compatible-mode/v1/...) and native
// (/api/v1/services/..., /api/v1/apps/...).
enum class ApiStyle { kCompatible, kNative };

// Token usage in one shape for both styles. Compatible mode: prompt_tokens/completion_tokens;
// native: input_tokens/output_tokens; app calls: the sum over usage.models[].
// total_tokens is input + output when the upstream omits it (VL models do).
struct Usage {
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    std::int64_t total_tokens = 0;
    std::int64_t reasoning_tokens = 0;  // completion/output_tokens_details.reasoning_tokens
    std::int64_t cached_tokens = 0;     // prompt_tokens_details.cached_tokens
    std::int64_t image_tokens = 0;      // VL: native usage.image_tokens or prompt_tokens_details

    bool operator==(const Usage&) const = default;
};

// An error reported by DashScope, from an error body, a native `event:error` frame or a
// compatible-mode `{"error":{...}}` data line. Fields missing upstream are empty.
struct UpstreamError {
    int http_status = 0;     // HTTP status or the stream's :HTTP_STATUS; 0 = unknown (mid-stream)
    std::string code;        // "InvalidApiKey" (native) / "invalid_api_key" (compatible)
    std::string type;        // compatible mode only, e.g. "invalid_request_error"
    std::string message;     // DashScope's text; log-only unless the policy says otherwise
    std::string param;       // compatible mode only
    std::string request_id;  // DashScope's request id (body, or the x-request-id header)

    bool operator==(const UpstreamError&) const = default;
};

}  // namespace hub::bailian
