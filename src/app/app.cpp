#include "app/app.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <filesystem>
#include <functional>
#include <cstdio>
#include <fstream>
#include <sstream>
#include "crypto/master_key.hpp"
#include <iostream>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/deps.hpp"
#include "app/store_open.hpp"
#include "api/errors.hpp"
#include "async/offload.hpp"
#include "async/write_lane.hpp"
#include "core/id.hpp"
#include "crypto/crypto.hpp"
#include "http/https_redirect.hpp"
#include "http/server.hpp"
#include "http/tls.hpp"
#include "http/static_files.hpp"
#include "obs/logging.hpp"
#include "services/health.hpp"
#include "app/redis_wiring.hpp"
#include "limit/monotonic_clock.hpp"
#include "app/demo.hpp"
#include "bailian/dashscope_client.hpp"
#include "http/client.hpp"
#include "services/accounts.hpp"
#include "services/sso.hpp"
#include "app/sso_config.hpp"
#include "app/models_config.hpp"
#include "cache/bus.hpp"
#include "cache/lru_cache.hpp"
#include "services/chat.hpp"
#include "services/conversations.hpp"
#include "services/data_rights.hpp"
#include "services/passkeys.hpp"
#include "services/mfa.hpp"
#include "services/history.hpp"
#include "services/quota_sync.hpp"
#include "services/images.hpp"
#include "services/leases.hpp"
#include "services/uploads.hpp"
#include "store/file_store.hpp"
#include "services/api_keys.hpp"
#include "services/models.hpp"
#include "services/openai_compat.hpp"
#include "services/passthrough.hpp"
#include "services/limits.hpp"
#include "services/usage.hpp"
#include "services/roles.hpp"
#include "services/security_events.hpp"
#include "services/upstream_keys.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "app/security.hpp"
#include "app/backup.hpp"
#include "app/metrics.hpp"
#include "obs/metrics.hpp"

namespace hub::app {

namespace fs = std::filesystem;

namespace {

void InitLogs(const Config& cfg) {
    obs::Level level = obs::Level::kInfo;
    obs::LogFormat format = obs::LogFormat::kJson;
    obs::ParseLevel(cfg.log_level, &level);
    obs::ParseFormat(cfg.log_format, &format);
    obs::InitLogging(format, level);
}

// The data dir holds the database and secrets: create it private.
bool PrepareDataDir(const Config& cfg) {
    std::error_code ec;
    fs::create_directories(cfg.data_dir, ec);
    if (ec) {
        std::cerr << "bailian-hub: cannot create data dir " << cfg.data_dir << ": " << ec.message()
                  << "\n";
        return false;
    }
    fs::permissions(cfg.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (!cfg.UsesMysql()) {
        auto db_parent = fs::path(cfg.SqlitePath()).parent_path();
        if (!db_parent.empty()) fs::create_directories(db_parent, ec);
    }
    return true;
}

std::vector<std::string> SplitKeys(const std::string& csv) {
    std::vector<std::string> out;
    std::stringstream ss(csv);
    std::string item;
    while (std::getline(ss, item, ',')) {
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

// BAILIAN_HUB_MASTER_KEY (base64 of 32 bytes) or <data dir>/master.key, created 0600.
core::Result<crypto::MasterKey> LoadMasterKey(const Config& cfg) {
    if (const char* env = std::getenv("BAILIAN_HUB_MASTER_KEY"); env && *env) {
        auto k = crypto::MasterKey::FromBase64(env);
        if (!k.ok()) {
            return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_master_key",
                                     "BAILIAN_HUB_MASTER_KEY must be base64 of 32 bytes");
        }
        return k;
    }
    bool created = false;
    auto k = crypto::MasterKey::LoadOrCreateFile(cfg.data_dir + "/master.key", &created);
    if (k.ok() && created) obs::Info("master_key_generated", {{"path", cfg.data_dir + "/master.key"}});
    return k;
}

services::RoleLimits ToRoleLimits(const RoleLimitsConfig& c) {
    services::RoleLimits l;
    l.rate.rpm = c.rpm;
    l.rate.rpm_burst = c.rpm_burst > 0 ? c.rpm_burst : c.rpm;
    l.rate.tpm = c.tpm;
    l.rate.tpm_burst = c.tpm_burst > 0 ? c.tpm_burst : c.tpm;
    l.budgets.daily_tokens = c.daily_tokens;
    l.budgets.monthly_tokens = c.monthly_tokens;
    l.budgets.daily_cost_micro_cny = c.daily_cost_cny * 1'000'000;
    l.budgets.monthly_cost_micro_cny = c.monthly_cost_cny * 1'000'000;
    return l;
}

services::LimitsConfig MakeLimitsConfig(const Config& cfg) {
    services::LimitsConfig l;
    l.user = ToRoleLimits(cfg.limits_user);
    l.roles["admin"] = ToRoleLimits(cfg.limits_admin);
    l.unauthenticated_per_ip_per_minute = cfg.unauthenticated_per_ip_per_minute;
    l.max_concurrent_calls = cfg.max_concurrent_calls;
    return l;
}

std::string WebRoot(const Config& cfg) {
    if (!cfg.web_root.empty()) return cfg.web_root;
    return "web/dist";
}

}  // namespace

int Migrate(const Config& cfg) {
    InitLogs(cfg);
    if (!PrepareDataDir(cfg)) return 1;
    auto st = OpenStore(cfg);
    if (!st.ok()) {
        std::cerr << "bailian-hub: " << st.error().public_message << "\n";
        return 1;
    }
    auto applied = (*st)->Migrate();
    if (!applied.ok()) {
        std::cerr << "bailian-hub: migration failed: " << applied.error().public_message << "\n";
        return 1;
    }
    auto status = (*st)->SchemaStatus();
    std::cout << "applied " << applied->size() << " migration(s); schema version "
              << (status.ok() ? status->current : 0) << "\n";
    return 0;
}

namespace {

constexpr int kConfigErrorExit = 2;
// How often a hub looks for a JWT key ring rotated by `jwt rotate` (one small read).
constexpr std::chrono::seconds kKeyRingRefresh{10};
// How often a hub on a shared database re-reads the day's and month's spend of every user.
constexpr std::chrono::seconds kSpendRefresh{10};
// How often new messages are moved into the search index (SQLite), and how many per
// transaction: a chat turn no longer indexes its own messages, and a search reads the few not
// yet indexed directly. FTS5 writes a segment per batch and merges segments as the index
// grows, so a message costs less in a larger batch (on a 60,000-message index: ~13 µs of CPU
// in batches of 200, ~8 µs in batches of 1,000, which hold the write lane ~8 ms).
constexpr std::chrono::seconds kSearchIndexPeriod{1};
constexpr std::size_t kSearchIndexBatch = 1000;
constexpr int kSearchIndexRounds = 50;

// Runs `job` (blocking work) on `pool` every `period`, one run at a time, from Start() until
// Stop() (callable from any thread).
class PeriodicJob {
public:
    PeriodicJob(net::io_context& io, async::WorkerPool& pool, std::chrono::milliseconds period,
                std::function<void()> job)
        : timer_(net::make_strand(io)), pool_(pool), period_(period), job_(std::move(job)) {}
    void Start() { Arm(); }
    void Stop() {
        net::post(timer_.get_executor(), [this] {
            stopped_ = true;
            timer_.cancel();
        });
    }

private:
    void Arm() {
        timer_.expires_after(period_);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec || stopped_) return;
            net::post(pool_.pool(), [this] {
                job_();
                net::post(timer_.get_executor(), [this] {
                    if (!stopped_) Arm();
                });
            });
        });
    }

