#include "http/multipart.hpp"

#include <gtest/gtest.h>

#include "http/server.hpp"

namespace hub::http {
namespace {

const std::string kType = "multipart/form-data; boundary=----b0undary";

std::string Body() {
    return "------b0undary\r\n"
           "Content-Disposition: form-data; name=\"note\"\r\n\r\n"
           "hello\r\n"
           "------b0undary\r\n"
           "Content-Disposition: form-data; name=\"file\"; filename=\"a; b.png\"\r\n"
           "Content-Type: image/png\r\n\r\n"
           "\x89PNG\r\n--not-a-boundary\r\n"
           "------b0undary--\r\n";
}

TEST(Multipart, Boundary) {
    EXPECT_EQ(FormBoundary(kType), "----b0undary");
    EXPECT_EQ(FormBoundary("multipart/form-data; boundary=\"quoted b\""), "quoted b");
    EXPECT_EQ(FormBoundary("Multipart/Form-Data;charset=x; BOUNDARY=z"), "z");
    EXPECT_EQ(FormBoundary("application/json"), "");
    EXPECT_EQ(FormBoundary("multipart/form-data"), "");
}

TEST(Multipart, PartsAndFileBytes) {
    std::string body = Body();
    auto parts = ParseFormData(kType, body);
    ASSERT_TRUE(parts.ok()) << parts.error().detail;
    ASSERT_EQ(parts->size(), 2u);
    EXPECT_EQ((*parts)[0].name, "note");
    EXPECT_EQ((*parts)[0].body, "hello");
    EXPECT_EQ((*parts)[1].name, "file");
    EXPECT_EQ((*parts)[1].filename, "a; b.png");
    EXPECT_EQ((*parts)[1].content_type, "image/png");
    EXPECT_EQ((*parts)[1].body, "\x89PNG\r\n--not-a-boundary");
}

TEST(Multipart, Refusals) {
    auto wrong_type = ParseFormData("application/json", "{}");
    ASSERT_FALSE(wrong_type.ok());
    EXPECT_EQ(wrong_type.error().code, core::ErrorCode::kUnsupportedMediaType);
    std::string body = Body();
    auto cut = ParseFormData(kType, body.substr(0, body.size() / 2));
    ASSERT_FALSE(cut.ok());
    EXPECT_EQ(cut.error().api_code, "invalid_multipart");
    EXPECT_FALSE(ParseFormData(kType, "no boundary at all").ok());
    EXPECT_FALSE(ParseFormData(kType, "------b0undary\r\nno-colon\r\n\r\nx\r\n------b0undary--").ok());
}

TEST(BodyLimits, PerRouteRuleElseDefault) {
    ServerConfig cfg;
    cfg.body_limit = 1000;
    cfg.body_limits.push_back({"POST", "/api/v1/files", 50'000});
    EXPECT_EQ(BodyLimitFor(cfg, "POST", "/api/v1/files"), 50'000u);
    EXPECT_EQ(BodyLimitFor(cfg, "POST", "/api/v1/files?x=1"), 50'000u);
    EXPECT_EQ(BodyLimitFor(cfg, "GET", "/api/v1/files"), 1000u);
    EXPECT_EQ(BodyLimitFor(cfg, "POST", "/api/v1/files/x"), 1000u);
    EXPECT_EQ(LargestBodyLimit(cfg), 50'000u);
}

}  // namespace
}  // namespace hub::http
