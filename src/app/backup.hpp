#pragma once
// `bailian-hub backup` and `restore`, and the scheduled backups a serving hub takes
// (BAILIAN_HUB_BACKUP_DIR + BAILIAN_HUB_BACKUP_EVERY, keeping BAILIAN_HUB_BACKUP_KEEP).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "app/config.hpp"
#include "core/clock.hpp"
#include "core/secret.hpp"

namespace hub::obs {
class Registry;
}
namespace hub::store {
class Store;
}

namespace hub::app {

struct BackupCommandOptions {
    std::string out;
    std::string passphrase_file;  // empty: BAILIAN_HUB_BACKUP_PASSPHRASE, or none
    bool include_master_key = false;
};
int BackupCommand(const Config& cfg, const BackupCommandOptions& opts);

struct RestoreCommandOptions {
    std::string from;
    std::string passphrase_file;
};
// Restores into cfg's data dir and database, which must be empty (a master.key file alone
// may already be there); then applies the migrations an older backup lacks.
int RestoreCommand(const Config& cfg, const RestoreCommandOptions& opts);

// The passphrase from a file (first line) or the environment; empty = none.
core::Result<core::Secret<std::string>> LoadBackupPassphrase(const Config& cfg,
                                                             const std::string& file);

// Takes a backup into cfg.backup_dir once per slot of cfg.backup_every_s (slots start at
// multiples of it since the epoch, UTC) on a thread of its own (never an io thread), then
// removes the oldest scheduled backups past cfg.backup_keep. A failure (disk full...) is logged
// and counted, the partial file removed, and the hub keeps serving.
// With several hubs: only the hub holding the "backups" lease takes a slot's backup (SetLease),
// and each slot is claimed in the database first (LeaseStore::ClaimRun), so a slot is backed up
// once even when the lease moves to another hub during it.
class BackupScheduler {
public:
    BackupScheduler(const Config& cfg, store::Store& store, const core::Clock& clock,
                    core::Secret<std::string> passphrase, obs::Registry& metrics);
    ~BackupScheduler();
    // Before Start: a slot runs only while `held()` (this hub holds the lease), and only on
    // the first hub to claim it (`holder` names this one in job_runs).
    void SetLease(std::function<bool()> held, std::string holder);
    void Start();
    void Stop();

private:
    void Loop();
    void RunSlot(std::int64_t slot_ms);
    void RunOnce();

    const Config& cfg_;
    store::Store& store_;
    const core::Clock& clock_;
    core::Secret<std::string> passphrase_;
    std::function<bool()> held_;
    std::string holder_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
    std::atomic<std::int64_t> ok_{0};
    std::atomic<std::int64_t> failed_{0};
    std::atomic<std::int64_t> last_ok_ms_{0};
    std::atomic<std::int64_t> last_bytes_{0};
};

}  // namespace hub::app