    net::steady_timer timer_;
    async::WorkerPool& pool_;
    std::chrono::milliseconds period_;
    std::function<void()> job_;
    bool stopped_ = false;  // on the timer's strand
};

void LogCertificate(const http::CertificateInfo& info) {
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    nlohmann::json f = {{"subject", info.subject},
                        {"not_after", core::FormatIsoMs(info.not_after_s * 1000)},
                        {"sha256", info.sha256}};
    if (info.expired(now)) {
        // Served anyway (clients will refuse it): the operator must see this at once.
        f["hint"] = "renew the certificate, then send SIGHUP (or replace the files)";
        obs::Error("tls_certificate_expired", f);
    } else {
        f["days_left"] = (info.not_after_s - now) / 86'400;
        obs::Info("tls_certificate", f);
    }
}

core::Result<std::shared_ptr<http::TlsContext>> LoadTls(const Config& cfg) {
    http::TlsConfig t;
    t.cert_file = cfg.tls_cert_file;
    t.key_file = cfg.tls_key_file;
    t.ocsp_file = cfg.tls_ocsp_file;
    t.ticket_rotation = std::chrono::seconds(cfg.tls_ticket_rotation_s);
    auto loaded = http::TlsContext::Load(t);
    if (!loaded.ok()) {
        obs::Error("tls_config_failed", {{"error", loaded.error().public_message}});
        return loaded.error();
    }
    LogCertificate(loaded.value()->Info());
    return loaded;
}

}  // namespace

// Reloads the certificate on SIGHUP and when its files change; connections keep the context
// they began with, so nothing in flight is dropped. A bad file keeps the old certificate.
class TlsReloader {
public:
    // The signal set and the timer live on one strand: Stop() comes from another io thread.
    TlsReloader(net::io_context& io, http::TlsContext& tls, std::int64_t check_ms)
        : tls_(tls), strand_(net::make_strand(io)), hup_(strand_, SIGHUP), timer_(strand_),
          check_(check_ms) {
        net::post(strand_, [this] {
            WaitHup();
            if (check_.count() > 0) Tick();
        });
    }
    void Stop() {
        net::post(strand_, [this] {
            stopped_ = true;
            boost::system::error_code ec;
            hup_.cancel(ec);
            timer_.cancel();
        });
    }

private:
    void Reload(const char* why) {
        auto r = tls_.Reload();
        if (!r.ok()) {
            obs::Error("tls_reload_failed", {{"trigger", why},
                                             {"error", r.error().public_message},
                                             {"kept", tls_.Info().sha256}});
            return;
        }
        obs::Info("tls_reloaded", {{"trigger", why}});
        LogCertificate(r.value());
    }
    void WaitHup() {
        hup_.async_wait([this](const boost::system::error_code& ec, int) {
            if (ec || stopped_) return;
            Reload("SIGHUP");
            WaitHup();
        });
    }
    void Tick() {
        timer_.expires_after(check_);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec || stopped_) return;
            if (tls_.FilesChanged()) Reload("files changed");
            Tick();
        });
    }

    http::TlsContext& tls_;
    net::strand<net::io_context::executor_type> strand_;
    net::signal_set hup_;
    net::steady_timer timer_;
    std::chrono::milliseconds check_;
    bool stopped_ = false;
};

