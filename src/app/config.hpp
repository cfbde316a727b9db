#pragma once
// Typed configuration: defaults, then an optional TOML file, then the environment.
// A bad value is a start-up error naming the key and the problem.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace hub::app {

// One [[models.custom]] table: a model added to the catalog, or a built-in one re-priced.
// Prices in CNY per 1,000 tokens (image models: per image).
struct ModelConfig {
    std::string id;
    std::string kind = "chat";  // chat | vision | image
    std::int64_t context_window = 0;
    std::int64_t max_input_tokens = 0;
    std::int64_t max_output_tokens = 0;
    double input_price = 0;
    double output_price = 0;
    double thinking_output_price = 0;
    double image_price = 0;
    bool thinking = false;
    bool enabled = true;
};

// Default limits of a role on model calls (services::Limits). A burst of 0 follows its rate.
struct RoleLimitsConfig {
    std::int64_t rpm = 600;
    std::int64_t rpm_burst = 0;
    std::int64_t tpm = 1'000'000;
    std::int64_t tpm_burst = 0;
    std::int64_t daily_tokens = 10'000'000;
    std::int64_t monthly_tokens = 200'000'000;
    std::int64_t daily_cost_cny = 200;
    std::int64_t monthly_cost_cny = 1'000;
};

// The file of a `sqlite:PATH` (or `sqlite://PATH`) URL; "" for another URL or no path.
std::string SqlitePathOfUrl(std::string_view url);

struct Config {
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8080;
    // The separate /metrics listener; empty host = off. With metrics_token set, /metrics also
    // answers on the main listener, and both ask for the token.
    std::string metrics_listen_host = "127.0.0.1";
    std::uint16_t metrics_listen_port = 9464;
    core::Secret<std::string> metrics_token;
    std::string data_dir = "./var";
    std::string database_url;  // empty = sqlite:<data_dir>/bailian-hub.db; or mysql://...
    // A MySQL/MariaDB read replica for heavy reads (empty = none), and the lag past which it
    // is skipped.
    std::string database_replica_url;
    std::int64_t database_replica_max_lag_ms = 5'000;
    // Redis shared by many hubs (limits, the bus); empty = one hub, everything in process.
    // Kept as given (it may hold a password); parsed at start-up, where a malformed one is a
    // warning and the local fallback (or exit 2 when redis_required).
    core::Secret<std::string> redis_url;
    bool redis_required = false;
    std::int64_t redis_timeout_ms = 50;
    std::optional<double> redis_fallback_share;  // 0 < x <= 1; unset = 1 / live hubs
    std::string redis_tls_ca;                     // PEM bundle of a private CA (rediss://)
    std::string log_level = "info";
    std::string log_format = "json";
    std::string web_root;  // empty = web/dist next to the working directory, if present
    core::Secret<std::string> dashscope_api_key;  // comma-separated keys allowed
    std::string dashscope_base_url;               // scheme://host[:port]; empty = region preset
    std::string dashscope_region = "cn-beijing";
    std::int64_t upstream_connect_timeout_ms = 5'000;
    std::int64_t upstream_first_byte_timeout_ms = 60'000;
    std::int64_t upstream_idle_timeout_ms = 60'000;
    std::size_t io_threads = 0;  // 0 = one fewer than cores, at least one (IoThreads)
    // Writes wait for their group's commit on these threads: more workers, larger groups.
    std::size_t db_workers = 16;
    // SQLite's synchronous mode (BAILIAN_HUB_DB_SYNC): "full" (default: an fsync per commit
    // group, power-loss durable) or "normal" (WAL: survives kill -9 of the hub; a power cut or
    // OS crash may lose the last commits). Ignored on MySQL/MariaDB.
    std::string db_sync = "full";
    std::size_t body_limit = 1 << 20;
    std::int64_t header_timeout_ms = 10'000;
    std::int64_t body_timeout_ms = 30'000;
    std::int64_t idle_timeout_ms = 60'000;
    std::size_t max_connections = 10'000;
    std::int64_t shutdown_grace_ms = 20'000;
    std::vector<std::string> trusted_proxies;
    // HTTPS in the hub: certificate chain and key (PEM); both or neither.
    std::string tls_cert_file;
    std::string tls_key_file;
    std::string tls_ocsp_file;             // optional stapled OCSP response (DER)
    std::int64_t tls_reload_check_ms = 5'000;  // how often changed files are looked for; 0 = off
    std::int64_t tls_ticket_rotation_s = 12 * 3600;
    bool metrics_tls = false;              // the /metrics listener speaks HTTPS too
    // A plain listener that only redirects to HTTPS (308); empty host = off.
    std::string redirect_listen_host;
    std::uint16_t redirect_listen_port = 0;
    std::int64_t hsts_max_age_s = 31'536'000;  // on HTTPS answers (and behind a TLS proxy)
    std::string sim_path;  // bailian-sim binary for demo mode; empty = next to bailian-hub
    bool registration_open = true;
    int bcrypt_cost = 12;
    std::int64_t access_ttl_s = 900;
    std::string jwt_issuer = "bailian-hub";
    std::vector<std::string> allowed_origins;  // CORS / refresh-cookie allow-list
    std::size_t login_per_ip_per_minute = 20;
    std::size_t login_per_account_per_minute = 5;
    std::size_t register_per_ip_per_minute = 5;
    std::size_t max_pending_hashes = 64;  // logins/registrations queued for bcrypt at most
    // Passkeys (WebAuthn): the RP ID (empty = public_url's host, else the request's Host name),
    // the origins assertions may come from (empty = public_url's origin, else the request's
    // own), and how long a registration or sign-in challenge stays usable.
    std::string webauthn_rp_id;
    std::vector<std::string> webauthn_origins;
    std::int64_t webauthn_challenge_ttl_s = 300;
    // MFA (TOTP): the otpauth:// issuer, the second-step token lifetime, wrong codes allowed
    // per account per minute, and the roles whose members must enroll (empty = none).
    std::string mfa_issuer = "Bailian Hub";
    std::int64_t mfa_token_ttl_s = 300;
    std::size_t mfa_failures_per_account_per_minute = 10;
    std::vector<std::string> mfa_required_roles;
    // Security events (services/security_events.hpp). Times in seconds; a lock of 0 = none.
    std::int64_t security_brute_force_failures = 5;
    std::int64_t security_brute_force_window_s = 900;
    std::int64_t security_brute_force_lock_s = 900;
    std::int64_t security_stuffing_accounts = 10;
    std::int64_t security_stuffing_window_s = 600;
    std::int64_t security_mfa_failures = 3;
    std::int64_t security_mfa_window_s = 900;
    std::int64_t security_mfa_lock_s = 0;
    std::int64_t security_spend_window_s = 300;
    std::int64_t security_spend_baseline_s = 86'400;
    std::int64_t security_spend_min_micro_cny = 1'000'000;
    std::int64_t security_spend_factor = 10;
    std::int64_t security_spend_key_suspend_s = 3600;

