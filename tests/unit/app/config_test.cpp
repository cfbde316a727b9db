#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "app/config.hpp"

namespace hub::app {
namespace {

using Env = std::map<std::string, std::string>;

// One io thread fewer than cores by default (the writer thread, the crypto pool and the
// kernel's socket work take the last one), never none; a configured count is kept as given.
TEST(Config, IoThreadsLeaveACoreUnlessConfigured) {
    Config cfg;
    EXPECT_EQ(IoThreads(cfg, 0), 1u);  // hardware_concurrency() may not know
    EXPECT_EQ(IoThreads(cfg, 1), 1u);
    EXPECT_EQ(IoThreads(cfg, 2), 1u);
    EXPECT_EQ(IoThreads(cfg, 8), 7u);
    auto loaded = LoadConfig("[server]\nio_threads = 4\n", "hub.toml", {});
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(IoThreads(loaded.value(), 2), 4u);
    auto from_env = LoadConfig("", "", {{"BAILIAN_HUB_IO_THREADS", "2"}});
    ASSERT_TRUE(from_env.ok());
    EXPECT_EQ(IoThreads(from_env.value(), 2), 2u);
}

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
        {{{"BAILIAN_HUB_DATABASE_URL", "mysql://u:pw@h:port/db"}}, "BAILIAN_HUB_DATABASE_URL"},
        {{{"BAILIAN_HUB_DATABASE_URL", "mysql://u:pw@h:3306/"}}, "BAILIAN_HUB_DATABASE_URL"},
        {{{"BAILIAN_HUB_DATABASE_URL", "postgres://u:pw@h/db"}}, "BAILIAN_HUB_DATABASE_URL"},
        {{{"BAILIAN_HUB_DATABASE_REPLICA_URL", "sqlite:x.db"}}, "BAILIAN_HUB_DATABASE_REPLICA_URL"},
        {{{"BAILIAN_HUB_DATABASE_REPLICA_URL", "mysql://u:pw@r:3306/db"}}, "database.replica_url"},
        {{{"BAILIAN_HUB_DATABASE_URL", "sqlite:"}}, "BAILIAN_HUB_DATABASE_URL"},
        {{{"BAILIAN_HUB_LOG_LEVEL", "verbose"}}, "BAILIAN_HUB_LOG_LEVEL"},
        {{{"BAILIAN_HUB_LOG_FORMAT", "yaml"}}, "BAILIAN_HUB_LOG_FORMAT"},
        {{{"DASHSCOPE_BASE_URL", "https://dashscope.aliyuncs.com/api/v1"}}, "DASHSCOPE_BASE_URL"},
        {{{"DASHSCOPE_BASE_URL", "dashscope.aliyuncs.com"}}, "DASHSCOPE_BASE_URL"},
        {{{"BAILIAN_HUB_BODY_LIMIT", "-1"}}, "BAILIAN_HUB_BODY_LIMIT"},
        {{{"BAILIAN_HUB_IO_THREADS", "many"}}, "BAILIAN_HUB_IO_THREADS"},
        {{{"BAILIAN_HUB_TRUSTED_PROXIES", "proxy.local"}}, "BAILIAN_HUB_TRUSTED_PROXIES"},
        {{{"BAILIAN_HUB_DASHSCOPE_REGION", "mars"}}, "BAILIAN_HUB_DASHSCOPE_REGION"},
        {{{"BAILIAN_HUB_METRICS_LISTEN", "9464"}}, "BAILIAN_HUB_METRICS_LISTEN"},
        {{{"BAILIAN_HUB_METRICS_TOKEN", "short"}}, "BAILIAN_HUB_METRICS_TOKEN"},
    };
    for (const auto& c : cases) {
        auto r = LoadConfig("", "", c.env);
        ASSERT_FALSE(r.ok()) << c.key;
        EXPECT_NE(r.error().public_message.find(c.key), std::string::npos)
            << r.error().public_message;
        EXPECT_EQ(r.error().public_message.find('\n'), std::string::npos);
    }
}

