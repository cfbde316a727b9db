#include "app/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <deque>
#include <functional>
#include <sstream>

#include "bailian/result_files.hpp"
#include "store/mysql/url.hpp"

extern char** environ;

namespace hub::app {

namespace {

using Setter = std::function<std::optional<std::string>(Config&, const std::string&)>;

struct KeyDef {
    ConfigKey key;
    Setter set;
};

std::optional<std::string> ParseU64(const std::string& v, std::uint64_t min, std::uint64_t max,
                                    std::uint64_t* out) {
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || v.empty())
        return "must be a whole number, got '" + v + "'";
    if (n < min || n > max)
        return "must be between " + std::to_string(min) + " and " + std::to_string(max);
    *out = n;
    return std::nullopt;
}

Setter Size(std::size_t Config::*field, std::uint64_t min, std::uint64_t max) {
    return [=](Config& c, const std::string& v) -> std::optional<std::string> {
        std::uint64_t n;
        if (auto e = ParseU64(v, min, max, &n)) return e;
        c.*field = static_cast<std::size_t>(n);
        return std::nullopt;
    };
}

Setter Millis(std::int64_t Config::*field, std::uint64_t min, std::uint64_t max) {
    return [=](Config& c, const std::string& v) -> std::optional<std::string> {
        std::uint64_t n;
        if (auto e = ParseU64(v, min, max, &n)) return e;
        c.*field = static_cast<std::int64_t>(n);
        return std::nullopt;
    };
}

// A limit: a whole number from 1 to 10^9 (0 would refuse everything; more is a typo).
constexpr std::uint64_t kMaxLimit = 1'000'000'000;

Setter Limit(std::int64_t Config::*field) { return Millis(field, 1, kMaxLimit); }

Setter RoleLimit(RoleLimitsConfig Config::*role, std::int64_t RoleLimitsConfig::*field) {
    return [=](Config& c, const std::string& v) -> std::optional<std::string> {
        std::uint64_t n;
        if (auto e = ParseU64(v, 1, kMaxLimit, &n)) return e;
        (c.*role).*field = static_cast<std::int64_t>(n);
        return std::nullopt;
    };
}

// [limits.<role>] keys of one role.
void AddRoleLimitKeys(std::vector<KeyDef>& defs, const char* role, const char* env_role,
                      RoleLimitsConfig Config::*member) {
    struct Field {
        const char* name;
        const char* help;
        std::int64_t RoleLimitsConfig::*field;
    };
    static const Field kFields[] = {
        {"rpm", "model calls per minute per user", &RoleLimitsConfig::rpm},
        {"rpm_burst", "model calls at once above the rate (default: rpm)",
         &RoleLimitsConfig::rpm_burst},
        {"tpm", "tokens per minute per user", &RoleLimitsConfig::tpm},
        {"tpm_burst", "tokens at once above the rate (default: tpm)", &RoleLimitsConfig::tpm_burst},
        {"daily_tokens", "tokens per user per UTC day", &RoleLimitsConfig::daily_tokens},
        {"monthly_tokens", "tokens per user per UTC month", &RoleLimitsConfig::monthly_tokens},
        {"daily_cost_cny", "cost per user per UTC day, whole CNY",
         &RoleLimitsConfig::daily_cost_cny},
        {"monthly_cost_cny", "cost per user per UTC month, whole CNY",
         &RoleLimitsConfig::monthly_cost_cny},
    };
    // The names live as long as the program (the table is built once); a deque never moves
    // its elements, so the pointers stay valid.
    static std::deque<std::string> names;
    for (const Field& f : kFields) {
        names.push_back(std::string("limits.") + role + "." + f.name);
        const char* toml = names.back().c_str();
        std::string env = std::string("BAILIAN_HUB_LIMITS_") + env_role + "_" + f.name;
        for (auto& ch : env) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        names.push_back(env);
        const char* env_name = names.back().c_str();
        std::string help = std::string(f.help) + " (role " + role + ")";
        names.push_back(help);
        defs.push_back({{toml, env_name, names.back().c_str()}, RoleLimit(member, f.field)});
    }
}

Setter Text(std::string Config::*field, bool allow_empty = false) {
    return [=](Config& c, const std::string& v) -> std::optional<std::string> {
        if (v.empty() && !allow_empty) return "must not be empty";
        c.*field = v;
        return std::nullopt;
    };
}

// "HOST:PORT" or "[v6]:PORT" (localhost = 127.0.0.1).
std::optional<std::string> ParseHostPort(const std::string& v, std::string* host_out,
                                         std::uint16_t* port_out) {
    std::string host, port;
    if (!v.empty() && v.front() == '[') {
        auto close = v.find(']');
        if (close == std::string::npos || close + 1 >= v.size() || v[close + 1] != ':')
            return "must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080";
        host = v.substr(1, close - 1);
        port = v.substr(close + 2);
    } else {
        auto colon = v.rfind(':');
        if (colon == std::string::npos || colon == 0)
            return "must be HOST:PORT, e.g. 127.0.0.1:8080";
        host = v.substr(0, colon);
        port = v.substr(colon + 1);
    }
    std::uint64_t p;
    if (auto e = ParseU64(port, 0, 65535, &p)) return "port " + *e;
    bool ok_host = !host.empty() && std::all_of(host.begin(), host.end(), [](char ch) {
        return std::isxdigit(static_cast<unsigned char>(ch)) || ch == '.' || ch == ':';
    });
    if (!ok_host && host != "localhost") return "host must be an IP address, got '" + host + "'";
    *host_out = host == "localhost" ? "127.0.0.1" : host;
    *port_out = static_cast<std::uint16_t>(p);
    return std::nullopt;
}

std::optional<std::string> SetListen(Config& c, const std::string& v) {
    return ParseHostPort(v, &c.listen_host, &c.listen_port);
}

std::optional<std::string> SetMetricsListen(Config& c, const std::string& v) {
    if (v == "off" || v.empty()) {
        c.metrics_listen_host.clear();
        return std::nullopt;
    }
    if (auto e = ParseHostPort(v, &c.metrics_listen_host, &c.metrics_listen_port))
        return *e + " (or off)";
    return std::nullopt;
}

std::optional<std::string> SetDatabaseUrl(Config& c, const std::string& v) {
    if (v.rfind("sqlite:", 0) == 0) {
        if (SqlitePathOfUrl(v).empty()) return "sqlite URL needs a file path, e.g. sqlite:./var/hub.db";
        c.database_url = v;
        return std::nullopt;
    }
    if (v.rfind("mysql://", 0) == 0) {
        auto url = store::mysql::ParseUrl(v);  // its messages never hold the password
        if (!url.ok()) return url.error().public_message;
        c.database_url = v;
        return std::nullopt;
    }
    return "must start with sqlite: or mysql:// (e.g. sqlite:./var/bailian-hub.db, "
           "mysql://hub:PASSWORD@127.0.0.1:3306/hub)";
}

std::optional<std::string> SetReplicaUrl(Config& c, const std::string& v) {
    if (v.empty()) {
        c.database_replica_url.clear();
        return std::nullopt;
    }
    if (v.rfind("mysql://", 0) != 0) return "must be a mysql:// URL (a MySQL/MariaDB replica)";
    auto url = store::mysql::ParseUrl(v);
    if (!url.ok()) return url.error().public_message;
    c.database_replica_url = v;
    return std::nullopt;
}

std::optional<std::string> SetLogLevel(Config& c, const std::string& v) {
    static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
    for (auto* l : kLevels) {
        if (v == l) {
            c.log_level = v;
            return std::nullopt;
        }
    }
    return "must be one of trace, debug, info, warn, error, off";
}

std::optional<std::string> SetLogFormat(Config& c, const std::string& v) {
    if (v != "json" && v != "text") return "must be json or text";
    c.log_format = v;
    return std::nullopt;
}

std::optional<std::string> SetBaseUrl(Config& c, const std::string& v) {
    if (v.empty()) {
        c.dashscope_base_url.clear();
        return std::nullopt;
    }
    bool https = v.rfind("https://", 0) == 0, http = v.rfind("http://", 0) == 0;
    if (!https && !http) return "must start with https:// (or http:// for a loopback simulator)";
    std::string rest = v.substr(https ? 8 : 7);
    if (rest.empty() || rest.find('/') != std::string::npos)
        return "must be scheme, host and port only (no path), e.g. https://dashscope.aliyuncs.com";
    c.dashscope_base_url = v;
    return std::nullopt;
}

std::optional<std::string> SetDbSync(Config& c, const std::string& v) {
    if (v != "full" && v != "normal") return "must be full or normal";
    c.db_sync = v;
    return std::nullopt;
}

std::optional<std::string> SetRegion(Config& c, const std::string& v) {
    if (v != "cn-beijing" && v != "intl" && v != "us") return "must be cn-beijing, intl or us";
    c.dashscope_region = v;
    return std::nullopt;
}

// A comma-separated list (TOML arrays arrive joined by commas): each item trimmed, empty ones
// dropped, each checked by `check` (which may normalise it; a message = refused), then stored.
using ItemCheck = std::function<std::optional<std::string>(std::string&)>;
Setter ListOf(std::vector<std::string> Config::*field, ItemCheck check = {}) {
    return [=](Config& c, const std::string& v) -> std::optional<std::string> {
        std::vector<std::string> items;
        std::stringstream ss(v);
        std::string item;
        while (std::getline(ss, item, ',')) {
            item.erase(0, item.find_first_not_of(' '));
            item.erase(item.find_last_not_of(' ') + 1);
            if (item.empty()) continue;
            if (check) {
                if (auto problem = check(item)) return problem;
            }
            items.push_back(item);
        }
        c.*field = std::move(items);
        return std::nullopt;
    };
}

std::optional<std::string> CheckIp(std::string& item) {
    bool ok = std::all_of(item.begin(), item.end(), [](char ch) {
        return std::isxdigit(static_cast<unsigned char>(ch)) || ch == '.' || ch == ':';
    });
    if (!ok) return "must be a comma-separated list of IP addresses, got '" + item + "'";
    return std::nullopt;
}

// "90s", "30m", "6h", "1d" or a bare number of seconds.
std::optional<std::int64_t> ParseDurationSeconds(const std::string& v) {
    if (v.empty()) return std::nullopt;
    std::int64_t unit = 1;
    std::string digits = v;
    switch (v.back()) {
        case 's': unit = 1; digits.pop_back(); break;
        case 'm': unit = 60; digits.pop_back(); break;
        case 'h': unit = 3600; digits.pop_back(); break;
        case 'd': unit = 86'400; digits.pop_back(); break;
        default: break;
    }
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || p != digits.data() + digits.size() || digits.empty() ||
        n > 1'000'000'000)
        return std::nullopt;
    return static_cast<std::int64_t>(n) * unit;
}

const std::vector<KeyDef>& BaseDefs() {
    static const std::vector<KeyDef> defs = {
        {{"server.listen", "BAILIAN_HUB_LISTEN", "HOST:PORT to listen on"}, SetListen},
        {{"metrics.listen", "BAILIAN_HUB_METRICS_LISTEN",
          "HOST:PORT of the separate /metrics listener, or off"},
         SetMetricsListen},
        {{"metrics.token", "BAILIAN_HUB_METRICS_TOKEN",
          "bearer token for /metrics; also serves /metrics on the main listener"},
         [](Config& c, const std::string& v) -> std::optional<std::string> {
             if (!v.empty() && v.size() < 16) return "must be at least 16 characters";
             c.metrics_token = core::Secret<std::string>(v);
             return std::nullopt;
         }},
        {{"data_dir", "BAILIAN_HUB_DATA_DIR", "folder for the database, keys and files"},
         Text(&Config::data_dir)},
        {{"database.url", "BAILIAN_HUB_DATABASE_URL", "sqlite:PATH or mysql://USER:PASSWORD@HOST:PORT/DB"},
         SetDatabaseUrl},
        {{"database.replica_url", "BAILIAN_HUB_DATABASE_REPLICA_URL",
          "mysql:// URL of a read replica for heavy reads"},
         SetReplicaUrl},
        {{"database.replica_max_lag_ms", "BAILIAN_HUB_DATABASE_REPLICA_MAX_LAG_MS",
          "replica lag past which heavy reads go to the primary"},
         Millis(&Config::database_replica_max_lag_ms, 100, 3'600'000)},
        {{"redis.url", "BAILIAN_HUB_REDIS_URL",
          "redis://[[USER]:PASSWORD@]HOST:PORT/DB (rediss:// for TLS); empty = one hub"},
         [](Config& c, const std::string& v) -> std::optional<std::string> {
             // Checked at start-up, where a malformed URL is a warning unless redis.required.
             c.redis_url = core::Secret<std::string>(v);
             return std::nullopt;
         }},
        {{"redis.required", "BAILIAN_HUB_REDIS_REQUIRED",
          "true: exit 2 when Redis cannot be reached at start; false: warn, decide locally"},
         [](Config& c, const std::string& v) -> std::optional<std::string> {
             if (v != "true" && v != "false") return "must be true or false";
             c.redis_required = v == "true";
             return std::nullopt;
         }},
        {{"redis.timeout_ms", "BAILIAN_HUB_REDIS_TIMEOUT_MS",
          "most a request waits for Redis before deciding locally"},
         Millis(&Config::redis_timeout_ms, 1, 10'000)},
        {{"redis.fallback_share", "BAILIAN_HUB_REDIS_FALLBACK_SHARE",
          "share of each limit a hub applies without Redis, 0 < x <= 1 (default 1/live hubs)"},
         [](Config& c, const std::string& v) -> std::optional<std::string> {
             if (v.empty()) {
                 c.redis_fallback_share.reset();
                 return std::nullopt;
             }
             char* end = nullptr;
             double d = std::strtod(v.c_str(), &end);
             if (end == v.c_str() || *end != '\0' || !(d > 0 && d <= 1))
                 return "must be a number above 0 and at most 1";
             c.redis_fallback_share = d;
             return std::nullopt;
         }},
        {{"redis.tls_ca", "BAILIAN_HUB_REDIS_TLS_CA", "PEM CA bundle for rediss:// (private CA)"},
         Text(&Config::redis_tls_ca, true)},
        {{"log.level", "BAILIAN_HUB_LOG_LEVEL", "trace|debug|info|warn|error|off"}, SetLogLevel},
        {{"log.format", "BAILIAN_HUB_LOG_FORMAT", "json|text"}, SetLogFormat},
        {{"web.root", "BAILIAN_HUB_WEB_ROOT", "folder of the built web UI"},
         Text(&Config::web_root, true)},
        {{"dashscope.api_key", "DASHSCOPE_API_KEY", "upstream key(s), comma-separated"},
         [](Config& c, const std::string& v) -> std::optional<std::string> {
             c.dashscope_api_key = core::Secret<std::string>(v);
             return std::nullopt;
         }},
        {{"dashscope.base_url", "DASHSCOPE_BASE_URL", "scheme://host[:port] of DashScope"},
         SetBaseUrl},
        {{"dashscope.region", "BAILIAN_HUB_DASHSCOPE_REGION", "cn-beijing|intl|us"}, SetRegion},
        {{"dashscope.connect_timeout_ms", "BAILIAN_HUB_UPSTREAM_CONNECT_TIMEOUT_MS",
          "time to connect to DashScope"},
         Millis(&Config::upstream_connect_timeout_ms, 100, 120'000)},
        {{"dashscope.first_byte_timeout_ms", "BAILIAN_HUB_UPSTREAM_FIRST_BYTE_TIMEOUT_MS",
          "time from request to the first byte of the answer"},
         Millis(&Config::upstream_first_byte_timeout_ms, 100, 900'000)},
        {{"dashscope.idle_timeout_ms", "BAILIAN_HUB_UPSTREAM_IDLE_TIMEOUT_MS",
          "longest silence inside a streamed answer"},
         Millis(&Config::upstream_idle_timeout_ms, 100, 900'000)},
        {{"server.io_threads", "BAILIAN_HUB_IO_THREADS",
          "io threads, 0 = one fewer than cores (at least one)"},
         Size(&Config::io_threads, 0, 256)},
        {{"database.workers", "BAILIAN_HUB_DB_WORKERS", "worker threads for database calls"},
         Size(&Config::db_workers, 1, 256)},
        {{"database.sync", "BAILIAN_HUB_DB_SYNC",
          "full|normal: SQLite fsync per commit (power-loss durable) or WAL NORMAL"},
         SetDbSync},
        {{"server.body_limit", "BAILIAN_HUB_BODY_LIMIT", "largest request body in bytes"},
         Size(&Config::body_limit, 1024, 1ull << 30)},
        {{"server.header_timeout_ms", "BAILIAN_HUB_HEADER_TIMEOUT_MS", "time to send headers"},
         Millis(&Config::header_timeout_ms, 100, 600'000)},
        {{"server.body_timeout_ms", "BAILIAN_HUB_BODY_TIMEOUT_MS", "time to send a request body"},
         Millis(&Config::body_timeout_ms, 100, 600'000)},
        {{"server.idle_timeout_ms", "BAILIAN_HUB_IDLE_TIMEOUT_MS", "keep-alive idle time"},
         Millis(&Config::idle_timeout_ms, 100, 3'600'000)},
        {{"server.max_connections", "BAILIAN_HUB_MAX_CONNECTIONS", "open connections at most"},
         Size(&Config::max_connections, 1, 1'000'000)},
        {{"server.shutdown_grace_ms", "BAILIAN_HUB_SHUTDOWN_GRACE_MS",
          "time in-flight requests get on SIGTERM"},
         Millis(&Config::shutdown_grace_ms, 0, 3'600'000)},
        {{"server.trusted_proxies", "BAILIAN_HUB_TRUSTED_PROXIES",
          "proxy IPs whose X-Forwarded-For is believed"},
         ListOf(&Config::trusted_proxies, CheckIp)},
        {{"tls.cert_file", "BAILIAN_HUB_TLS_CERT",
          "PEM certificate chain: the main listener speaks HTTPS"},
         Text(&Config::tls_cert_file, true)},
        {{"tls.key_file", "BAILIAN_HUB_TLS_KEY", "PEM private key of tls.cert_file"},
         Text(&Config::tls_key_file, true)},
        {{"tls.ocsp_file", "BAILIAN_HUB_TLS_OCSP_RESPONSE",
          "DER OCSP response to staple, kept fresh by the operator"},
         Text(&Config::tls_ocsp_file, true)},
        {{"tls.reload_check_ms", "BAILIAN_HUB_TLS_RELOAD_CHECK_MS",
          "how often changed certificate files are looked for; 0 = only on SIGHUP"},
         Millis(&Config::tls_reload_check_ms, 0, 3'600'000)},
        {{"tls.ticket_rotation_s", "BAILIAN_HUB_TLS_TICKET_ROTATION_S",
          "seconds between new session-ticket keys"},
         Millis(&Config::tls_ticket_rotation_s, 60, 7 * 86'400)},
        {{"tls.hsts_max_age_s", "BAILIAN_HUB_HSTS_MAX_AGE",
          "Strict-Transport-Security max-age, at least a year"},
         Millis(&Config::hsts_max_age_s, 31'536'000, 63'072'000)},
        {{"server.http_redirect_listen", "BAILIAN_HUB_HTTP_REDIRECT_LISTEN",
          "HOST:PORT of a plain listener that redirects to HTTPS, or off"},
         [](Config& c, const std::string& v) -> std::optional<std::string> {
             if (v == "off" || v.empty()) {
                 c.redirect_listen_host.clear();
                 return std::nullopt;
             }
             if (auto e = ParseHostPort(v, &c.redirect_listen_host, &c.redirect_listen_port))
                 return *e + " (or off)";
             return std::nullopt;
         }},
        {{"metrics.tls", "BAILIAN_HUB_METRICS_TLS",
          "true: the /metrics listener speaks HTTPS with the same certificate"},
         [](Config& c, const std::string& v) -> std::optional<std::string> {
             if (v != "true" && v != "false") return "must be true or false";
             c.metrics_tls = v == "true";
             return std::nullopt;
         }},
        {{"demo.sim_path", "BAILIAN_HUB_SIM_PATH", "bailian-sim binary for demo mode"},
         Text(&Config::sim_path, true)},
        {{"auth.registration_open", "BAILIAN_HUB_REGISTRATION_OPEN", "true|false"},
         [](Config& c, const std::string& v) -> std::optional<std::string> {
             if (v != "true" && v != "false") return "must be true or false";
             c.registration_open = v == "true";
             return std::nullopt;
         }},
        {{"auth.bcrypt_cost", "BAILIAN_HUB_BCRYPT_COST", "bcrypt cost, 10 to 16"},
         [](Config& c, const std::string& v) -> std::optional<std::string> {
             std::uint64_t n;
             if (auto e = ParseU64(v, 10, 16, &n)) return e;
             c.bcrypt_cost = static_cast<int>(n);
             return std::nullopt;
         }},
        {{"auth.access_ttl_s", "BAILIAN_HUB_ACCESS_TTL_S", "access token lifetime in seconds"},
         Millis(&Config::access_ttl_s, 60, 3600)},
        {{"auth.login_per_ip_per_minute", "BAILIAN_HUB_LOGIN_PER_IP_PER_MINUTE",
          "login attempts per client IP per minute"},
         Size(&Config::login_per_ip_per_minute, 1, 100'000)},
        {{"auth.login_per_account_per_minute", "BAILIAN_HUB_LOGIN_PER_ACCOUNT_PER_MINUTE",
          "login attempts per account per minute"},
         Size(&Config::login_per_account_per_minute, 1, 100'000)},
        {{"auth.register_per_ip_per_minute", "BAILIAN_HUB_REGISTER_PER_IP_PER_MINUTE",
          "registrations per client IP per minute"},
         Size(&Config::register_per_ip_per_minute, 1, 100'000)},
        {{"auth.max_pending_hashes", "BAILIAN_HUB_AUTH_MAX_PENDING_HASHES",
          "logins and registrations waiting for a password hash at most; past it 503"},
         Size(&Config::max_pending_hashes, 1, 1'000'000)},
        {{"auth.webauthn_rp_id", "BAILIAN_HUB_WEBAUTHN_RP_ID",
          "passkeys' relying-party ID (a domain); empty = the public URL's host or the Host header"},
         [](Config& c, const std::string& v) -> std::optional<std::string> {
             for (char ch : v) {
                 if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                       ch == '-'))
                     return "must be a lower-case domain name like hub.example.com (no scheme, no port)";
             }
             c.webauthn_rp_id = v;
             return std::nullopt;
         }},
        {{"auth.webauthn_origins", "BAILIAN_HUB_WEBAUTHN_ORIGINS",
          "origins passkeys may be used from (comma-separated); empty = the public URL's origin"},
         ListOf(&Config::webauthn_origins, [](std::string& item) -> std::optional<std::string> {
             if (item.rfind("https://", 0) != 0 && item.rfind("http://", 0) != 0)
                 return "must be a comma-separated list of origins like https://hub.example.com";
             if (item.back() == '/') item.pop_back();
             return std::nullopt;
         })},
        {{"auth.webauthn_challenge_ttl_s", "BAILIAN_HUB_WEBAUTHN_CHALLENGE_TTL_S",
          "seconds a passkey registration or sign-in challenge stays usable"},
         Millis(&Config::webauthn_challenge_ttl_s, 1, 3600)},
        {{"security.brute_force_failures", "BAILIAN_HUB_SECURITY_BRUTE_FORCE_FAILURES",
          "failed password sign-ins on one account within the window that make a brute_force event"},
         Millis(&Config::security_brute_force_failures, 1, 1'000'000)},
        {{"security.brute_force_window_s", "BAILIAN_HUB_SECURITY_BRUTE_FORCE_WINDOW_S",
          "brute force window, seconds"},
         Millis(&Config::security_brute_force_window_s, 1, 86'400 * 30)},
        {{"security.brute_force_lock_s", "BAILIAN_HUB_SECURITY_BRUTE_FORCE_LOCK_S",
          "password sign-in lock after a brute_force event, seconds (0 = no lock)"},
         Millis(&Config::security_brute_force_lock_s, 0, 86'400 * 30)},
        {{"security.stuffing_accounts", "BAILIAN_HUB_SECURITY_STUFFING_ACCOUNTS",
          "accounts one IP fails against within the window that make a credential_stuffing event"},
         Millis(&Config::security_stuffing_accounts, 1, 1'000'000)},
        {{"security.stuffing_window_s", "BAILIAN_HUB_SECURITY_STUFFING_WINDOW_S",
          "credential stuffing window, seconds"},
         Millis(&Config::security_stuffing_window_s, 1, 86'400 * 30)},
        {{"security.mfa_failures", "BAILIAN_HUB_SECURITY_MFA_FAILURES",
          "failed second-factor codes within the window that make an mfa_failures event"},
         Millis(&Config::security_mfa_failures, 1, 1'000'000)},
        {{"security.mfa_window_s", "BAILIAN_HUB_SECURITY_MFA_WINDOW_S", "MFA failures window, seconds"},
         Millis(&Config::security_mfa_window_s, 1, 86'400 * 30)},
        {{"security.mfa_lock_s", "BAILIAN_HUB_SECURITY_MFA_LOCK_S",
          "password sign-in lock after an mfa_failures event, seconds (0 = no lock)"},
         Millis(&Config::security_mfa_lock_s, 0, 86'400 * 30)},
        {{"security.spend_window_s", "BAILIAN_HUB_SECURITY_SPEND_WINDOW_S",
          "spend spike window, seconds"},
         Millis(&Config::security_spend_window_s, 1, 86'400)},
        {{"security.spend_baseline_s", "BAILIAN_HUB_SECURITY_SPEND_BASELINE_S",
          "spend spike baseline period before the window, seconds"},
         Millis(&Config::security_spend_baseline_s, 2, 86'400 * 30)},
        {{"security.spend_min_micro_cny", "BAILIAN_HUB_SECURITY_SPEND_MIN_MICRO_CNY",
          "least spend in the window that can be a spike, micro-CNY"},
         Millis(&Config::security_spend_min_micro_cny, 1, 1'000'000'000'000)},
        {{"security.spend_factor", "BAILIAN_HUB_SECURITY_SPEND_FACTOR",
          "a spike is at least this many times the average spend per window in the baseline"},
         Millis(&Config::security_spend_factor, 1, 1'000'000)},
        {{"security.spend_key_suspend_s", "BAILIAN_HUB_SECURITY_SPEND_KEY_SUSPEND_S",
          "platform key suspension after a spend_spike event on it, seconds (0 = none)"},
         Millis(&Config::security_spend_key_suspend_s, 0, 86'400 * 30)},
        {{"auth.issuer", "BAILIAN_HUB_JWT_ISSUER", "iss claim of access tokens"},
         Text(&Config::jwt_issuer)},
        {{"mfa.issuer", "BAILIAN_HUB_MFA_ISSUER", "issuer shown in authenticator apps (TOTP)"},
         Text(&Config::mfa_issuer)},
        {{"mfa.token_ttl_s", "BAILIAN_HUB_MFA_TOKEN_TTL_S",
          "seconds a second-step sign-in token lives"},
         Millis(&Config::mfa_token_ttl_s, 1, 3600)},
        {{"mfa.failures_per_account_per_minute", "BAILIAN_HUB_MFA_FAILURES_PER_ACCOUNT_PER_MINUTE",
          "wrong MFA codes per account per minute before 429"},
         Size(&Config::mfa_failures_per_account_per_minute, 1, 100'000)},
        {{"mfa.required_roles", "BAILIAN_HUB_MFA_REQUIRED_ROLES",
          "comma-separated roles whose members must enroll TOTP at their next sign-in"},
         ListOf(&Config::mfa_required_roles, [](std::string& item) -> std::optional<std::string> {
             if (item.empty() || item.size() > 64) return "each role must be 1 to 64 characters";
             return std::nullopt;
         })},
        {{"server.allowed_origins", "BAILIAN_HUB_ALLOWED_ORIGINS",
          "extra origins allowed to use the refresh cookie"},
         ListOf(&Config::allowed_origins, [](std::string& item) -> std::optional<std::string> {
             if (item.rfind("https://", 0) != 0 && item.rfind("http://", 0) != 0)
                 return "must be a comma-separated list of origins like https://app.example.com";
             if (item.back() == '/') item.pop_back();
             return std::nullopt;
         })},
        {{"models.default", "BAILIAN_HUB_DEFAULT_MODEL",
          "model of conversations that name none"},
         Text(&Config::default_model)},
        {{"models.disabled", "BAILIAN_HUB_DISABLED_MODELS",
          "model ids not offered (comma-separated in env)"},
         ListOf(&Config::disabled_models)},
        {{"models.title_model", "BAILIAN_HUB_TITLE_MODEL",
          "cheap model that names conversations; empty = first words of the question"},
         Text(&Config::title_model, true)},
        {{"chat.max_content_chars", "BAILIAN_HUB_MAX_CONTENT_CHARS",
          "longest message a user may send, in characters"},
         Size(&Config::max_content_chars, 1, 1'000'000)},
        {{"chat.heartbeat_ms", "BAILIAN_HUB_SSE_HEARTBEAT_MS",
          "keep-alive comment on a silent answer stream after this many ms"},
         Millis(&Config::sse_heartbeat_ms, 100, 600'000)},
        {{"chat.history_messages", "BAILIAN_HUB_CHAT_HISTORY_MESSAGES",
          "recent messages considered for the context sent upstream"},
         Size(&Config::chat_history_messages, 1, 100'000)},
        {{"images.default_model", "BAILIAN_HUB_IMAGE_MODEL",
          "image model of requests that name none"},
         Text(&Config::image_default_model)},
        {{"images.task_timeout_ms", "BAILIAN_HUB_IMAGE_TASK_TIMEOUT_MS",
          "an image task not finished after this many ms fails"},
         Millis(&Config::image_task_timeout_ms, 1'000, 86'400'000)},
        {{"images.first_poll_ms", "BAILIAN_HUB_IMAGE_FIRST_POLL_MS",
          "first wait before asking DashScope about a task (then x1.5 each time)"},
         Millis(&Config::image_first_poll_ms, 50, 60'000)},
        {{"images.max_poll_ms", "BAILIAN_HUB_IMAGE_MAX_POLL_MS",
          "longest wait between two polls of a task"},
         Millis(&Config::image_max_poll_ms, 50, 600'000)},
        {{"images.max_bytes", "BAILIAN_HUB_IMAGE_MAX_BYTES",
          "largest result image the hub downloads, in bytes"},
         Size(&Config::image_max_bytes, 1024, 1ull << 30)},
        {{"images.result_origins", "BAILIAN_HUB_IMAGE_RESULT_ORIGINS",
          "origins result images may come from (comma-separated; * allowed in https hosts)"},
         ListOf(&Config::image_result_origins, [](std::string& item) -> std::optional<std::string> {
             auto p = bailian::ParseOriginPattern(item);
             if (!p.ok())
                 return "'" + item + "' is not an origin like https://host[:port]: " +
                        p.error().public_message;
             return std::nullopt;
         })},
        {{"images.openai_wait_ms", "BAILIAN_HUB_IMAGE_OPENAI_WAIT_MS",
          "how long POST /v1/images/generations waits for its images"},
         Millis(&Config::image_openai_wait_ms, 1'000, 3'600'000)},
        {{"images.submit_grace_ms", "BAILIAN_HUB_IMAGE_SUBMIT_GRACE_MS",
          "a generation whose submit was begun by a hub that stopped before recording "
          "DashScope's answer fails (submit_interrupted) after this many ms; never resubmitted"},
         Millis(&Config::image_submit_grace_ms, 1'000, 3'600'000)},
        {{"uploads.max_bytes", "BAILIAN_HUB_UPLOAD_MAX_BYTES",
          "largest picture a user may upload, in bytes (larger: 413 before it is read)"},
         Size(&Config::upload_max_bytes, 1024, 1ull << 30)},
        {{"uploads.max_side", "BAILIAN_HUB_UPLOAD_MAX_SIDE",
          "widest and highest picture accepted, in pixels (checked before decoding)"},
         Size(&Config::upload_max_side, 16, 65'535)},
        {{"uploads.model_max_pixels", "BAILIAN_HUB_UPLOAD_MODEL_MAX_PIXELS",
          "pictures with more pixels are shrunk to this (aspect kept) before they are stored"},
         Size(&Config::upload_model_max_pixels, 256, 100'000'000)},
        {{"uploads.max_attachments", "BAILIAN_HUB_UPLOAD_MAX_ATTACHMENTS",
          "pictures one message may carry"},
         Size(&Config::upload_max_attachments, 1, 64)},
        {{"uploads.workers", "BAILIAN_HUB_UPLOAD_WORKERS",
          "threads that decode and re-encode uploaded pictures"},
         Size(&Config::upload_workers, 1, 64)},
        {{"chat.max_context_images", "BAILIAN_HUB_CHAT_MAX_CONTEXT_IMAGES",
          "pictures one vision call carries at most, history included (oldest dropped first)"},
         Size(&Config::chat_max_context_images, 1, 256)},
        {{"server.public_url", "BAILIAN_HUB_PUBLIC_URL",
          "scheme://host[:port] clients reach the hub at (absolute URLs in /v1 answers)"},
         [](Config& c, const std::string& v) -> std::optional<std::string> {
             std::string u = v;
             while (!u.empty() && u.back() == '/') u.pop_back();
             if (!u.empty() && u.rfind("https://", 0) != 0 && u.rfind("http://", 0) != 0)
                 return "must be like https://hub.example.com";
             c.public_url = u;
             return std::nullopt;
         }},
        {{"sso.providers_file", "BAILIAN_HUB_OIDC_PROVIDERS_FILE",
          "JSON file listing the OpenID Connect sign-in providers (docs/operations.md); empty = "
          "no single sign-on"},
         Text(&Config::oidc_providers_file, true)},
        {{"cluster.lease_ttl_ms", "BAILIAN_HUB_LEASE_TTL_MS",
          "lease of work that runs on one hub at a time (image tasks, backups): renewed every "
          "third of it; a dead hub's work is taken over after it"},
         Millis(&Config::lease_ttl_ms, 600, 600'000)},
        {{"backup.dir", "BAILIAN_HUB_BACKUP_DIR",
          "folder for scheduled backups; empty = no scheduled backups"},
         Text(&Config::backup_dir, true)},
        {{"backup.every", "BAILIAN_HUB_BACKUP_EVERY",
          "time between scheduled backups: 90s, 30m, 6h, 1d (at least 1s)"},
         [](Config& c, const std::string& v) -> std::optional<std::string> {
             auto s = ParseDurationSeconds(v);
             if (!s || *s < 1 || *s > 366 * 86'400)
                 return "must be a duration like 90s, 30m, 6h or 1d (1s to 366d)";
             c.backup_every_s = *s;
             return std::nullopt;
         }},
        {{"backup.keep", "BAILIAN_HUB_BACKUP_KEEP",
          "scheduled backups kept; older ones are deleted"},
         Size(&Config::backup_keep, 1, 10'000)},
        {{"backup.passphrase", "BAILIAN_HUB_BACKUP_PASSPHRASE",
          "encrypts backups (scrypt + AES-256-GCM); environment only, never in a file"},
         [](Config& c, const std::string& v) -> std::optional<std::string> {
             if (!v.empty() && v.size() < 12) return "must be at least 12 characters";
             c.backup_passphrase = core::Secret<std::string>(v);
             return std::nullopt;
         }},
        {{"exports.ttl_s", "BAILIAN_HUB_EXPORT_TTL_S",
          "seconds a user's data export stays downloadable"},
         Millis(&Config::export_ttl_s, 1, 30 * 86'400)},
        {{"cache.max_entries", "BAILIAN_HUB_CACHE_MAX_ENTRIES", "entries of the in-process cache"},
         Size(&Config::cache_max_entries, 1, 100'000'000)},
        {{"cache.max_bytes", "BAILIAN_HUB_CACHE_MAX_BYTES", "bytes of the in-process cache"},
         Size(&Config::cache_max_bytes, 1024, 1ull << 40)},
        {{"limits.max_concurrent_calls", "BAILIAN_HUB_MAX_CONCURRENT_CALLS",
          "model calls in flight at once; past it new ones get 503 at once"},
         Limit(&Config::max_concurrent_calls)},
        {{"limits.unauthenticated_per_ip_per_minute",
          "BAILIAN_HUB_LIMITS_UNAUTHENTICATED_PER_IP_PER_MINUTE",
          "failed authentications on the model routes per client IP per minute"},
         Limit(&Config::unauthenticated_per_ip_per_minute)},
    };
    return defs;
}

const std::vector<KeyDef>& Defs() {
    static const std::vector<KeyDef> defs = [] {
        std::vector<KeyDef> d = BaseDefs();
        AddRoleLimitKeys(d, "user", "user", &Config::limits_user);
        AddRoleLimitKeys(d, "admin", "admin", &Config::limits_admin);
        return d;
    }();
    return defs;
}

// [[models.custom]]: an array of tables, the one setting that is not a single value.
std::optional<std::string> ParseCustomModels(const toml::array& arr, Config& c) {
    c.custom_models.clear();
    for (const auto& node : arr) {
        const toml::table* t = node.as_table();
        if (!t) return "must be an array of tables ([[models.custom]])";
        ModelConfig m;
        for (const auto& entry : *t) {
            // Named variables, not structured bindings: clang 14 (the fuzz and checking builds)
            // cannot capture bindings in the lambdas below.
            std::string key(entry.first.str());
            const toml::node& v = entry.second;
            auto number = [&](double* out) -> std::optional<std::string> {
                if (auto f = v.as_floating_point()) *out = f->get();
                else if (auto i = v.as_integer()) *out = static_cast<double>(i->get());
                else return key + " must be a number";
                if (*out < 0) return key + " must not be negative";
                return std::nullopt;
            };
            auto whole = [&](std::int64_t* out) -> std::optional<std::string> {
                auto i = v.as_integer();
                if (!i || i->get() < 0) return key + " must be a whole number >= 0";
                *out = i->get();
                return std::nullopt;
            };
            auto flag = [&](bool* out) -> std::optional<std::string> {
                auto b = v.as_boolean();
                if (!b) return key + " must be true or false";
                *out = b->get();
                return std::nullopt;
            };
            std::optional<std::string> err;
            if (key == "id" || key == "kind") {
                auto s = v.as_string();
                if (!s) return key + " must be a string";
                (key == "id" ? m.id : m.kind) = s->get();
            } else if (key == "context_window") {
                err = whole(&m.context_window);
            } else if (key == "max_input_tokens") {
                err = whole(&m.max_input_tokens);
            } else if (key == "max_output_tokens") {
                err = whole(&m.max_output_tokens);
            } else if (key == "input_price") {
                err = number(&m.input_price);
            } else if (key == "output_price") {
                err = number(&m.output_price);
            } else if (key == "thinking_output_price") {
                err = number(&m.thinking_output_price);
            } else if (key == "image_price") {
                err = number(&m.image_price);
            } else if (key == "thinking") {
                err = flag(&m.thinking);
            } else if (key == "enabled") {
                err = flag(&m.enabled);
            } else {
                return "has an unknown field '" + key + "'";
            }
            if (err) return *err;
        }
        if (m.id.empty()) return "entries need an id";
        if (m.kind != "chat" && m.kind != "vision" && m.kind != "image")
            return "kind of '" + m.id + "' must be chat, vision or image";
        if (m.kind != "image" && m.context_window <= 0)
            return "'" + m.id + "' needs a context_window";
        c.custom_models.push_back(std::move(m));
    }
    return std::nullopt;
}

std::optional<std::string> TomlValueToString(const toml::node& n) {
    if (auto s = n.as_string()) return s->get();
    if (auto i = n.as_integer()) return std::to_string(i->get());
    if (auto b = n.as_boolean()) return b->get() ? "true" : "false";
    if (auto a = n.as_array()) {
        std::string out;
        for (const auto& e : *a) {
            auto s = TomlValueToString(e);
            if (!s) return std::nullopt;
            if (!out.empty()) out += ",";
            out += *s;
        }
        return out;
    }
    return std::nullopt;
}

void CollectLeaves(const toml::table& t, const std::string& prefix,
                   std::vector<std::pair<std::string, const toml::node*>>* out) {
    for (const auto& [k, v] : t) {
        std::string name = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
        if (auto sub = v.as_table()) {
            CollectLeaves(*sub, name, out);
        } else {
            out->push_back({name, &v});
        }
    }
}

core::Error BadKey(const std::string& key, const std::string& problem) {
    return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_config",
                             "config: " + key + " " + problem);
}

}  // namespace

const std::vector<ConfigKey>& ConfigKeys() {
    static const std::vector<ConfigKey> keys = [] {
        std::vector<ConfigKey> k;
        for (const auto& d : Defs()) k.push_back(d.key);
        return k;
    }();
    return keys;
}

std::string SqlitePathOfUrl(std::string_view url) {
    if (url.rfind("sqlite:", 0) != 0) return "";
    std::string_view path = url.substr(7);
    if (path.rfind("//", 0) == 0) path.remove_prefix(2);
    return std::string(path);
}

std::string Config::SqlitePath() const {
    if (database_url.empty()) return data_dir + "/bailian-hub.db";
    return SqlitePathOfUrl(database_url);
}

namespace {
bool IsLoopbackHost(const std::string& host) {
    return host.rfind("127.", 0) == 0 || host == "::1";
}
}  // namespace

bool Config::IsLoopback() const { return IsLoopbackHost(listen_host); }

core::Result<Config> LoadConfig(const std::string& toml_text, const std::string& toml_name,
                                const std::map<std::string, std::string>& env) {
    Config c;
    if (!toml_text.empty()) {
        toml::table tbl;
        try {
            tbl = toml::parse(toml_text, toml_name);
        } catch (const toml::parse_error& e) {
            std::ostringstream msg;
            msg << "config: " << toml_name << ":" << e.source().begin.line << ":"
                << e.source().begin.column << ": " << e.description();
            return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_config", msg.str());
        }
        std::vector<std::pair<std::string, const toml::node*>> leaves;
        CollectLeaves(tbl, "", &leaves);
        for (const auto& leaf : leaves) {
            const std::string& name = leaf.first;  // captured below: no structured binding
            const toml::node* node = leaf.second;
            if (name == "models.custom") {
                const toml::array* arr = node->as_array();
                if (!arr) return BadKey(name, "must be an array of tables ([[models.custom]])");
                if (auto e = ParseCustomModels(*arr, c)) return BadKey(name, *e);
                continue;
            }
            auto it = std::find_if(Defs().begin(), Defs().end(),
                                   [&](const KeyDef& d) { return name == d.key.toml; });
            if (it == Defs().end()) return BadKey(name, "is not a known setting");
            auto text = TomlValueToString(*node);
            if (!text) return BadKey(name, "has an unsupported value type");
            if (auto e = it->set(c, *text)) return BadKey(name, *e);
        }
    }
    for (const auto& d : Defs()) {
        auto it = env.find(d.key.env);
        if (it == env.end()) continue;
        if (auto e = d.set(c, it->second)) return BadKey(d.key.env, *e);
    }
    if (!c.database_replica_url.empty() && !c.UsesMysql()) {
        return BadKey("database.replica_url",
                      "needs a mysql:// database.url (BAILIAN_HUB_DATABASE_URL): a replica "
                      "follows a MySQL/MariaDB primary");
    }
    if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
        return BadKey(c.tls_cert_file.empty() ? "tls.cert_file" : "tls.key_file",
                      "is needed too: set both BAILIAN_HUB_TLS_CERT and BAILIAN_HUB_TLS_KEY");
    }
    if (!c.Tls() && !c.IsLoopback() && c.trusted_proxies.empty()) {
        return BadKey("server.listen",
                      "is not a loopback address: plain HTTP is only served on loopback or behind "
                      "a TLS-terminating proxy listed in server.trusted_proxies; or set "
                      "BAILIAN_HUB_TLS_CERT and BAILIAN_HUB_TLS_KEY for HTTPS");
    }
    if (!c.Tls() && !c.redirect_listen_host.empty()) {
        return BadKey("server.http_redirect_listen",
                      "redirects to HTTPS: set BAILIAN_HUB_TLS_CERT and BAILIAN_HUB_TLS_KEY");
    }
    if (!c.Tls() && c.metrics_tls) {
        return BadKey("metrics.tls", "needs BAILIAN_HUB_TLS_CERT and BAILIAN_HUB_TLS_KEY");
    }
    if (!c.metrics_listen_host.empty() && !IsLoopbackHost(c.metrics_listen_host) &&
        c.metrics_token.Reveal().empty()) {
        return BadKey("metrics.listen",
                      "is not a loopback address: set metrics.token (BAILIAN_HUB_METRICS_TOKEN) "
                      "so that only your scraper can read the metrics");
    }
    return c;
}

std::map<std::string, std::string> ProcessEnvironment() {
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return env;
}

std::size_t IoThreads(const Config& cfg, unsigned cores) {
    if (cfg.io_threads) return cfg.io_threads;
    return cores > 1 ? cores - 1 : 1;
}

}  // namespace hub::app
