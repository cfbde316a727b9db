#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/errors.hpp"

namespace hub::api {
namespace {

using core::ErrorCode;

TEST(ErrorEnvelope, ShapeAndStatus) {
    auto r = ErrorResponse(core::Error::Make(ErrorCode::kConflict, "username_taken",
                                             "That username is taken.", "row 17 exists"),
                           "rid-1");
    EXPECT_EQ(r.status, 409);
    EXPECT_EQ(r.headers.GetOr("Content-Type"), "application/json");
    auto j = nlohmann::json::parse(r.body);
    EXPECT_EQ(j["error"]["code"], "username_taken");
    EXPECT_EQ(j["error"]["message"], "That username is taken.");
    EXPECT_EQ(j["error"]["request_id"], "rid-1");
    EXPECT_EQ(r.body.find("row 17"), std::string::npos) << "detail must never reach the client";
}

TEST(ErrorEnvelope, DefaultCodesAndStatuses) {
    struct Case {
        ErrorCode code;
        int status;
        const char* api;
    } cases[] = {{ErrorCode::kInvalidArgument, 400, "validation_failed"},
                 {ErrorCode::kInvalidJson, 400, "invalid_json"},
                 {ErrorCode::kUnauthenticated, 401, "unauthenticated"},
                 {ErrorCode::kForbidden, 403, "forbidden"},
                 {ErrorCode::kNotFound, 404, "not_found"},
                 {ErrorCode::kMethodNotAllowed, 405, "method_not_allowed"},
                 {ErrorCode::kConflict, 409, "conflict"},
                 {ErrorCode::kPayloadTooLarge, 413, "payload_too_large"},
                 {ErrorCode::kUnsupportedMediaType, 415, "unsupported_media_type"},
                 {ErrorCode::kUnprocessable, 422, "unprocessable"},
                 {ErrorCode::kRateLimited, 429, "rate_limited"},
                 {ErrorCode::kInternal, 500, "internal_error"},
                 {ErrorCode::kUpstream, 502, "upstream_error"},
                 {ErrorCode::kUnavailable, 503, "unavailable"},
                 {ErrorCode::kUpstreamTimeout, 504, "upstream_timeout"}};
    for (const auto& c : cases) {
        auto r = ErrorResponse(core::Error{c.code, "", "m", ""}, "r");
        EXPECT_EQ(r.status, c.status);
        EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], c.api);
    }
}

TEST(ErrorEnvelope, ServerErrorsNeverHaveAnEmptyMessage) {
    auto r = ErrorResponse(core::Error{ErrorCode::kInternal, "", "", "sqlite: disk I/O error"}, "r");
    auto j = nlohmann::json::parse(r.body);
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
    EXPECT_EQ(r.body.find("sqlite"), std::string::npos);
}

http::Request JsonRequest(std::string body, std::string ct = "application/json") {
    http::Request r;
    r.method = "POST";
    r.headers.Set("Content-Type", std::move(ct));
    r.body = std::move(body);
    return r;
}

TEST(ParseJsonObject, AcceptsObjectsWithCharset) {
    auto j = ParseJsonObject(JsonRequest(R"({"a":1})", "application/json; charset=utf-8"));
    ASSERT_TRUE(j.ok());
    EXPECT_EQ((*j)["a"], 1);
}

TEST(ParseJsonObject, RejectsWrongContentType) {
    auto j = ParseJsonObject(JsonRequest(R"({"a":1})", "text/plain"));
    ASSERT_FALSE(j.ok());
    EXPECT_EQ(j.error().code, ErrorCode::kUnsupportedMediaType);
}

TEST(ParseJsonObject, RejectsBrokenDeepNonObjectAndBadUtf8) {
    std::string deep(100, '[');
    deep += std::string(100, ']');
    for (const std::string& body :
         {std::string("{"), std::string("{\"a\":}"), std::string("[1,2]"), std::string("\"s\""),
          std::string("{\"a\":\"\xff\xfe\"}"), std::string("{\"a\":1} trailing"), deep,
          std::string("{\"a\":") + std::string(70, '[') + std::string(70, ']') + "}"}) {
        auto j = ParseJsonObject(JsonRequest(body));
        ASSERT_FALSE(j.ok()) << body;
        EXPECT_EQ(j.error().code, ErrorCode::kInvalidJson) << body;
        EXPECT_EQ(j.error().api_code, "invalid_json");
    }
}

// Found by fuzz/json_dto: a number too large for a double made nlohmann throw out_of_range,
// which escaped as a 500 instead of a 400.
TEST(ParseJsonObject, NumbersOutOfRangeAreInvalidJson) {
    for (const std::string& body : {std::string(R"({"a":1e999})"),
                                    std::string(R"({"n":-2222222222222e222222221})")}) {
        auto j = ParseJsonObject(JsonRequest(body));
        ASSERT_FALSE(j.ok()) << body;
        EXPECT_EQ(j.error().code, ErrorCode::kInvalidJson) << body;
    }
}

}  // namespace
}  // namespace hub::api
