#include <gtest/gtest.h>

#include "http/router.hpp"

namespace hub::http {
namespace {

Handler Noop() {
    return [](Context&) -> net::awaitable<Response> { co_return Response{}; };
}

TEST(Router, MatchesLiteralsAndParameters) {
    Router r;
    r.Add("GET", "/api/v1/conversations", Noop());
    r.Add("GET", "/api/v1/conversations/{id}", Noop());
    r.Add("POST", "/api/v1/conversations/{id}/messages/{mid}/regenerate", Noop());
    auto m = r.Find("GET", "/api/v1/conversations/abc");
    ASSERT_EQ(m.outcome, Router::Outcome::kMatched);
    EXPECT_EQ(m.pattern, "/api/v1/conversations/{id}");
    EXPECT_EQ(m.params.at("id"), "abc");
    m = r.Find("POST", "/api/v1/conversations/c1/messages/m%2D2/regenerate");
    ASSERT_EQ(m.outcome, Router::Outcome::kMatched);
    EXPECT_EQ(m.params.at("id"), "c1");
    EXPECT_EQ(m.params.at("mid"), "m-2");
}

TEST(Router, TableListsRoutesInRegistrationOrder) {
    Router r;
    r.Add("GET", "/healthz", Noop());
    r.Add("POST", "/dashscope/api/v1/services/aigc/*", Noop());
    auto t = r.Table();
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0].method, "GET");
    EXPECT_EQ(t[0].pattern, "/healthz");
    EXPECT_EQ(t[1].method, "POST");
    EXPECT_EQ(t[1].pattern, "/dashscope/api/v1/services/aigc/*");
}

TEST(Router, LiteralBeatsParameter) {
    Router r;
    r.Add("GET", "/api/v1/users/{id}", Noop());
    r.Add("GET", "/api/v1/users/me", Noop());
    EXPECT_EQ(r.Find("GET", "/api/v1/users/me").pattern, "/api/v1/users/me");
    EXPECT_EQ(r.Find("GET", "/api/v1/users/42").pattern, "/api/v1/users/{id}");
}

TEST(Router, NotFoundAndMethodNotAllowed) {
    Router r;
    r.Add("GET", "/healthz", Noop());
    r.Add("DELETE", "/api/v1/x/{id}", Noop());
    r.Add("PATCH", "/api/v1/x/{id}", Noop());
    EXPECT_EQ(r.Find("GET", "/nope").outcome, Router::Outcome::kNotFound);
    EXPECT_EQ(r.Find("GET", "/healthz/extra").outcome, Router::Outcome::kNotFound);
    auto m = r.Find("POST", "/api/v1/x/1");
    ASSERT_EQ(m.outcome, Router::Outcome::kMethodNotAllowed);
    EXPECT_EQ(m.allow, (std::vector<std::string>{"DELETE", "PATCH"}));
    m = r.Find("POST", "/healthz");
    EXPECT_EQ(m.allow, (std::vector<std::string>{"GET", "HEAD"}));
}

TEST(Router, HeadFallsBackToGet) {
    Router r;
    r.Add("GET", "/healthz", Noop());
    EXPECT_EQ(r.Find("HEAD", "/healthz").outcome, Router::Outcome::kMatched);
}

TEST(Router, ParametersRejectEmptyAndEncodedSlash) {
    Router r;
    r.Add("GET", "/a/{id}", Noop());
    EXPECT_EQ(r.Find("GET", "/a/").outcome, Router::Outcome::kNotFound);
    EXPECT_EQ(r.Find("GET", "/a/x%2Fy").outcome, Router::Outcome::kNotFound);
}

TEST(Router, RestWildcard) {
    Router r;
    r.Add("POST", "/dashscope/api/v1/services/aigc/*", Noop());
    auto m = r.Find("POST", "/dashscope/api/v1/services/aigc/text-generation/generation");
    ASSERT_EQ(m.outcome, Router::Outcome::kMatched);
    EXPECT_EQ(m.params.at("*"), "text-generation/generation");
    EXPECT_THROW(r.Add("GET", "/x/*/y", Noop()), std::logic_error);
}

TEST(Router, TrailingAndDoubleSlashesAreSegmentsOnly) {
    Router r;
    r.Add("GET", "/healthz", Noop());
    EXPECT_EQ(r.Find("GET", "/healthz/").outcome, Router::Outcome::kMatched);
}

TEST(Request, QueryParametersAreDecoded) {
    Request req;
    req.query = "q=hello+world&limit=20&x=%E4%BD%A0&flag";
    EXPECT_EQ(req.Query("q").value(), "hello world");
    EXPECT_EQ(req.Query("limit").value(), "20");
    EXPECT_EQ(req.Query("x").value(), "\xE4\xBD\xA0");
    EXPECT_EQ(req.Query("flag").value(), "");
    EXPECT_FALSE(req.Query("missing").has_value());
}

TEST(Headers, CaseInsensitiveSetAddRemove) {
    Headers h;
    h.Set("Content-Type", "a");
    h.Set("content-type", "b");
    EXPECT_EQ(h.fields().size(), 1u);
    EXPECT_EQ(h.Get("CONTENT-TYPE").value(), "b");
    h.Add("Set-Cookie", "x=1");
    h.Add("Set-Cookie", "y=2");
    EXPECT_EQ(h.fields().size(), 3u);
    h.Remove("set-cookie");
    EXPECT_EQ(h.fields().size(), 1u);
}

}  // namespace
}  // namespace hub::http
