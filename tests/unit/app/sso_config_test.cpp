// The single-sign-on providers file: defaults, secrets from files, and one clear message per
// mistake that never carries the secret.
#include "app/sso_config.hpp"

#include <gtest/gtest.h>

#include "services/sso.hpp"

namespace hub::app {
namespace {

bool KnownRole(const std::string& r) { return r == "user" || r == "admin" || r == "auditor"; }

std::optional<std::string> Files(const std::string& path) {
    if (path == "/run/secrets/corp") return std::string("secret-from-file");
    return std::nullopt;
}

core::Result<std::vector<services::SsoProviderConfig>> Parse(const std::string& text) {
    return ParseOidcProviders(text, Files, KnownRole);
}

std::string Problem(const std::string& text) {
    auto r = Parse(text);
    return r.ok() ? "ok" : r.error().public_message;
}

TEST(SsoConfig, ReadsProvidersWithDefaults) {
    auto r = Parse(R"([
      {"id": "corp", "display_name": "Corp SSO", "issuer": "https://id.corp.test/",
       "client_id": "hub", "client_secret_file": "/run/secrets/corp"},
      {"id": "local-test", "display_name": "Local", "issuer": "http://127.0.0.1:9000/realms/x",
       "client_id": "hub2", "client_secret": "s3cr3t-inline", "scopes": "openid email",
       "allowed_email_domains": ["example.test"], "default_role": "auditor",
       "create_accounts": false}])");
    ASSERT_TRUE(r.ok()) << r.error().public_message;
    ASSERT_EQ(r->size(), 2u);
    const auto& a = (*r)[0];
    EXPECT_EQ(a.issuer, "https://id.corp.test");  // a trailing slash is dropped
    EXPECT_EQ(a.client_secret.Reveal(), "secret-from-file");
    EXPECT_EQ(a.scopes, "openid email profile");
    EXPECT_EQ(a.default_role, "user");
    EXPECT_TRUE(a.create_accounts);
    EXPECT_TRUE(a.allowed_email_domains.empty());
    const auto& b = (*r)[1];
    EXPECT_EQ(b.client_secret.Reveal(), "s3cr3t-inline");
    EXPECT_EQ(b.default_role, "auditor");
    EXPECT_FALSE(b.create_accounts);
    EXPECT_EQ(b.allowed_email_domains, std::vector<std::string>{"example.test"});
    EXPECT_TRUE(Parse("[]").ok());
}

TEST(SsoConfig, NamesEachMistakeWithoutTheSecret) {
    const std::string base =
        R"("display_name": "X", "issuer": "https://id.test", "client_id": "c", )";
    EXPECT_NE(Problem("{").find("not valid JSON"), std::string::npos);
    EXPECT_NE(Problem("{}").find("array"), std::string::npos);
    EXPECT_NE(Problem(R"([{"id": "Bad Id", )" + base + R"("client_secret": "zzz-secret"}])")
                  .find("\"id\""),
              std::string::npos);
    std::string twice = R"({"id": "a", )" + base + R"("client_secret": "zzz-secret"})";
    EXPECT_NE(Problem("[" + twice + "," + twice + "]").find("listed twice"), std::string::npos);
    EXPECT_NE(Problem(R"([{"id": "a", )" + base + "\"x\": 1}]").find("unknown key \"x\""),
              std::string::npos);
    EXPECT_NE(Problem(R"([{"id": "a", )" + base + "\"scopes\": \"email\"}]").find(""),
              std::string::npos);
    std::string no_secret = Problem(R"([{"id": "a", )" + base + R"("scopes": "openid"}])");
    EXPECT_NE(no_secret.find("client_secret"), std::string::npos);
    std::string missing_file = Problem(R"([{"id": "a", )" + base +
                                       R"("client_secret_file": "/nope"}])");
    EXPECT_NE(missing_file.find("cannot be read"), std::string::npos);
    std::string both = Problem(R"([{"id": "a", )" + base +
                               R"("client_secret": "zzz-secret", "client_secret_file": "/x"}])");
    EXPECT_NE(both.find("keep one"), std::string::npos);
    EXPECT_EQ(both.find("zzz-secret"), std::string::npos);
    std::string role = Problem(R"([{"id": "a", )" + base +
                               R"("client_secret": "zzz-secret", "default_role": "god"}])");
    EXPECT_NE(role.find("unknown role \"god\""), std::string::npos);
    EXPECT_EQ(role.find("zzz-secret"), std::string::npos);
    std::string plain = Problem(
        R"([{"id": "a", "display_name": "X", "issuer": "http://id.example.test", "client_id": "c",
             "client_secret": "zzz-secret"}])");
    EXPECT_NE(plain.find("https://"), std::string::npos);
    std::string scopes = Problem(R"([{"id": "a", )" + base +
                                 R"("client_secret": "zzz-secret", "scopes": "email"}])");
    EXPECT_NE(scopes.find("openid"), std::string::npos);
    std::string domains = Problem(R"([{"id": "a", )" + base +
                                  R"("client_secret": "s", "allowed_email_domains": ["a@b"]}])");
    EXPECT_NE(domains.find("domain names"), std::string::npos);
    // Every message starts with the variable to look at.
    EXPECT_EQ(role.rfind("config: BAILIAN_HUB_OIDC_PROVIDERS_FILE: provider \"a\"", 0), 0u);
}

TEST(SsoConfig, UsernamesComeFromThePreferredNameOrTheEmail) {
    using services::Sso;
    EXPECT_EQ(Sso::UsernameBase("Alice.Smith", "x@y.test"), "alice.smith");
    EXPECT_EQ(Sso::UsernameBase("", "Bob+tag@example.test"), "bobtag");
    EXPECT_EQ(Sso::UsernameBase("李", "li@example.test"), "li_");
    EXPECT_EQ(Sso::UsernameBase("", "a@b.test"), "a__");
    EXPECT_EQ(Sso::UsernameBase("a-very-long-preferred-username-indeed", "").size(), 24u);
}

}  // namespace
}  // namespace hub::app
