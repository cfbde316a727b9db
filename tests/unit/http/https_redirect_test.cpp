#include "http/https_redirect.hpp"

#include <gtest/gtest.h>

namespace hub::http {
namespace {

Request Req(std::string target, std::optional<std::string> host) {
    Request r;
    r.method = "GET";
    r.target = std::move(target);
    if (host) r.headers.Add("Host", *host);
    return r;
}

TEST(HttpsLocation, SamePathAndQueryOnTheHttpsPort) {
    EXPECT_EQ(HttpsLocation(Req("/a/b?c=1", "hub.example:8080"), 8443, ""),
              "https://hub.example:8443/a/b?c=1");
    EXPECT_EQ(HttpsLocation(Req("/", "hub.example"), 443, ""), "https://hub.example/");
    EXPECT_EQ(HttpsLocation(Req("/x", "[::1]:80"), 8443, ""), "https://[::1]:8443/x");
}

TEST(HttpsLocation, PublicUrlWinsOverHost) {
    EXPECT_EQ(HttpsLocation(Req("/x?y", "evil.example"), 8443, "https://hub.example"),
              "https://hub.example/x?y");
}

TEST(HttpsLocation, UnusableHostsAreRefused) {
    for (const char* host : {"", "evil.example/<script>", "a b", "evil.example:80x", "[zz]",
                             "user@evil.example", "evil.example:"}) {
        EXPECT_FALSE(HttpsLocation(Req("/x", std::string(host)), 8443, "")) << host;
    }
    EXPECT_FALSE(HttpsLocation(Req("/x", std::nullopt), 8443, ""));
    EXPECT_FALSE(HttpsLocation(Req("http://other/x", "hub.example"), 8443, ""));
}

}  // namespace
}  // namespace hub::http