TEST(Config, MysqlUrlsAndTheReplicaNeverShowThePassword) {
    auto ok = LoadConfig("", "",
                         {{"BAILIAN_HUB_DATABASE_URL", "mysql://hub:s%40cret@127.0.0.1:3306/hub"},
                          {"BAILIAN_HUB_DATABASE_REPLICA_URL", "mysql://hub:s%40cret@127.0.0.2/hub"},
                          {"BAILIAN_HUB_DATABASE_REPLICA_MAX_LAG_MS", "2500"}});
    ASSERT_TRUE(ok.ok()) << ok.error().public_message;
    EXPECT_TRUE(ok->UsesMysql());
    EXPECT_EQ(ok->database_replica_max_lag_ms, 2500);
    for (const char* bad : {"mysql://hub:Top-Secret-9@h:99999/db", "mysql://hub:Top-Secret-9@h/",
                            "mysql://hub:Top-Secret-9@h/db?tls=maybe"}) {
        auto r = LoadConfig("", "", {{"BAILIAN_HUB_DATABASE_URL", bad}});
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().public_message.find("Top-Secret-9"), std::string::npos)
            << r.error().public_message;
        EXPECT_EQ(r.error().detail.find("Top-Secret-9"), std::string::npos) << r.error().detail;
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

TEST(Config, MetricsListenerIsLoopbackByDefaultAndCanBeTurnedOff) {
    auto c = LoadConfig("", "", {});
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->metrics_listen_host, "127.0.0.1");
    EXPECT_EQ(c->metrics_listen_port, 9464);
    EXPECT_TRUE(c->metrics_token.Reveal().empty());
    c = LoadConfig("[metrics]\nlisten = \"[::1]:9100\"\n", "f.toml", {});
    ASSERT_TRUE(c.ok()) << c.error().public_message;
    EXPECT_EQ(c->metrics_listen_host, "::1");
    EXPECT_EQ(c->metrics_listen_port, 9100);
    c = LoadConfig("", "", {{"BAILIAN_HUB_METRICS_LISTEN", "off"}});
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->metrics_listen_host.empty());
}

TEST(Config, MetricsOffLoopbackNeedTheToken) {
    auto r = LoadConfig("", "", {{"BAILIAN_HUB_METRICS_LISTEN", "0.0.0.0:9464"}});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().public_message.find("metrics.token"), std::string::npos);
    r = LoadConfig("", "", {{"BAILIAN_HUB_METRICS_LISTEN", "0.0.0.0:9464"},
                            {"BAILIAN_HUB_METRICS_TOKEN", "a-long-enough-scrape-token"}});
    ASSERT_TRUE(r.ok());
    std::ostringstream os;
    os << r->metrics_token;
    EXPECT_EQ(os.str(), "***");
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

TEST(Config, TlsKeysComeInPairsAndAllowAnyAddress) {
    auto half = LoadConfig("", "", {{"BAILIAN_HUB_TLS_CERT", "/c.pem"}});
    ASSERT_FALSE(half.ok());
    EXPECT_NE(half.error().public_message.find("BAILIAN_HUB_TLS_KEY"), std::string::npos);
    auto plain = LoadConfig("", "", {{"BAILIAN_HUB_LISTEN", "0.0.0.0:8443"}});
    EXPECT_FALSE(plain.ok());
    auto https = LoadConfig("", "", {{"BAILIAN_HUB_LISTEN", "0.0.0.0:8443"},
                                     {"BAILIAN_HUB_TLS_CERT", "/c.pem"},
                                     {"BAILIAN_HUB_TLS_KEY", "/k.pem"},
                                     {"BAILIAN_HUB_HTTP_REDIRECT_LISTEN", "0.0.0.0:8080"}});
    ASSERT_TRUE(https.ok()) << https.error().public_message;
    EXPECT_TRUE(https->Tls());
    EXPECT_EQ(https->redirect_listen_port, 8080);
    // Redirecting to HTTPS, or metrics over TLS, without a certificate: refused.
    EXPECT_FALSE(LoadConfig("", "", {{"BAILIAN_HUB_HTTP_REDIRECT_LISTEN", "127.0.0.1:8080"}}).ok());
    EXPECT_FALSE(LoadConfig("", "", {{"BAILIAN_HUB_METRICS_TLS", "true"}}).ok());
    // HSTS shorter than a year is refused.
    EXPECT_FALSE(LoadConfig("", "", {{"BAILIAN_HUB_HSTS_MAX_AGE", "86400"}}).ok());
}