int Serve(const Config& cfg_in, ServeMode mode) {
    Config cfg = cfg_in;
    // stdout is the route table: only errors are logged (and then the exit code is not 0).
    if (mode == ServeMode::kPrintRoutes) cfg.log_level = "error";
    InitLogs(cfg);
    // HTTPS first: a wrong certificate is a configuration error (exit 2), found before anything
    // else starts.
    std::shared_ptr<http::TlsContext> tls;
    if (cfg.Tls()) {
        auto loaded = LoadTls(cfg);
        if (!loaded.ok()) return kConfigErrorExit;
        tls = std::move(loaded.value());
    }
    if (!PrepareDataDir(cfg)) return 1;

    // A database that cannot be opened or migrated is a configuration problem: one line that
    // names it (never a password: the store's errors carry none), exit 2.
    auto opened = OpenStore(cfg);
    if (!opened.ok()) {
        obs::Error("store_open_failed", {{"error", opened.error().public_message},
                                         {"code", opened.error().api_code},
                                         {"detail", opened.error().detail}});
        return kConfigErrorExit;
    }
    std::unique_ptr<store::Store> store = std::move(opened.value());
    auto applied = store->Migrate();
    if (!applied.ok()) {
        obs::Error("migration_failed", {{"error", applied.error().public_message},
                                        {"code", applied.error().api_code},
                                        {"detail", applied.error().detail}});
        return kConfigErrorExit;
    }
    if (!applied->empty()) obs::Info("migrations_applied", {{"count", applied->size()}});

    const std::size_t threads = IoThreads(cfg, std::thread::hardware_concurrency());
    net::io_context io(static_cast<int>(threads));
    obs::Registry metrics;  // before everything that records into it
    async::WorkerPool db("db", cfg.db_workers);
    // SQLite: writes of the request path go to one writer thread through a queue (one
    // transaction and one COMMIT for every write queued meanwhile); MariaDB keeps the pool.
    // An idle lane runs a write on the io thread that asks, unless that is the only io thread.
    async::ProcessWriteLane().store(store::StartSqliteWriteLane(*store, threads > 1));

    // The master key seals what the database keeps secret, the JWT key ring first.
    auto master = LoadMasterKey(cfg);
    if (!master.ok()) {
        obs::Error("master_key_failed", {{"error", master.error().public_message}});
        return 1;
    }
    auto sec = LoadSecurity(cfg, *store, &master.value());
    if (!sec.ok()) {
        obs::Error("security_setup_failed", {{"error", sec.error().public_message}});
        return 1;
    }
    Security& security = *sec.value();
    // Single sign-on: the providers file, checked before anything starts (a bad one is a
    // configuration error; its default roles must exist, hence after the roles are loaded).
    auto providers = LoadOidcProviders(
        cfg.oidc_providers_file,
        [&security](const std::string& role) { return security.roles.HasRole(role); });
    if (!providers.ok()) {
        obs::Error("config_invalid", {{"error", providers.error().public_message}});
        return kConfigErrorExit;
    }
    std::vector<services::SsoProviderConfig> oidc_providers = std::move(providers.value());
    if (BootstrapAdminIfEmpty(cfg, *store, security) != 0) return 1;
    if (auto restored = RestoreRevocations(*store, security); !restored.ok()) {
        obs::Error("security_setup_failed", {{"error", restored.error().public_message},
                                             {"detail", restored.error().detail}});
        return 1;
    }

    async::WorkerPool crypto("crypto", std::max(1u, std::thread::hardware_concurrency()));
    ObservePools(metrics, db, crypto);
    // Many hubs: with a Redis URL the rate limits are shared (with a local fallback) and the
    // bus tells the other hubs what changed; without one, this hub is on its own as before.
    static const limit::MonotonicClock fallback_clock;
    auto redis_setup =
        SetUpRedis(cfg, io, fallback_clock, security.limiter.default_config(), metrics);
    if (!redis_setup.ok()) {
        obs::Error("redis_required_unavailable", {{"error", redis_setup.error().public_message}});
        return kConfigErrorExit;
    }
    RedisParts redis_parts = std::move(redis_setup.value());
    MeteredLimiter limiter(redis_parts.limiter ? *redis_parts.limiter : security.limiter, metrics);
    // The bus: whoever keeps in memory what other hubs may change (revocations, the platform-key
    // cache, the catalog, histories) publishes and subscribes here, before StartRedis below.
    cache::LocalBus local_bus;
    cache::Bus& bus = redis_parts.bus ? *redis_parts.bus : local_bus;
    services::AccountsConfig acfg;
    acfg.registration_open = cfg.registration_open;
    acfg.access_ttl = std::chrono::seconds(cfg.access_ttl_s);
    // Bursts: half a minute's worth, at least the per-minute rate for small limits.
    auto per_minute = [](std::size_t n) {
        double d = static_cast<double>(n);
        return limit::BucketConfig::PerMinute(d, std::max(d / 2, std::min<double>(d, 10)));
    };
    acfg.login_per_ip = per_minute(cfg.login_per_ip_per_minute);
    acfg.login_per_account = per_minute(cfg.login_per_account_per_minute);
    acfg.register_per_ip = per_minute(cfg.register_per_ip_per_minute);
    acfg.max_pending_hashes = static_cast<std::int64_t>(cfg.max_pending_hashes);
    // Security events watch the audit trail as it is written (and, below, recorded calls).
    services::SecurityEventsConfig secfg;
    secfg.brute_force_failures = static_cast<int>(cfg.security_brute_force_failures);
    secfg.brute_force_window_ms = cfg.security_brute_force_window_s * 1000;
    secfg.brute_force_lock_ms = cfg.security_brute_force_lock_s * 1000;
    secfg.stuffing_accounts = static_cast<int>(cfg.security_stuffing_accounts);
    secfg.stuffing_window_ms = cfg.security_stuffing_window_s * 1000;
    secfg.mfa_failures = static_cast<int>(cfg.security_mfa_failures);
    secfg.mfa_window_ms = cfg.security_mfa_window_s * 1000;
    secfg.mfa_lock_ms = cfg.security_mfa_lock_s * 1000;
    secfg.spend_window_ms = cfg.security_spend_window_s * 1000;
    secfg.spend_baseline_ms =
        std::max(cfg.security_spend_baseline_s, cfg.security_spend_window_s + 1) * 1000;
    secfg.spend_min_micro_cny = cfg.security_spend_min_micro_cny;
    secfg.spend_factor = static_cast<double>(cfg.security_spend_factor);
    secfg.spend_key_suspend_ms = cfg.security_spend_key_suspend_s * 1000;
    services::SecurityEvents security_events(*store, db, security.roles, security.clock, secfg);
    if (auto l = security_events.LoadBlocking(); !l.ok()) {
        obs::Error("security_events_load_failed", {{"error", l.error().public_message}});
        return 1;
    }
    store->Audit().SetObserver(&security_events);
    struct ObserverGuard {  // nothing may call into security_events once it is gone
        store::Store& s;
        ~ObserverGuard() { s.Audit().SetObserver(nullptr); }
    } observer_guard{*store};
    metrics.AddCollector([&security_events](obs::Exposition& out) {
        const char* n = "bailian_hub_security_events_total";
        out.Header(n, "Security events detected since start, by kind.", obs::MetricType::kCounter);
        auto counts = security_events.Counts();
        for (auto kind : services::SecurityEventKinds()) {
            auto it = counts.find(std::string(kind));
            out.Sample(n, {{"kind", kind}},
                       static_cast<double>(it == counts.end() ? 0 : it->second));
        }
    });
    services::Accounts accounts(*store, db, crypto, *security.hasher, *security.jwt,
                                security.roles, security.revocations, limiter,
                                security.clock, acfg);
    accounts.SetLocks(&security_events);
    metrics.AddCollector([&accounts](obs::Exposition& out) {
        out.Single("bailian_hub_password_hashes_refused_total",
                   "Logins and registrations refused because the password-hashing queue was full.",
                   obs::MetricType::kCounter, static_cast<double>(accounts.hashes_refused()));
        const char* skipped = "bailian_hub_password_hashes_skipped_total";
        out.Header(skipped,
                   "Queued password hashes not run, by reason (client_gone: the client had left; "
                   "shutdown: the hub was stopping).",
                   obs::MetricType::kCounter);
        out.Sample(skipped, {{"reason", "client_gone"}},
                   static_cast<double>(accounts.hashes_skipped_client_gone()));
        out.Sample(skipped, {{"reason", "shutdown"}},
                   static_cast<double>(accounts.hashes_skipped_shutdown()));
    });

    // Upstream: keys from the database (and DASHSCOPE_API_KEY), or the simulator in demo mode.
    // MFA (TOTP): secrets under the master key; sign-in asks Accounts -> Mfa for the second step.
    services::MfaConfig mcfg;
    mcfg.issuer = cfg.mfa_issuer;
    mcfg.token_ttl = std::chrono::seconds(cfg.mfa_token_ttl_s);
    mcfg.failures_per_account = per_minute(cfg.mfa_failures_per_account_per_minute);
    services::Mfa mfa(*store, db, crypto, *security.hasher, master.value(), security.revocations,
                      limiter, security.clock, mcfg);
    // Which roles must enroll: from config for now (role data may take this hook over).
    // A role requires MFA when an admin flagged it (roles.mfa_required, read live) or the
    // configuration lists it (to require it before any admin has signed in).
    mfa.SetRequiredForRole([&security, listed = cfg.mfa_required_roles](std::string_view role) {
        return security.roles.RequiresMfa(role) ||
               std::find(listed.begin(), listed.end(), role) != listed.end();
    });
    accounts.SetMfa(&mfa);
    bailian::KeyPool key_pool(security.clock);
    services::UpstreamKeys upstream_keys(*store, db, key_pool, master.value(), security.clock);
    auto loaded = upstream_keys.LoadBlocking(SplitKeys(cfg.dashscope_api_key.Reveal()));
    if (!loaded.ok()) {
        obs::Error("upstream_keys_failed", {{"error", loaded.error().public_message}});
        return 1;
    }
    bool demo_mode = loaded.value() == 0;
    SimChild sim;
    std::string base_url = cfg.dashscope_base_url.empty()
                               ? bailian::RegionBaseUrl(cfg.dashscope_region)
                               : cfg.dashscope_base_url;
    if (demo_mode) {
        auto child = StartSim(cfg.sim_path.empty() ? DefaultSimPath() : cfg.sim_path,
                              cfg.data_dir);
        if (!child.ok()) {
            obs::Error("demo_mode_failed", {{"error", child.error().public_message}});
            return 1;
        }
        sim = child.value();
        base_url = "http://127.0.0.1:" + std::to_string(sim.port);
        (void)upstream_keys.AddEphemeral("demo", "sk-demo-" + crypto::RandomToken(12));
        obs::Warn("demo_mode", {{"reason", "no DashScope API key configured"},
                                {"upstream", "bailian-sim (local simulator)"},
                                {"sim_port", sim.port}});
    }
    struct SimGuard {
        SimChild& c;
        ~SimGuard() { StopSim(c); }
    } sim_guard{sim};
    auto base = http::ParseBaseUrl(base_url);
    if (!base.ok()) {
        obs::Error("upstream_url_invalid", {{"error", base.error().public_message}});
        return 1;
    }
    http::ClientConfig ccfg;
    ccfg.connect_timeout = std::chrono::milliseconds(cfg.upstream_connect_timeout_ms);
    ccfg.first_byte_timeout = std::chrono::milliseconds(cfg.upstream_first_byte_timeout_ms);
    ccfg.idle_timeout = std::chrono::milliseconds(cfg.upstream_idle_timeout_ms);
    http::HttpClient http_client(io, ccfg);
    bailian::DashScopeOptions dopts{base.value(), {}, {}};
    // Result images: DashScope's result hosts (or the configured list), and always the origin
    // of the DashScope base URL itself (the simulator serves its images there).
    for (const auto& o : cfg.image_result_origins.empty() ? bailian::DefaultResultOrigins()
                                                          : cfg.image_result_origins) {
        if (auto p = bailian::ParseOriginPattern(o); p.ok()) dopts.result_origins.push_back(*p);
    }
    dopts.result_origins.push_back(bailian::ExactOrigin(base.value()));
    bailian::DashScopeClient upstream(http_client, key_pool, dopts, security.clock);
    obs::Info("upstream", {{"base_url", base->Origin()}, {"keys", loaded.value()}});

    api::AppInfo info{kVersion, demo_mode};
    api::WebConfig webcfg{cfg.allowed_origins, true};
    services::Health health(*store, db, demo_mode, &upstream_keys);
    AddRedisHealth(health, redis_parts);
    // The model catalog and usage recording (api_calls), shared by chat and the compatible API.
    auto made_catalog = MakeCatalog(cfg);
    if (!made_catalog.ok()) {
        obs::Error("model_catalog_invalid", {{"error", made_catalog.error().public_message}});
        return 1;
    }
    services::Catalog catalog = std::move(made_catalog.value());
    // Limits on model calls: budgets counted from api_calls, loaded once here.
    services::Limits limits(limiter, security.clock, MakeLimitsConfig(cfg), &metrics);
    if (auto l = limits.LoadBlocking(*store); !l.ok()) {
        obs::Error("limits_load_failed", {{"error", l.error().public_message}});
        return 1;
    }
    services::UsageRecorder usage(*store, db, catalog, security.clock, api::StatusFor, &metrics,
                                  &limits);
    usage.SetSecondObserver(&security_events);  // spend spikes
    // Platform API keys, the OpenAI-compatible API and the DashScope pass-through.
    services::ApiKeys api_keys(*store, db, security.roles, catalog, security.revocations,
                               security.clock);
    api_keys.SetLocks(&security_events);
    // Roles as data: admins' edits swap the live table (security.roles).
    services::Roles roles(*store, db, security.roles, catalog, security.clock);
    services::OpenAiCompat openai(upstream, catalog, usage, security.clock);
    services::Passthrough passthrough(upstream, catalog, usage, *store, db, security.clock);
    // Conversations and chat: the cache (histories, the model list), then the services.
    cache::LruCache cache({cfg.cache_max_entries, cfg.cache_max_bytes}, security.clock);
    AddHubCollectors(metrics, cache, key_pool, kVersion, demo_mode);
    AddStoreCollectors(metrics, *store);
    services::HistoryCache history(cache, cfg.chat_history_messages);
    // What every hub keeps in memory and the others change (docs/architecture.md, "Many
    // hubs"): each holder publishes its changes after the commit and applies the other hubs'.
    security.revocations.Connect(bus);  // after RestoreRevocations: nothing re-published
    api_keys.Connect(bus);
    roles.Connect(bus);
    upstream_keys.Connect(bus);
    security_events.Connect(bus);
    history.Connect(bus);
    services::QuotaSync quota_sync(limits, *store, db);  // users' own limits set elsewhere
    quota_sync.Connect(bus);
    metrics.AddCollector([&history](obs::Exposition& out) {
        out.Single("bailian_hub_history_stale_reloads_total",
                   "Cached conversation histories found older than the conversation (written "
                   "through another hub, or renamed) and read again.",
                   obs::MetricType::kCounter, static_cast<double>(history.stale_reloads()));
        out.Single("bailian_hub_conversation_rows_stale_total",
                   "Cached conversation rows found changed when a question was stored (written "
                   "through another hub, or edited): the turn was prepared again.",
                   obs::MetricType::kCounter, static_cast<double>(history.stale_rows()));
    });
    services::ModelDirectory models(catalog, cache);
    services::ConversationLimits conv_limits;
    conv_limits.max_system_prompt_chars = cfg.max_content_chars;
    services::Conversations conversations(*store, db, catalog, history, conv_limits);
    services::ChatConfig chat_cfg;
    chat_cfg.max_content_chars = cfg.max_content_chars;
    chat_cfg.title_model = cfg.title_model;
    chat_cfg.heartbeat = std::chrono::milliseconds(cfg.sse_heartbeat_ms);
    if (!chat_cfg.title_model.empty() && !catalog.RequireChat(chat_cfg.title_model).ok()) {
        obs::Warn("title_model_unavailable", {{"model", chat_cfg.title_model}});
    }
    chat_cfg.max_attachments = cfg.upload_max_attachments;
    chat_cfg.max_context_images = std::max(cfg.chat_max_context_images, cfg.upload_max_attachments);
    // Files kept under the data dir: generated images and uploaded pictures.
    store::FileStore files(cfg.data_dir + "/files");
    // Uploaded pictures: decoded and re-encoded on their own small pool (CPU and memory bound;
    // a few at a time, never on an io thread, never in the way of logins on the crypto pool).
    async::WorkerPool media("media", cfg.upload_workers);
    services::UploadsConfig ucfg;
    ucfg.max_bytes = cfg.upload_max_bytes;
    ucfg.max_side = static_cast<int>(cfg.upload_max_side);
    ucfg.model_max_pixels = static_cast<std::int64_t>(cfg.upload_model_max_pixels);
    ucfg.max_attachments = cfg.upload_max_attachments;
    services::Uploads uploads(*store, db, media, files, security.clock, ucfg);
    services::Chat chat(*store, db, upstream, catalog, usage, history, security.clock, chat_cfg,
                        &uploads);
    // Images: generations polled in the background.
    services::ImagesConfig icfg;
    icfg.default_model = cfg.image_default_model;
    icfg.task_timeout = std::chrono::milliseconds(cfg.image_task_timeout_ms);
    icfg.first_poll = std::chrono::milliseconds(cfg.image_first_poll_ms);
    icfg.max_poll = std::chrono::milliseconds(std::max(cfg.image_max_poll_ms, cfg.image_first_poll_ms));
    icfg.max_image_bytes = cfg.image_max_bytes;
    icfg.openai_wait = std::chrono::milliseconds(cfg.image_openai_wait_ms);
    icfg.submit_grace = std::chrono::milliseconds(cfg.image_submit_grace_ms);
    if (!catalog.Require(icfg.default_model, {services::ModelKind::kImage}).ok()) {
        obs::Warn("image_model_unavailable", {{"model", icfg.default_model}});
    }
    // Signed file URLs: a key derived from the master key, the same on every hub of a cluster.
    std::string url_key =
        crypto::HmacSha256(master.value().key().Reveal(), "bailian-hub file urls v1");
    services::Images images(*store, db, upstream, catalog, usage, files, security.clock,
                            io.get_executor(), std::move(url_key), icfg);
    // Work that runs on one hub at a time, each job under its lease in the database: the
    // image-task poller (every unsettled generation, whichever hub accepted it) and, below,
    // the scheduled backups. With one hub it simply always holds them.
    services::LeaseRunnerConfig lcfg;
    lcfg.ttl = std::chrono::milliseconds(cfg.lease_ttl_ms);
    lcfg.holder = core::InstanceId();
    services::LeaseRunner leases(store->Leases(), db, security.clock, io.get_executor(),
                                 lcfg);
    leases.Add(
        "images", [&images](std::int64_t) { images.Activate(); },
        [&images] { images.Deactivate(); });
    leases.AddMetrics(metrics);
    metrics.AddCollector([&images](obs::Exposition& out) {
        const char* n = "bailian_hub_image_task_requests_total";
        out.Header(n, "DashScope requests of this hub's image-task poller, by kind.",
                   obs::MetricType::kCounter);
        auto t = images.task_requests();
        out.Sample(n, {{"kind", "submit"}}, static_cast<double>(t.submits));
        out.Sample(n, {{"kind", "poll"}}, static_cast<double>(t.polls));
        out.Sample(n, {{"kind", "download"}}, static_cast<double>(t.downloads));
    });
    health.SetLeases(&leases);
    // A user's data export and account deletion; exports are built on a thread of their own.
    services::DataRightsConfig dcfg;
    dcfg.exports_dir = cfg.data_dir + "/exports";
    dcfg.export_ttl = std::chrono::seconds(cfg.export_ttl_s);
    dcfg.sweep_every = std::chrono::milliseconds(std::min<std::int64_t>(60'000, cfg.export_ttl_s * 500));
    dcfg.max_export_messages = conv_limits.max_export_messages;
    dcfg.conversation_json = api::ConversationExportJson;
    services::DataRights data_rights(*store, db, crypto, *security.hasher, security.revocations,
                                     files, security.clock, std::move(dcfg));
    data_rights.SetMfaCheck([&mfa](const store::User& u, const std::optional<std::string>& code,
                                   const services::RequestMeta& meta) -> core::Result<void> {
        // A six-digit code is a TOTP code, anything else a recovery code.
        services::SecondFactor f;
        if (code && code->size() == 6) f.code = code;
        else f.recovery_code = code;
        return mfa.VerifyBlocking(u.id, f, services::MfaContext::kDeletion, meta);
    });
    metrics.AddCollector([&data_rights](obs::Exposition& out) {
        const char* n = "bailian_hub_data_exports_total";
        out.Header(n, "Users' data exports finished, by result.", obs::MetricType::kCounter);
        out.Sample(n, {{"result", "ready"}}, static_cast<double>(data_rights.exports_done()));
        out.Sample(n, {{"result", "failed"}}, static_cast<double>(data_rights.exports_failed()));
    });
    services::SsoConfig sso_cfg;
    sso_cfg.providers = std::move(oidc_providers);
    sso_cfg.per_ip = acfg.login_per_ip;
    for (const auto& p : sso_cfg.providers)
        obs::Info("sso_provider", {{"id", p.id}, {"issuer", p.issuer}});
    services::Sso sso(*store, db, crypto, *security.hasher, security.roles, http_client, accounts,
                      limiter, security.clock, std::move(sso_cfg));
    webcfg.public_url = cfg.public_url;
    // Passkeys (WebAuthn): registration, passwordless sign-in, the second factor.
    services::PasskeysConfig pcfg;
    pcfg.rp_id = cfg.webauthn_rp_id;
    pcfg.origins = cfg.webauthn_origins;
    pcfg.public_url = cfg.public_url;
    pcfg.challenge_ttl = std::chrono::seconds(cfg.webauthn_challenge_ttl_s);
    pcfg.login_per_ip = acfg.login_per_ip;
    services::Passkeys passkeys(*store, db, accounts, limiter, security.clock, pcfg);
    passkeys.SetMfa(&mfa);
    api::ApiDeps deps{info,     webcfg,        health,   accounts, security.keyring,
                      upstream, upstream_keys, api_keys, openai,   passthrough,
                      conversations, chat, models, usage, images, limits, data_rights,
                      uploads, passkeys, mfa, sso, roles, security_events};

    http::StaticFiles web({WebRoot(cfg)});
    if (!web.available()) {
        obs::Warn("web_ui_missing", {{"web_root", WebRoot(cfg)}});
    }
    http::Router router;
    api::RegisterAllRoutes(router, deps);
    api::RegisterDocsRoutes(router, web);
    // /metrics: on its own (loopback) listener, and on the main one only behind the token.
    api::MetricsAuthorizer metrics_auth;
    if (!cfg.metrics_token.Reveal().empty()) {
        metrics_auth = [&cfg](std::string_view presented) {
            return crypto::ConstantTimeEquals(presented, cfg.metrics_token.Reveal());
        };
        api::RegisterMetricsRoute(router, metrics, metrics_auth);
    }
    http::Router metrics_router;
    api::RegisterMetricsRoute(metrics_router, metrics, metrics_auth);

    if (mode == ServeMode::kPrintRoutes) {
        std::set<std::string> seen;
        for (const auto* r : {&router, &metrics_router}) {
            for (const auto& e : r->Table()) {
                if (seen.insert(e.method + " " + e.pattern).second)
                    std::cout << e.method << " " << e.pattern << "\n";
            }
        }
        return 0;
    }
    router.SetFallback([&web](http::Context& ctx) -> net::awaitable<http::Response> {
        if (auto r = web.Serve(ctx.req)) co_return std::move(*r);
        co_return api::ErrorResponse(core::Error::Make(core::ErrorCode::kNotFound, "not_found",
                                                       "No such resource."),
                                     ctx.req.request_id);
    });

    http::ServerConfig scfg;
    scfg.host = cfg.listen_host;
    scfg.port = cfg.listen_port;
    scfg.body_limit = cfg.body_limit;
    // An upload may be larger than other bodies: the file plus room for the multipart framing.
    scfg.body_limits.push_back({"POST", "/api/v1/files", cfg.upload_max_bytes + 64 * 1024});
    // Compatible and pass-through vision calls carry pictures inline as data: URLs (base64,
    // 4/3 of the bytes): room for one picture of the upload size beside the usual body.
    const std::size_t inline_limit = cfg.body_limit + cfg.upload_max_bytes / 3 * 4 + 64 * 1024;
    scfg.body_limits.push_back({"POST", "/v1/chat/completions", inline_limit});
    scfg.body_limits.push_back(
        {"POST", "/dashscope/api/v1/services/aigc/multimodal-generation/generation", inline_limit});
    scfg.header_timeout = std::chrono::milliseconds(cfg.header_timeout_ms);
    scfg.body_timeout = std::chrono::milliseconds(cfg.body_timeout_ms);
    scfg.idle_timeout = std::chrono::milliseconds(cfg.idle_timeout_ms);
    scfg.max_connections = cfg.max_connections;
    scfg.trusted_proxies = cfg.trusted_proxies;
    scfg.tls = tls;
    // HSTS whenever clients reach us over HTTPS: our own TLS, or a TLS proxy in front.
    scfg.hsts_max_age_s = tls || !cfg.trusted_proxies.empty() ? cfg.hsts_max_age_s : 0;
    scfg.require_https = !tls && !cfg.IsLoopback();
    scfg.one_io_thread = threads == 1;
    http::Server server(io, scfg, router, api::ErrorResponse, &metrics);
    auto port = server.Listen();
    if (!port.ok()) {
        obs::Error("listen_failed", {{"error", port.error().public_message}});
        return 1;
    }
    std::unique_ptr<http::Server> metrics_server;
    std::uint16_t metrics_port = 0;
    if (!cfg.metrics_listen_host.empty()) {
        http::ServerConfig mcfg;
        mcfg.host = cfg.metrics_listen_host;
        mcfg.port = cfg.metrics_listen_port;
        mcfg.body_limit = 4096;
        mcfg.max_connections = 64;
        mcfg.one_io_thread = threads == 1;
        if (cfg.metrics_tls) mcfg.tls = tls;
        metrics_server = std::make_unique<http::Server>(io, mcfg, metrics_router, api::ErrorResponse);
        auto mport = metrics_server->Listen();
        if (!mport.ok()) {
            obs::Error("metrics_listen_failed",
                       {{"error", mport.error().public_message},
                        {"hint", "set BAILIAN_HUB_METRICS_LISTEN to a free HOST:PORT, or off"}});
            return 1;
        }
        metrics_port = *mport;
        metrics_server->Start();
    }
    // The plain listener that only sends clients to HTTPS.
    http::Router redirect_router;
    std::unique_ptr<http::Server> redirect_server;
    if (!cfg.redirect_listen_host.empty()) {
        http::RegisterHttpsRedirect(redirect_router, *port, cfg.public_url);
        http::ServerConfig rcfg;
        rcfg.host = cfg.redirect_listen_host;
        rcfg.port = cfg.redirect_listen_port;
        rcfg.body_limit = 4096;
        rcfg.max_connections = cfg.max_connections;
        rcfg.security_headers = false;
        rcfg.one_io_thread = threads == 1;
        redirect_server =
            std::make_unique<http::Server>(io, rcfg, redirect_router, api::ErrorResponse);
        auto rport = redirect_server->Listen();
        if (!rport.ok()) {
            obs::Error("redirect_listen_failed", {{"error", rport.error().public_message}});
            return 1;
        }
        obs::Info("redirect_listening", {{"host", cfg.redirect_listen_host}, {"port", *rport}});
        redirect_server->Start();
    }
    // The kernel drops handshakes silently when the accept queue is full: say so in the log
    // (at most every 10 s, with how many).
    net::steady_timer overflow_timer(net::make_strand(io));  // cancelled from another thread
    std::function<void(std::uint64_t)> watch_overflows = [&](std::uint64_t last) {
        overflow_timer.expires_after(std::chrono::seconds(10));
        overflow_timer.async_wait([&, last](const boost::system::error_code& ec) {
            if (ec) return;
            auto now = KernelListenOverflows().value_or(last);
            if (now > last) {
                obs::Warn("listen_queue_overflowed",
                          {{"dropped_since_last", now - last},
                           {"hint", "the machine is past its capacity; lower "
                                    "limits.max_concurrent_calls or add hubs"}});
            }
            watch_overflows(now);
        });
    };
    watch_overflows(KernelListenOverflows().value_or(0));
    // A `jwt rotate` (on any machine) reaches every hub within kKeyRingRefresh: the new key
    // signs, and the tokens of hubs that already use it verify.
    PeriodicJob ring_refresh(io, db, kKeyRingRefresh, [&] {
        auto changed = RefreshKeyRing(*store, master.value(), security);
        if (!changed.ok()) {
            obs::Warn("jwt_keys_refresh_failed", {{"error", changed.error().public_message}});
        } else if (*changed) {
            obs::Info("jwt_keys_reloaded", {{"version", security.keyring_version},
                                            {"active_kid", security.keyring.ActiveKid().value_or("")}});
        }
    });
    ring_refresh.Start();
    // Budgets across hubs: on a shared database, the other hubs' calls count within
    // kSpendRefresh (one hub on SQLite records every call itself).
    PeriodicJob spend_refresh(io, db, kSpendRefresh, [&] {
        if (auto r = limits.RefreshSpendBlocking(*store); !r.ok())
            obs::Warn("spend_refresh_failed", {{"error", r.error().public_message}});
    });
    if (store->Dialect() != "sqlite") spend_refresh.Start();
    PeriodicJob search_index(io, db, kSearchIndexPeriod, [&] {
        // Until the queue is empty (or for kSearchIndexRounds batches). Each batch takes its
        // turn on the write lane like any write (IndexSearch), so that the writes of chat turns
        // wait for one batch at most.
        for (int round = 0; round < kSearchIndexRounds; ++round) {
            auto n = store->IndexSearch(kSearchIndexBatch);
            if (!n.ok()) {
                obs::Warn("search_index_failed", {{"error", n.error().public_message}});
                return;
            }
            if (*n < kSearchIndexBatch) return;
        }
    });
    search_index.Start();
    std::unique_ptr<TlsReloader> reloader;
    if (tls) reloader = std::make_unique<TlsReloader>(io, *tls, cfg.tls_reload_check_ms);
    std::unique_ptr<BackupScheduler> backups;
    if (!cfg.backup_dir.empty()) {
        backups = std::make_unique<BackupScheduler>(cfg, *store, security.clock,
                                                    cfg.backup_passphrase, metrics);
        // Nothing to do on gaining or losing it: each slot asks whether it is held.
        leases.Add("backups", [](std::int64_t) {}, [] {});
        backups->SetLease([&leases] { return leases.Holds("backups"); }, core::InstanceId());
        backups->Start();
    }
    server.Start();
    images.Start(/*active=*/false);  // polls once the "images" lease is held
    leases.Start();
    data_rights.Start();
    // The CA certificates for an https:// DashScope are loaded now, beside serving, rather
    // than before listening (start-up) or on the first call (an io thread). The media pool is
    // joined before http_client goes away.
    if (base->tls) {
        net::post(media.pool(), [&http_client] {
            if (auto ready = http_client.PrepareTls(); !ready.ok())
                obs::Error("upstream_tls_unavailable", {{"error", ready.error().detail}});
        });
    }
    obs::Info("listening", {{"host", cfg.listen_host},
                            {"port", *port},
                            {"metrics_port", metrics_port},
                            {"io_threads", threads},
                            {"version", kVersion},
                            {"demo_mode", demo_mode}});

    int exit_code = 0;
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        obs::Info("shutdown_started", {{"signal", sig}, {"grace_ms", cfg.shutdown_grace_ms}});
        leases.Stop();
        images.Stop();
        if (reloader) reloader->Stop();
        net::post(overflow_timer.get_executor(), [&overflow_timer] { overflow_timer.cancel(); });
        ring_refresh.Stop();
        spend_refresh.Stop();
        search_index.Stop();
        if (redirect_server) redirect_server->BeginShutdown(std::chrono::milliseconds(0), [](bool) {});
        crypto.Close();  // queued logins answer 503 now instead of holding up the drain
        if (metrics_server) metrics_server->BeginShutdown(std::chrono::milliseconds(0), [](bool) {});
        server.BeginShutdown(std::chrono::milliseconds(cfg.shutdown_grace_ms),
                             [&io](bool clean) {
                                 obs::Info("shutdown_drained", {{"clean", clean}});
                                 io.stop();
                             });
    });

    StartRedis(redis_parts);  // every Bus subscriber is in by now
    std::vector<std::thread> pool;
    for (std::size_t i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : pool) t.join();
    // A running export or backup finishes first (neither runs on an io thread).
    data_rights.Stop();
    if (backups) backups->Stop();
    // Another hub takes the leases over at once rather than after the ttl.
    leases.ReleaseBlocking();
    crypto.Stop();
    db.Stop();
    store::StopSqliteWriteLane(*store);  // what is queued runs; its coroutines' io_context exists
    async::ProcessWriteLane().store(nullptr);
    obs::Info("stopped", {});
    obs::FlushLogs();
    return exit_code;
}

}  // namespace hub::app

