// Which URL `bailian-hub healthcheck` probes (the probe itself runs against a real hub in
// tests/integration/deploy.test.mjs).
#include <gtest/gtest.h>

#include "app/config.hpp"
#include "app/healthcheck.hpp"

namespace hub::app {
namespace {

Config LoadFrom(std::map<std::string, std::string> env) {
    auto c = LoadConfig("", "", env);
    EXPECT_TRUE(c.ok()) << c.error().public_message;
    return c.ok() ? c.value() : Config{};
}

TEST(Healthcheck, DefaultsToHealthzOnLoopbackAtTheListenerPort) {
    // A container listens on every address; the probe goes to loopback at the same port.
    Config c = LoadFrom({{"BAILIAN_HUB_LISTEN", "0.0.0.0:8181"},
                         {"BAILIAN_HUB_TRUSTED_PROXIES", "10.0.0.2"}});
    auto t = HealthcheckTargetFor(c, "");
    ASSERT_TRUE(t.ok()) << t.error().public_message;
    EXPECT_EQ(t->origin, "http://127.0.0.1:8181");
    EXPECT_EQ(t->target, "/healthz");
    auto d = HealthcheckTargetFor(Config{}, "");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->origin, "http://127.0.0.1:8080");
}

TEST(Healthcheck, TakesAnExplicitUrlWithItsPath) {
    auto t = HealthcheckTargetFor(Config{}, "http://127.0.0.1:9000/_sim/health");
    ASSERT_TRUE(t.ok()) << t.error().public_message;
    EXPECT_EQ(t->origin, "http://127.0.0.1:9000");
    EXPECT_EQ(t->target, "/_sim/health");
    auto bare = HealthcheckTargetFor(Config{}, "https://hub.example.com:8443");
    ASSERT_TRUE(bare.ok()) << bare.error().public_message;
    EXPECT_EQ(bare->origin, "https://hub.example.com:8443");
    EXPECT_EQ(bare->target, "/healthz");
}

TEST(Healthcheck, RefusesBadUrls) {
    for (const char* bad : {"127.0.0.1:8080/healthz", "ftp://127.0.0.1/healthz",
                            "http://10.1.2.3:8080/healthz", "http://127.0.0.1:99999/healthz",
                            "http://127.0.0.1:8080/health z", "http:///healthz"}) {
        auto t = HealthcheckTargetFor(Config{}, bad);
        ASSERT_FALSE(t.ok()) << bad;
        EXPECT_EQ(t.error().api_code, "invalid_url") << bad;
        EXPECT_NE(t.error().public_message.find("healthcheck"), std::string::npos) << bad;
    }
}

TEST(Healthcheck, AnHttpsListenerNeedsAnExplicitUrl) {
    Config c;
    c.tls_cert_file = "/etc/hub/cert.pem";
    c.tls_key_file = "/etc/hub/key.pem";
    auto t = HealthcheckTargetFor(c, "");
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.error().public_message.find("--url"), std::string::npos);
    EXPECT_TRUE(HealthcheckTargetFor(c, "https://hub.example.com:8443/healthz").ok());
}

}  // namespace
}  // namespace hub::app