    // Limits on model calls: [limits.user] for every role without its own table, [limits.admin].
    RoleLimitsConfig limits_user;
    RoleLimitsConfig limits_admin{1200, 0, 2'000'000, 0, 50'000'000, 1'000'000'000, 1'000, 10'000};
    std::int64_t unauthenticated_per_ip_per_minute = 60;
    // Model calls in flight at once; bench/README.md row 3: past ~1,300 streams on a 2-core
    // machine every stream slows down together.
    std::int64_t max_concurrent_calls = 1'000;

    // Models and chat.
    std::string default_model = "qwen-plus";
    std::vector<std::string> disabled_models;
    std::vector<ModelConfig> custom_models;  // [[models.custom]] tables (config file only)
    std::string title_model = "qwen-flash";  // empty = titles from the first words only
    std::size_t max_content_chars = 32'000;
    std::int64_t sse_heartbeat_ms = 15'000;
    std::size_t chat_history_messages = 200;  // recent messages kept per conversation
    std::size_t cache_max_entries = 10'000;
    std::size_t cache_max_bytes = 64u << 20;

    // Images (Wanx).
    std::string image_default_model = "wan2.2-t2i-flash";
    std::int64_t image_task_timeout_ms = 15 * 60 * 1000;
    std::int64_t image_first_poll_ms = 1'000;
    std::int64_t image_max_poll_ms = 10'000;
    std::size_t image_max_bytes = 20u << 20;
    // Origins result images may be downloaded from; empty = DashScope's result hosts. The
    // configured DashScope base URL's origin is always allowed.
    std::vector<std::string> image_result_origins;
    std::int64_t image_openai_wait_ms = 120'000;
    // A submit begun by a hub that stopped before recording DashScope's answer is ended as
    // submit_interrupted after this long (never submitted twice).
    std::int64_t image_submit_grace_ms = 30'000;
    std::string public_url;  // scheme://host[:port] clients use; empty = the Host header
    // Single sign-on: a JSON file of OpenID Connect providers (app/sso_config.hpp); empty = off.
    std::string oidc_providers_file;

    // Work that runs on one hub at a time (image-task poller, scheduled backups): the lease
    // in the database is taken for this long and renewed every third of it.
    std::int64_t lease_ttl_ms = 5'000;

    // Scheduled backups (empty dir = off) and the passphrase they (and `backup`) encrypt with.
    std::string backup_dir;
    std::int64_t backup_every_s = 24 * 3600;
    std::size_t backup_keep = 7;
    core::Secret<std::string> backup_passphrase;
    // A user's data export stays downloadable this long, then it is deleted.
    std::int64_t export_ttl_s = 24 * 3600;

    // Uploaded pictures (chat attachments).
    std::size_t upload_max_bytes = 10u << 20;
    std::size_t upload_max_side = 4096;  // pixels, each side
    std::size_t upload_model_max_pixels = 1280 * 28 * 28;  // larger pictures are shrunk
    std::size_t upload_max_attachments = 4;                // per message
    std::size_t upload_workers = 2;                        // the media pool (decode/encode)
    std::size_t chat_max_context_images = 8;               // pictures in one vision call

    // Derived.
    std::string SqlitePath() const;  // the file of a sqlite database_url
    bool UsesMysql() const { return database_url.rfind("mysql://", 0) == 0; }
    bool IsLoopback() const;
    bool Tls() const { return !tls_cert_file.empty(); }
};

// Where each key comes from: TOML path and environment variable.
struct ConfigKey {
    const char* toml;  // e.g. "server.listen"
    const char* env;   // e.g. "BAILIAN_HUB_LISTEN"
    const char* help;
};
const std::vector<ConfigKey>& ConfigKeys();

// `toml_text` is the content of the --config file (empty = none); `env` the environment.
core::Result<Config> LoadConfig(const std::string& toml_text, const std::string& toml_name,
                                const std::map<std::string, std::string>& env);
std::map<std::string, std::string> ProcessEnvironment();

// The io threads to run on a machine with `cores` cores: `server.io_threads`, or by default one
// fewer than the cores and at least one. The core left over carries the SQLite writer thread,
// the crypto pool and the kernel's side of the sockets; measured in bench/README.md.
std::size_t IoThreads(const Config& cfg, unsigned cores);

}  // namespace hub::app