namespace hub::app {

namespace {
std::unique_ptr<store::Store> OpenMigrated(const Config& cfg) {
    InitLogs(cfg);
    if (!PrepareDataDir(cfg)) return nullptr;
    auto st = OpenStore(cfg);
    if (!st.ok()) {
        std::cerr << "bailian-hub: " << st.error().public_message << "\n";
        return nullptr;
    }
    if (auto m = (*st)->Migrate(); !m.ok()) {
        std::cerr << "bailian-hub: migration failed: " << m.error().public_message << "\n";
        return nullptr;
    }
    return std::move(st.value());
}
}  // namespace

int CreateUserCommand(const Config& cfg, const std::string& username, const std::string& email,
                      const std::string& role, bool password_stdin) {
    auto store = OpenMigrated(cfg);
    if (!store) return 1;
    auto sec = LoadSecurity(cfg, *store, nullptr);  // signs nothing: no key ring needed
    if (!sec.ok()) {
        std::cerr << "bailian-hub: " << sec.error().public_message << "\n";
        return 1;
    }
    if (!(*sec)->roles.HasRole(role)) {
        std::cerr << "bailian-hub: unknown role '" << role << "'\n";
        return 2;
    }
    std::string password;
    bool generated = false;
    if (password_stdin) {
        std::getline(std::cin, password);
        if (!password.empty() && password.back() == '\r') password.pop_back();
    } else {
        password = crypto::RandomToken(18);
        generated = true;
    }
    services::RegisterInput in{username, email, password, ""};
    auto u = services::Accounts::CreateUserBlocking(*store, *(*sec)->hasher, (*sec)->clock, in,
                                                    role);
    if (!u.ok()) {
        std::cerr << "bailian-hub: " << u.error().public_message << "\n";
        return 1;
    }
    std::cout << "created user " << u->username << " (" << u->role << ", id " << u->id << ")\n";
    if (generated) std::cout << "password (shown only once): " << password << "\n";
    return 0;
}

int SetRoleCommand(const Config& cfg, const std::string& username, const std::string& role) {
    auto store = OpenMigrated(cfg);
    if (!store) return 1;
    auto u = store->Users().FindByLogin(username);
    if (!u.ok()) {
        std::cerr << "bailian-hub: no user '" << username << "'\n";
        return 1;
    }
    store::UserPatch patch;
    patch.role = role;
    patch.keep_an_active_admin = true;
    auto r = store->Users().Update(u->id, patch);
    if (!r.ok()) {
        std::cerr << "bailian-hub: " << r.error().public_message << "\n";
        return 1;
    }
    store::AuditEntry e;
    e.id = core::NewId();
    e.action = "cli.role_changed";
    e.target = "user:" + u->id;
    e.detail = nlohmann::json({{"role", {u->role, r->role}}}).dump();
    e.created_at = SystemClockInstance().NowMs();
    (void)store->Audit().Append(std::move(e));
    std::cout << "user " << r->username << " is now " << r->role << "\n";
    return 0;
}

int RotateJwtCommand(const Config& cfg) {
    auto store = OpenMigrated(cfg);
    if (!store) return 1;
    auto master = LoadMasterKey(cfg);
    if (!master.ok()) {
        std::cerr << "bailian-hub: " << master.error().public_message << "\n";
        return 1;
    }
    auto sec = LoadSecurity(cfg, *store, &master.value());  // creates the ring on first use
    if (!sec.ok()) {
        std::cerr << "bailian-hub: " << sec.error().public_message << "\n";
        return 1;
    }
    std::size_t pruned = 0;
    auto kid = RotateKeyRing(*store, master.value(), **sec, &pruned);
    if (!kid.ok()) {
        std::cerr << "bailian-hub: " << kid.error().public_message << "\n";
        return 1;
    }
    std::cout << "new signing key " << kid.value() << "; " << (*sec)->keyring.size()
              << " key(s) in the ring, " << pruned
              << " expired key(s) removed. Running hubs sign with it within "
              << kKeyRingRefresh.count() << " s.\n";
    return 0;
}

}  // namespace hub::app