TEST(Config, ModelsAndChat) {
    std::string toml = R"(
[models]
default = "qwen-max"
disabled = ["qwen-long", "qwq-plus"]
title_model = ""

[[models.custom]]
id = "tiny-ctx"
context_window = 300
input_price = 0.001
output_price = 2

[[models.custom]]
id = "qwen-plus"
kind = "chat"
context_window = 131072
input_price = 0.0004
output_price = 0.001
thinking = true
)";
    auto c = LoadConfig(toml, "hub.toml", {{"BAILIAN_HUB_MAX_CONTENT_CHARS", "100"}});
    ASSERT_TRUE(c.ok()) << c.error().public_message;
    EXPECT_EQ(c->default_model, "qwen-max");
    EXPECT_EQ(c->disabled_models, (std::vector<std::string>{"qwen-long", "qwq-plus"}));
    EXPECT_EQ(c->title_model, "");
    EXPECT_EQ(c->max_content_chars, 100u);
    ASSERT_EQ(c->custom_models.size(), 2u);
    EXPECT_EQ(c->custom_models[0].id, "tiny-ctx");
    EXPECT_EQ(c->custom_models[0].kind, "chat");
    EXPECT_EQ(c->custom_models[0].context_window, 300);
    EXPECT_DOUBLE_EQ(c->custom_models[0].input_price, 0.001);
    EXPECT_DOUBLE_EQ(c->custom_models[0].output_price, 2.0);
    EXPECT_TRUE(c->custom_models[1].thinking);

    auto env = LoadConfig("", "", {{"BAILIAN_HUB_DISABLED_MODELS", "a, b,,c"},
                                   {"BAILIAN_HUB_DEFAULT_MODEL", "qwen-turbo"}});
    ASSERT_TRUE(env.ok());
    EXPECT_EQ(env->disabled_models, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(env->default_model, "qwen-turbo");

    for (const char* bad : {"[[models.custom]]\ncontext_window = 10\n",
                            "[[models.custom]]\nid = \"x\"\n",
                            "[[models.custom]]\nid = \"x\"\ncontext_window = 10\nprice = 1\n",
                            "[[models.custom]]\nid = \"x\"\nkind = \"audio\"\n",
                            "[[models.custom]]\nid = \"x\"\ncontext_window = 10\ninput_price = -1\n",
                            "[models]\ncustom = 3\n"}) {
        auto r = LoadConfig(bad, "f.toml", {});
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_NE(r.error().public_message.find("models.custom"), std::string::npos)
            << r.error().public_message;
    }
}

}  // namespace
}  // namespace hub::app

