#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "http/static_files.hpp"

namespace hub::http {
namespace {

namespace fs = std::filesystem;

TEST(SafeRelativePath, AcceptsOrdinaryPaths) {
    EXPECT_EQ(SafeRelativePath("/").value(), "");
    EXPECT_EQ(SafeRelativePath("/index.html").value(), "index.html");
    EXPECT_EQ(SafeRelativePath("/assets/app-1234abcd.js").value(), "assets/app-1234abcd.js");
    EXPECT_EQ(SafeRelativePath("//assets//x.js").value(), "assets/x.js");
    EXPECT_EQ(SafeRelativePath("/a%20b.txt").value(), "a b.txt");
}

TEST(SafeRelativePath, RefusesEveryEscapeForm) {
    for (const char* p : {"/../etc/passwd", "/assets/../../x", "/%2e%2e/x", "/%2E%2E/x",
                          "/.%2e/x", "/%2e./x", "/assets/..%2f..%2fx", "/..%2Fx", "/..%5cx",
                          "/a\\..\\x", "/%252e%252e/x", "/x%00.js", "/./x", "/.env",
                          "/assets/.git/config"}) {
        EXPECT_FALSE(SafeRelativePath(p).has_value()) << p;
    }
}

TEST(MimeTypes, CommonWebFiles) {
    EXPECT_EQ(MimeTypeFor("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(MimeTypeFor("a.JS"), "text/javascript; charset=utf-8");
    EXPECT_EQ(MimeTypeFor("a.css"), "text/css; charset=utf-8");
    EXPECT_EQ(MimeTypeFor("m.webmanifest"), "application/manifest+json");
    EXPECT_EQ(MimeTypeFor("i.svg"), "image/svg+xml");
    EXPECT_EQ(MimeTypeFor("f.woff2"), "font/woff2");
    EXPECT_EQ(MimeTypeFor("noext"), "application/octet-stream");
}

TEST(HashedAssets, RecognisesViteNames) {
    EXPECT_TRUE(IsHashedAsset("assets/index-3f9a1c2B.js"));
    EXPECT_TRUE(IsHashedAsset("vendor-Dk_93jfA.css"));
    EXPECT_FALSE(IsHashedAsset("index.html"));
    EXPECT_FALSE(IsHashedAsset("favicon.svg"));
    EXPECT_FALSE(IsHashedAsset("my-app.js"));
}

class StaticFilesTest : public ::testing::Test {
protected:
    void SetUp() override {
        base_ = fs::temp_directory_path() /
                ("hub-static-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                 "-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
        fs::create_directories(base_ / "root/assets");
        fs::create_directories(base_ / "outside");
        Write(base_ / "root/index.html", "INDEX");
        Write(base_ / "root/assets/app-12345678.js", "JS");
        Write(base_ / "root/assets/app-12345678.js.br", "BR");
        Write(base_ / "outside/secret.txt", "SECRET");
        fs::create_symlink(base_ / "outside/secret.txt", base_ / "root/leak.txt");
    }
    void TearDown() override { fs::remove_all(base_); }
    static void Write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }
    Request Get(const std::string& path, const std::string& ae = "") {
        Request r;
        r.method = "GET";
        r.path = path;
        if (!ae.empty()) r.headers.Set("Accept-Encoding", ae);
        return r;
    }
    fs::path base_;
};

TEST_F(StaticFilesTest, ServesFilesWithCachingRules) {
    StaticFiles s({base_ / "root"});
    auto r = s.Serve(Get("/assets/app-12345678.js"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "JS");
    EXPECT_EQ(r->headers.GetOr("Cache-Control"), "public, max-age=31536000, immutable");
    r = s.Serve(Get("/"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "INDEX");
    EXPECT_EQ(r->headers.GetOr("Cache-Control"), "no-cache");
}

TEST_F(StaticFilesTest, PrefersPrecompressed) {
    StaticFiles s({base_ / "root"});
    auto r = s.Serve(Get("/assets/app-12345678.js", "gzip, deflate, br"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "BR");
    EXPECT_EQ(r->headers.GetOr("Content-Encoding"), "br");
    EXPECT_EQ(r->headers.GetOr("Content-Type"), "text/javascript; charset=utf-8");
}

TEST_F(StaticFilesTest, SpaFallbackOnlyForClientRoutes) {
    StaticFiles s({base_ / "root"});
    EXPECT_EQ(s.Serve(Get("/settings/profile"))->body, "INDEX");
    EXPECT_FALSE(s.Serve(Get("/assets/missing-12345678.js")));
    EXPECT_FALSE(s.Serve(Get("/api/v1/whatever")));
    EXPECT_FALSE(s.Serve(Get("/v1/models")));
}

TEST_F(StaticFilesTest, SymlinkOutsideRootIsNotServed) {
    StaticFiles s({base_ / "root"});
    EXPECT_FALSE(s.Serve(Get("/leak.txt")));
}

TEST_F(StaticFilesTest, MissingRootServesNothing) {
    StaticFiles s({base_ / "nope"});
    EXPECT_FALSE(s.available());
    EXPECT_FALSE(s.Serve(Get("/")));
}

}  // namespace
}  // namespace hub::http
