#include <gtest/gtest.h>

#include "errors.hpp"
#include "unit/sim/sim_test_util.hpp"

namespace hub::sim {
namespace {

using test::KeyPaths;
using test::ojson;
using test::ReadConformance;

TEST(SimErrors, NativeInvalidKeyIsByteIdenticalToRecording) {
    auto r = NativeError(SimError::Of(ErrorKind::kInvalidApiKey), "a1c0561c-1dfe-98a6-a62f-983577b8bc5e");
    EXPECT_EQ(r.status, 401);
    std::string rec = ReadConformance("error_invalid_api_key_native.json");
    while (!rec.empty() && rec.back() == '\n') rec.pop_back();
    EXPECT_EQ(r.body, rec);
}

TEST(SimErrors, CompatInvalidKeyIsByteIdenticalToRecording) {
    auto r = CompatError(SimError::Of(ErrorKind::kInvalidApiKey), "68684844-a3ed-4db6-9e59-7b94a4d1a32a");
    EXPECT_EQ(r.status, 401);
    std::string rec = ReadConformance("compat_error_invalid_api_key.json");
    while (!rec.empty() && rec.back() == '\n') rec.pop_back();
    EXPECT_EQ(r.body, rec);
}

TEST(SimErrors, NativeInvalidParameterMatchesRecording) {
    auto r = NativeError(SimError::InvalidParameter(
                             "Role must be user or assistant and Content length must be greater than 0"),
                         "a5898c04-d210-901b-965f-e4bd90478805");
    EXPECT_EQ(r.status, 400);
    std::string rec = ReadConformance("error_invalid_parameter_native.json");
    while (!rec.empty() && rec.back() == '\n') rec.pop_back();
    EXPECT_EQ(r.body, rec);
}

TEST(SimErrors, StatusesAndCodesFollowTheTable) {
    struct Row {
        ErrorKind k;
        int status;
        const char* native;
        const char* compat_code;
        const char* compat_type;
    };
    const Row rows[] = {
        {ErrorKind::kInvalidApiKey, 401, "InvalidApiKey", "invalid_api_key", "invalid_request_error"},
        {ErrorKind::kThrottling, 429, "Throttling.RateQuota", "limit_requests", "limit_requests"},
        {ErrorKind::kInvalidParameter, 400, "InvalidParameter", "invalid_parameter_error",
         "invalid_request_error"},
        {ErrorKind::kInspectionInput, 400, "DataInspectionFailed", "data_inspection_failed",
         "data_inspection_failed"},
        {ErrorKind::kInternal, 500, "InternalError", "internal_error", "internal_error"},
        {ErrorKind::kModelNotFound, 404, "ModelNotFound", "model_not_found", "invalid_request_error"},
        {ErrorKind::kArrearage, 400, "Arrearage", "Arrearage", "Arrearage"},
        {ErrorKind::kModelUnavailable, 503, "ModelUnavailable", "model_unavailable", "model_unavailable"},
    };
    for (const auto& row : rows) {
        SimError e = SimError::Of(row.k);
        e.model = "nope";
        auto n = ojson::parse(NativeError(e, "rid").body);
        auto c = ojson::parse(CompatError(e, "rid").body);
        EXPECT_EQ(NativeError(e, "rid").status, row.status);
        EXPECT_EQ(CompatError(e, "rid").status, row.status);
        EXPECT_EQ(n["code"], row.native);
        EXPECT_EQ(c["error"]["code"], row.compat_code);
        EXPECT_EQ(c["error"]["type"], row.compat_type);
        EXPECT_EQ(KeyPaths(n), (std::vector<std::string>{"code", "message", "request_id"}));
        EXPECT_EQ(c["request_id"], "rid");
    }
    EXPECT_EQ(ojson::parse(NativeError(SimError::Of(ErrorKind::kThrottling), "r").body)["message"],
              "Requests rate limit exceeded, please try again later.");
    EXPECT_EQ(ojson::parse(CompatError(SimError::ModelNotFound("gpt-4"), "r").body)["error"]["message"],
              "The model `gpt-4` does not exist or you do not have access to it.");
}

TEST(SimErrors, StreamErrorFrames) {
    std::string native = NativeErrorEvent(SimError::Of(ErrorKind::kInspectionOutput), "rid", 4);
    EXPECT_EQ(native.rfind("id:4\nevent:error\n:HTTP_STATUS/400\ndata:{\"code\":\"DataInspectionFailed\"", 0), 0u);
    std::string compat = CompatErrorData(SimError::Of(ErrorKind::kInspectionOutput));
    EXPECT_EQ(compat,
              "data: {\"error\":{\"code\":\"data_inspection_failed\",\"param\":null,\"message\":"
              "\"Output data may contain inappropriate content.\",\"type\":\"data_inspection_failed\"}}\n\n");
}

}  // namespace
}  // namespace hub::sim
