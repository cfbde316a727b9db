#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "app/config.hpp"

namespace hub::app {
namespace {

using Env = std::map<std::string, std::string>;

TEST(Config, Defaults) {
    auto c = LoadConfig("", "", {});
    ASSERT_TRUE(c.ok()) << c.error().public_message;
    EXPECT_EQ(c->listen_host, "127.0.0.1");
    EXPECT_EQ(c->listen_port, 8080);
    EXPECT_EQ(c->data_dir, "./var");
    EXPECT_EQ(c->SqlitePath(), "./var/bailian-hub.db");
    EXPECT_EQ(c->log_format, "json");
    EXPECT_TRUE(c->dashscope_api_key.empty());
    EXPECT_EQ(c->body_limit, 1u << 20);
}

TEST(Config, TomlThenEnvironment) {
    std::string toml = R"(
data_dir = "/srv/hub"
[server]
listen = "127.0.0.1:9000"
trusted_proxies = ["10.0.0.1", "10.0.0.2"]
[log]
level = "debug"
)";
    auto c = LoadConfig(toml, "hub.toml", {{"BAILIAN_HUB_LISTEN", "[::1]:7000"}});
    ASSERT_TRUE(c.ok()) << c.error().public_message;
    EXPECT_EQ(c->data_dir, "/srv/hub");
    EXPECT_EQ(c->listen_host, "::1");
    EXPECT_EQ(c->listen_port, 7000);
    EXPECT_EQ(c->log_level, "debug");
    EXPECT_EQ(c->trusted_proxies, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
}

TEST(Config, EveryBadValueNamesItsKey) {
    struct Case {
        Env env;
        const char* key;
    } cases[] = {
        {{{"BAILIAN_HUB_LISTEN", "8080"}}, "BAILIAN_HUB_LISTEN"},
        {{{"BAILIAN_HUB_LISTEN", "127.0.0.1:70000"}}, "BAILIAN_HUB_LISTEN"},
        {{{"BAILIAN_HUB_LISTEN", "example.com:80"}}, "BAILIAN_HUB_LISTEN"},
        {{{"BAILIAN_HUB_DATA_DIR", ""}}, "BAILIAN_HUB_DATA_DIR"},
        {{{"BAILIAN_HUB_DATABASE_URL", "mysql://u@h/db"}}, "BAILIAN_HUB_DATABASE_URL"},
        {{{"BAILIAN_HUB_DATABASE_URL", "sqlite:"}}, "BAILIAN_HUB_DATABASE_URL"},
        {{{"BAILIAN_HUB_LOG_LEVEL", "verbose"}}, "BAILIAN_HUB_LOG_LEVEL"},
        {{{"BAILIAN_HUB_LOG_FORMAT", "yaml"}}, "BAILIAN_HUB_LOG_FORMAT"},
        {{{"DASHSCOPE_BASE_URL", "https://dashscope.aliyuncs.com/api/v1"}}, "DASHSCOPE_BASE_URL"},
        {{{"DASHSCOPE_BASE_URL", "dashscope.aliyuncs.com"}}, "DASHSCOPE_BASE_URL"},
        {{{"BAILIAN_HUB_BODY_LIMIT", "-1"}}, "BAILIAN_HUB_BODY_LIMIT"},
        {{{"BAILIAN_HUB_IO_THREADS", "many"}}, "BAILIAN_HUB_IO_THREADS"},
        {{{"BAILIAN_HUB_TRUSTED_PROXIES", "proxy.local"}}, "BAILIAN_HUB_TRUSTED_PROXIES"},
        {{{"BAILIAN_HUB_DASHSCOPE_REGION", "mars"}}, "BAILIAN_HUB_DASHSCOPE_REGION"},
    };
    for (const auto& c : cases) {
        auto r = LoadConfig("", "", c.env);
        ASSERT_FALSE(r.ok()) << c.key;
        EXPECT_NE(r.error().public_message.find(c.key), std::string::npos)
            << r.error().public_message;
        EXPECT_EQ(r.error().public_message.find('\n'), std::string::npos);
    }
}

TEST(Config, TomlErrorsNameTheKeyOrPosition) {
    auto r = LoadConfig("[server]\nlistne = \"x\"\n", "f.toml", {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().public_message.find("server.listne"), std::string::npos);
    r = LoadConfig("[server]\nbody_limit = \"big\"\n", "f.toml", {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().public_message.find("server.body_limit"), std::string::npos);
    r = LoadConfig("[server\n", "f.toml", {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().public_message.find("f.toml:1:"), std::string::npos)
        << r.error().public_message;
}

TEST(Config, RefusesPlainHttpOffLoopbackWithoutProxy) {
    auto r = LoadConfig("", "", {{"BAILIAN_HUB_LISTEN", "0.0.0.0:8080"}});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().public_message.find("loopback"), std::string::npos);
    r = LoadConfig("", "", {{"BAILIAN_HUB_LISTEN", "0.0.0.0:8080"},
                            {"BAILIAN_HUB_TRUSTED_PROXIES", "10.1.2.3"}});
    EXPECT_TRUE(r.ok());
}

TEST(Config, SecretsAreNotPrintable) {
    auto c = LoadConfig("", "", {{"DASHSCOPE_API_KEY", "sk-abc123"}});
    ASSERT_TRUE(c.ok());
    std::ostringstream os;
    os << c->dashscope_api_key;
    EXPECT_EQ(os.str(), "***");
}

TEST(Config, ExampleFileParsesAndDocumentsEveryKey) {
    std::ifstream in(std::string(HUB_SOURCE_DIR) + "/config/bailian-hub.example.toml");
    ASSERT_TRUE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    auto c = LoadConfig(text, "example", {});
    ASSERT_TRUE(c.ok()) << c.error().public_message;
    for (const auto& k : ConfigKeys()) {
        EXPECT_NE(text.find(k.env), std::string::npos) << "example lacks " << k.env;
        std::string leaf = k.toml;
        leaf = leaf.substr(leaf.rfind('.') + 1);
        EXPECT_NE(text.find(leaf), std::string::npos) << "example lacks " << k.toml;
    }
}

}  // namespace
}  // namespace hub::app