namespace hub::app {

namespace {
std::string ReadSecretLine() {
    std::string s;
    std::getline(std::cin, s);
    while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}
}  // namespace

int KeysCommand(const Config& cfg, const std::string& action, const std::string& name_or_id,
                int weight) {
    auto store = OpenMigrated(cfg);
    if (!store) return 1;
    auto master = LoadMasterKey(cfg);
    if (!master.ok()) {
        std::cerr << "bailian-hub: " << master.error().public_message << "\n";
        return 1;
    }
    const core::Clock& clock = SystemClockInstance();
    auto audit = [&](const std::string& what, const std::string& id) {
        store::AuditEntry e;
        e.id = core::NewId();
        e.action = "cli.upstream_key_" + what;
        e.target = "upstream_key:" + id;
        e.created_at = clock.NowMs();
        (void)store->Audit().Append(std::move(e));
    };
    if (action == "list") {
        auto rows = store->UpstreamKeys().List();
        if (!rows.ok()) {
            std::cerr << "bailian-hub: " << rows.error().public_message << "\n";
            return 1;
        }
        std::cout << "id                                    name                 last4  status    weight\n";
        for (const auto& r : *rows) {
            std::printf("%-37s %-20s %-6s %-9s %lld\n", r.id.c_str(), r.name.c_str(),
                        r.last4.c_str(), std::string(store::ToString(r.status)).c_str(),
                        static_cast<long long>(r.weight));
        }
        return 0;
    }
    if (action == "add" || action == "rotate") {
        std::string secret = ReadSecretLine();
        auto row = action == "add"
                       ? services::UpstreamKeys::CreateBlocking(*store, master.value(), clock,
                                                                name_or_id, secret, weight)
                       : services::UpstreamKeys::RotateBlocking(*store, master.value(),
                                                                name_or_id, secret);
        if (!row.ok()) {
            std::cerr << "bailian-hub: " << row.error().public_message << "\n";
            return 1;
        }
        audit(action == "add" ? "added" : "rotated", row->id);
        std::cout << (action == "add" ? "added" : "rotated") << " key " << row->id << " ("
                  << row->name << ", ..." << row->last4
                  << "). Running servers pick it up on restart or through the admin API.\n";
        return 0;
    }
    if (action == "disable" || action == "enable") {
        store::UpstreamKeyPatch patch;
        patch.status = action == "disable" ? store::UpstreamKeyStatus::kDisabled
                                           : store::UpstreamKeyStatus::kActive;
        auto row = store->UpstreamKeys().Update(name_or_id, patch);
        if (!row.ok()) {
            std::cerr << "bailian-hub: " << row.error().public_message << "\n";
            return 1;
        }
        audit(action == "disable" ? "disabled" : "enabled", row->id);
        std::cout << action << "d key " << row->id << "\n";
        return 0;
    }
    std::cerr << "bailian-hub: unknown keys action " << action << "\n";
    return 2;
}

}  // namespace hub::app