namespace hub::app {
namespace {

TEST(Config, LimitsPerRoleFromTomlAndEnvironment) {
    auto c = LoadConfig(R"(
[limits]
max_concurrent_calls = 5
[limits.user]
rpm = 30
daily_cost_cny = 7
[limits.admin]
tpm = 99
)",
                        "hub.toml", {{"BAILIAN_HUB_LIMITS_USER_TPM_BURST", "1234"}});
    ASSERT_TRUE(c.ok()) << c.error().public_message;
    EXPECT_EQ(c->max_concurrent_calls, 5);
    EXPECT_EQ(c->limits_user.rpm, 30);
    EXPECT_EQ(c->limits_user.rpm_burst, 0);  // follows the rate
    EXPECT_EQ(c->limits_user.tpm_burst, 1234);
    EXPECT_EQ(c->limits_user.daily_cost_cny, 7);
    EXPECT_EQ(c->limits_admin.tpm, 99);
    EXPECT_EQ(c->limits_admin.rpm, 1200);
    EXPECT_EQ(c->unauthenticated_per_ip_per_minute, 60);
}

TEST(Config, LimitsRefuseZeroNegativeAndAbsurdValues) {
    for (const char* bad : {"0", "-1", "1000000001", "ten"}) {
        auto c = LoadConfig("", "", {{"BAILIAN_HUB_LIMITS_USER_RPM", bad}});
        ASSERT_FALSE(c.ok()) << bad;
        EXPECT_NE(c.error().public_message.find("BAILIAN_HUB_LIMITS_USER_RPM"), std::string::npos);
        EXPECT_EQ(c.error().public_message.find('\n'), std::string::npos);  // one line
    }
    auto t = LoadConfig("[limits]\nmax_concurrent_calls = 0\n", "hub.toml", {});
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.error().public_message.find("limits.max_concurrent_calls"), std::string::npos);
    auto m = LoadConfig("[limits.admin]\nmonthly_tokens = 2000000000\n", "hub.toml", {});
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.error().public_message.find("limits.admin.monthly_tokens"), std::string::npos);
}

}  // namespace
}  // namespace hub::app

namespace hub::app {
namespace {

TEST(Config, RedisKeys) {
    auto none = LoadConfig("", "", {});
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->redis_url.empty());  // one hub, as before
    EXPECT_FALSE(none->redis_required);
    EXPECT_EQ(none->redis_timeout_ms, 50);
    EXPECT_FALSE(none->redis_fallback_share.has_value());
    auto c = LoadConfig("[redis]\ntimeout_ms = 80\n", "f.toml",
                        {{"BAILIAN_HUB_REDIS_URL", "redis://:pw-Redis-1@10.0.0.5:6379/1"},
                         {"BAILIAN_HUB_REDIS_REQUIRED", "true"},
                         {"BAILIAN_HUB_REDIS_FALLBACK_SHARE", "0.25"},
                         {"BAILIAN_HUB_REDIS_TLS_CA", "/etc/redis-ca.pem"}});
    ASSERT_TRUE(c.ok()) << c.error().public_message;
    EXPECT_EQ(c->redis_url.Reveal(), "redis://:pw-Redis-1@10.0.0.5:6379/1");
    EXPECT_TRUE(c->redis_required);
    EXPECT_EQ(c->redis_timeout_ms, 80);
    EXPECT_DOUBLE_EQ(*c->redis_fallback_share, 0.25);
    EXPECT_EQ(c->redis_tls_ca, "/etc/redis-ca.pem");
    // A malformed URL is not a configuration error here: start-up decides (warning or exit 2).
    EXPECT_TRUE(LoadConfig("", "", {{"BAILIAN_HUB_REDIS_URL", "redis://:pw@h:port"}}).ok());
    for (const char* bad : {"0", "1.5", "-0.1", "half", "0.5x"}) {
        auto r = LoadConfig("", "", {{"BAILIAN_HUB_REDIS_FALLBACK_SHARE", bad}});
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_NE(r.error().public_message.find("BAILIAN_HUB_REDIS_FALLBACK_SHARE"),
                  std::string::npos);
    }
    EXPECT_FALSE(LoadConfig("", "", {{"BAILIAN_HUB_REDIS_REQUIRED", "yes"}}).ok());
    EXPECT_FALSE(LoadConfig("", "", {{"BAILIAN_HUB_REDIS_TIMEOUT_MS", "0"}}).ok());
}

}  // namespace
}  // namespace hub::app
