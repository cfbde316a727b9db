#include "app/backup.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/app.hpp"
#include "app/security.hpp"
#include "app/store_open.hpp"
#include "obs/logging.hpp"
#include "obs/metrics.hpp"
#include "services/backups.hpp"
#include "store/leases.hpp"

namespace hub::app {

namespace fs = std::filesystem;

namespace {

// The master key's text as the key file holds it (base64), if there is one.
std::optional<core::Secret<std::string>> MasterKeyText(const Config& cfg) {
    if (const char* env = std::getenv("BAILIAN_HUB_MASTER_KEY"); env && *env)
        return core::Secret<std::string>(env);
    std::ifstream in(cfg.data_dir + "/master.key");
    if (!in) return std::nullopt;
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) return std::nullopt;
    return core::Secret<std::string>(line);
}

void Say(const core::Error& e) { std::cerr << "bailian-hub: " << e.public_message << "\n"; }

}  // namespace

core::Result<core::Secret<std::string>> LoadBackupPassphrase(const Config& cfg,
                                                             const std::string& file) {
    if (!file.empty()) {
        std::ifstream in(file);
        if (!in) {
            return core::Error::Make(core::ErrorCode::kInvalidArgument, "passphrase_file_unreadable",
                                     "The passphrase file cannot be read.", file);
        }
        std::string line;
        std::getline(in, line);
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
        if (line.empty()) {
            return core::Error::Make(core::ErrorCode::kInvalidArgument, "passphrase_empty",
                                     "The passphrase file is empty.");
        }
        return core::Secret<std::string>(line);
    }
    return cfg.backup_passphrase;
}

int BackupCommand(const Config& cfg, const BackupCommandOptions& opts) {
    // A full disk or a file-size limit must be an error we clean up after, not a signal.
    std::signal(SIGXFSZ, SIG_IGN);
    std::error_code ec;
    if (!cfg.UsesMysql() && !fs::exists(cfg.SqlitePath(), ec)) {
        std::cerr << "bailian-hub: no database at " << cfg.SqlitePath() << "\n";
        return 1;
    }
    auto pass = LoadBackupPassphrase(cfg, opts.passphrase_file);
    if (!pass.ok()) {
        Say(pass.error());
        return 2;
    }
    auto st = OpenStore(cfg);
    if (!st.ok()) {
        Say(st.error());
        return 1;
    }
    services::BackupRequest req;
    req.out_path = opts.out;
    req.passphrase = pass.value();
    req.files_root = cfg.data_dir + "/files";
    req.hub_version = kVersion;
    if (opts.include_master_key) {
        req.master_key = MasterKeyText(cfg);
        if (!req.master_key) {
            std::cerr << "bailian-hub: --include-master-key: no master key (neither "
                         "BAILIAN_HUB_MASTER_KEY nor "
                      << cfg.data_dir << "/master.key)\n";
            return 1;
        }
    }
    auto r = services::WriteBackup(**st, req, SystemClockInstance());
    if (!r.ok()) {
        Say(r.error());
        std::cerr << "bailian-hub: detail: " << r.error().detail << "\n";
        return 1;
    }
    std::cout << "backup written: " << r->path << " (" << r->bytes << " bytes, schema version "
              << r->manifest["schema_version"] << ", " << r->manifest["file_count"]
              << " file(s), " << (req.passphrase.Reveal().empty() ? "not encrypted" : "encrypted")
              << (req.master_key ? ", master key INCLUDED" : ", master key not included")
              << ")\n";
    if (!req.master_key) {
        std::cout << "keep the master key (BAILIAN_HUB_MASTER_KEY or " << cfg.data_dir
                  << "/master.key) safe apart from this backup: without it the upstream keys "
                     "in it cannot be decrypted\n";
    }
    return 0;
}

