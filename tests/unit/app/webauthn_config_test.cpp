// The passkeys (WebAuthn) settings: defaults, environment and TOML, and refused values.
#include <gtest/gtest.h>

#include "app/config.hpp"

namespace hub::app {
namespace {

TEST(WebAuthnConfig, DefaultsDeriveFromTheRequest) {
    auto c = LoadConfig("", "", {});
    ASSERT_TRUE(c.ok()) << c.error().public_message;
    EXPECT_EQ(c->webauthn_rp_id, "");
    EXPECT_TRUE(c->webauthn_origins.empty());
    EXPECT_EQ(c->webauthn_challenge_ttl_s, 300);
}

TEST(WebAuthnConfig, EnvironmentAndToml) {
    auto env = LoadConfig("", "", {{"BAILIAN_HUB_WEBAUTHN_RP_ID", "example.com"},
                                   {"BAILIAN_HUB_WEBAUTHN_ORIGINS",
                                    "https://hub.example.com/,https://ai.example.com"},
                                   {"BAILIAN_HUB_WEBAUTHN_CHALLENGE_TTL_S", "60"}});
    ASSERT_TRUE(env.ok()) << env.error().public_message;
    EXPECT_EQ(env->webauthn_rp_id, "example.com");
    EXPECT_EQ(env->webauthn_origins,
              (std::vector<std::string>{"https://hub.example.com", "https://ai.example.com"}));
    EXPECT_EQ(env->webauthn_challenge_ttl_s, 60);
    auto toml = LoadConfig("[auth]\nwebauthn_rp_id = \"hub.example.com\"\n"
                           "webauthn_origins = [\"https://hub.example.com\"]\n",
                           "t", {});
    ASSERT_TRUE(toml.ok()) << toml.error().public_message;
    EXPECT_EQ(toml->webauthn_rp_id, "hub.example.com");
    EXPECT_EQ(toml->webauthn_origins, std::vector<std::string>{"https://hub.example.com"});
}

TEST(WebAuthnConfig, RefusesBadValues) {
    for (const char* rp : {"https://hub.example.com", "hub.example.com:443", "Hub.Example.com",
                           "hub example"}) {
        auto c = LoadConfig("", "", {{"BAILIAN_HUB_WEBAUTHN_RP_ID", rp}});
        ASSERT_FALSE(c.ok()) << rp;
        EXPECT_NE(c.error().public_message.find("BAILIAN_HUB_WEBAUTHN_RP_ID"), std::string::npos);
    }
    EXPECT_FALSE(LoadConfig("", "", {{"BAILIAN_HUB_WEBAUTHN_ORIGINS", "hub.example.com"}}).ok());
    EXPECT_FALSE(LoadConfig("", "", {{"BAILIAN_HUB_WEBAUTHN_CHALLENGE_TTL_S", "0"}}).ok());
    EXPECT_FALSE(LoadConfig("", "", {{"BAILIAN_HUB_WEBAUTHN_CHALLENGE_TTL_S", "3601"}}).ok());
}

}  // namespace
}  // namespace hub::app