int RestoreCommand(const Config& cfg, const RestoreCommandOptions& opts) {
    auto pass = LoadBackupPassphrase(cfg, opts.passphrase_file);
    if (!pass.ok()) {
        Say(pass.error());
        return 2;
    }
    // The data dir must be empty (a master.key put there first is fine).
    std::error_code ec;
    const bool made_dir = !fs::exists(cfg.data_dir, ec);
    if (!made_dir) {
        for (const auto& e : fs::directory_iterator(cfg.data_dir, ec)) {
            if (e.path().filename() == "master.key") continue;
            std::cerr << "bailian-hub: restore goes only into an empty data folder; "
                      << cfg.data_dir << " holds " << e.path().filename().string()
                      << ". Nothing was restored.\n";
            return 1;
        }
    }
    fs::create_directories(cfg.data_dir, ec);
    fs::permissions(cfg.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (!cfg.UsesMysql()) {
        auto db_parent = fs::path(cfg.SqlitePath()).parent_path();
        if (!db_parent.empty()) fs::create_directories(db_parent, ec);
    }

    auto target = RestoreTargetFor(cfg);
    services::RestoreRequest req;
    req.from = opts.from;
    req.passphrase = pass.value();
    req.files_root = cfg.data_dir + "/files";
    req.master_key_path = std::getenv("BAILIAN_HUB_MASTER_KEY") ? "" : cfg.data_dir + "/master.key";
    req.work_dir = cfg.data_dir;
    req.latest_schema = LatestSchemaVersion(cfg);
    auto manifest = services::RestoreBackup(*target, req);
    if (!manifest.ok()) {
        Say(manifest.error());
        // Nothing is left behind: not even the folder, when it was made here.
        if (made_dir) fs::remove_all(cfg.data_dir, ec);
        return 1;
    }
    // An older backup gets the migrations it lacks, exactly as `serve` would apply them.
    auto st = OpenStore(cfg);
    if (!st.ok()) {
        Say(st.error());
        return 1;
    }
    auto applied = (*st)->Migrate();
    if (!applied.ok()) {
        Say(applied.error());
        return 1;
    }
    std::cout << "restored " << opts.from << " (written " << (*manifest)["created_at"]
              << " by bailian-hub " << (*manifest)["hub_version"] << ", schema version "
              << (*manifest)["schema_version"] << ") into " << cfg.data_dir << "; "
              << applied->size() << " migration(s) applied\n";
    std::cout << "manifest: " << manifest->dump() << "\n";
    if (!(*manifest).value("master_key_included", false)) {
        std::cout << "the master key is not in the backup: give the hub the same master key "
                     "(BAILIAN_HUB_MASTER_KEY or "
                  << cfg.data_dir << "/master.key) before it serves\n";
    }
    return 0;
}

BackupScheduler::BackupScheduler(const Config& cfg, store::Store& store, const core::Clock& clock,
                                 core::Secret<std::string> passphrase, obs::Registry& metrics)
    : cfg_(cfg), store_(store), clock_(clock), passphrase_(std::move(passphrase)) {
    metrics.AddCollector([this](obs::Exposition& out) {
        const char* runs = "bailian_hub_backups_total";
        out.Header(runs, "Scheduled backups by result.", obs::MetricType::kCounter);
        out.Sample(runs, {{"result", "ok"}}, static_cast<double>(ok_.load()));
        out.Sample(runs, {{"result", "failed"}}, static_cast<double>(failed_.load()));
        out.Single("bailian_hub_backup_last_success_timestamp_seconds",
                   "When the last scheduled backup was written (0 = none yet).",
                   obs::MetricType::kGauge, static_cast<double>(last_ok_ms_.load()) / 1000.0);
        out.Single("bailian_hub_backup_last_size_bytes", "Size of the last scheduled backup.",
                   obs::MetricType::kGauge, static_cast<double>(last_bytes_.load()));
    });
}

BackupScheduler::~BackupScheduler() { Stop(); }

void BackupScheduler::Start() {
    obs::Info("backup_schedule", {{"dir", cfg_.backup_dir},
                                  {"every_s", cfg_.backup_every_s},
                                  {"keep", cfg_.backup_keep},
                                  {"encrypted", !passphrase_.Reveal().empty()}});
    thread_ = std::thread([this] { Loop(); });
}

void BackupScheduler::Stop() {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void BackupScheduler::SetLease(std::function<bool()> held, std::string holder) {
    held_ = std::move(held);
    holder_ = std::move(holder);
}

void BackupScheduler::Loop() {
    std::unique_lock lk(mu_);
    const std::int64_t every_ms = cfg_.backup_every_s * 1000;
    std::int64_t slot = clock_.NowMs() / every_ms + 1;  // the next slot
    for (;;) {
        const std::int64_t wait_ms = slot * every_ms - clock_.NowMs();
        if (wait_ms > 0 &&
            cv_.wait_for(lk, std::chrono::milliseconds(wait_ms), [this] { return stop_; }))
            return;
        if (stop_) return;
        if (clock_.NowMs() < slot * every_ms) continue;  // woke early
        lk.unlock();
        RunSlot(slot * every_ms);
        lk.lock();
        slot = clock_.NowMs() / every_ms + 1;
    }
}

void BackupScheduler::RunSlot(std::int64_t slot_ms) {
    if (held_) {
        if (!held_()) return;  // another hub holds the lease: its turn
        auto claimed = store_.Leases().ClaimRun("backups", std::to_string(slot_ms), holder_);
        if (!claimed.ok()) {
            ++failed_;
            obs::Error("backup_failed", {{"error", "the backup slot could not be claimed"},
                                         {"detail", claimed.error().detail}});
            return;
        }
        if (!*claimed) {
            obs::Info("backup_slot_taken", {{"slot", core::FormatIsoMs(slot_ms)}});
            return;
        }
    }
    RunOnce();
}

void BackupScheduler::RunOnce() {
    std::error_code ec;
    fs::create_directories(cfg_.backup_dir, ec);
    services::BackupRequest req;
    req.out_path = (fs::path(cfg_.backup_dir) / services::ScheduledBackupName(clock_.NowMs())).string();
    req.passphrase = passphrase_;
    req.files_root = cfg_.data_dir + "/files";
    req.hub_version = kVersion;
    core::Result<services::BackupResult> r =
        ec ? core::Result<services::BackupResult>(core::Error::Make(
                 core::ErrorCode::kInternal, "backup_write_failed",
                 "The backup could not be written.", "mkdir " + cfg_.backup_dir + ": " + ec.message()))
           : services::WriteBackup(store_, req, clock_);
    if (!r.ok()) {
        ++failed_;
        obs::Error("backup_failed", {{"path", req.out_path},
                                     {"error", r.error().public_message},
                                     {"detail", r.error().detail}});
        return;
    }
    ++ok_;
    last_ok_ms_ = clock_.NowMs();
    last_bytes_ = static_cast<std::int64_t>(r->bytes);
    obs::Info("backup_written", {{"path", r->path},
                                 {"bytes", r->bytes},
                                 {"schema_version", r->manifest["schema_version"]}});
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(cfg_.backup_dir, ec))
        names.push_back(e.path().filename().string());
    for (const auto& old : services::BackupsToRemove(std::move(names), cfg_.backup_keep)) {
        fs::remove(fs::path(cfg_.backup_dir) / old, ec);
        obs::Info("backup_removed", {{"path", (fs::path(cfg_.backup_dir) / old).string()},
                                     {"reason", "retention"}});
    }
}

}  // namespace hub::app
