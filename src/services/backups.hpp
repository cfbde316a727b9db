#pragma once
// Backups and restores of the whole hub: one consistent snapshot of the database (taken while
// the hub serves), the stored files, and manifest.json, in one archive::Container file,
// optionally encrypted with a passphrase. The master key is left out unless asked for.
//
// manifest.json (the container's last entry):
//   {"format": "bailian-hub-backup", "format_version": 1, "hub_version", "dialect",
//    "schema_version", "created_at" (ISO 8601), "encrypted", "master_key_included",
//    "row_counts": {table: rows}, "entries": [{"name", "bytes", "sha256"}]}
// A restore reads the whole file and checks every entry against the manifest before it
// writes anything, refuses a schema newer than the binary knows, and writes only into an
// empty database. Blocking: run on a worker pool, never on an io thread.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "archive/container.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "store/snapshot.hpp"
#include "store/store.hpp"

namespace hub::services {

inline constexpr const char* kManifestEntry = "manifest.json";
inline constexpr const char* kDatabaseEntry = "database.snapshot";
inline constexpr const char* kMasterKeyEntry = "master.key";
inline constexpr const char* kFilesPrefix = "files/";

struct BackupRequest {
    std::string out_path;
    core::Secret<std::string> passphrase;  // empty = not encrypted
    std::string files_root;                // <data dir>/files
    // Only with an explicit --include-master-key: the key file's text (base64).
    std::optional<core::Secret<std::string>> master_key;
    std::string hub_version;
    archive::KdfParams kdf;
};

struct BackupResult {
    std::string path;
    std::uint64_t bytes = 0;
    nlohmann::json manifest;
};

// kInternal "backup_write_failed" (disk full, I/O): the partial file is removed.
[[nodiscard]] core::Result<BackupResult> WriteBackup(store::Store& store, const BackupRequest& req,
                                                     const core::Clock& clock);

// Reads the whole backup and checks it: container checksums (or authentication), every entry
// against the manifest, the format and the schema version. Writes nothing. Errors: those of
// archive::ReadContainer, plus kInvalidArgument "backup_corrupt" (manifest missing or not
// matching), "backup_schema_too_new", "backup_dialect_mismatch".
[[nodiscard]] core::Result<nlohmann::json> VerifyBackup(const std::string& path,
                                                        const core::Secret<std::string>& passphrase,
                                                        int latest_schema,
                                                        std::string_view dialect);

struct RestoreRequest {
    std::string from;
    core::Secret<std::string> passphrase;
    std::string files_root;       // where the stored files go (must be empty or missing)
    std::string master_key_path;  // where an included master key goes (if not already there)
    std::string work_dir;         // a folder for the database snapshot while it is loaded
    int latest_schema = 0;
};

// VerifyBackup, then (only if that passed) the target must be empty — kConflict
// "restore_target_not_empty" otherwise — and every entry is written. Returns the manifest.
// Whatever a failed restore wrote is removed again. Migrating an older schema is the caller's
// next step (it opens the store as usual).
[[nodiscard]] core::Result<nlohmann::json> RestoreBackup(store::RestoreTarget& target,
                                                         const RestoreRequest& req);

// Scheduled backups: "bailian-hub-20261206T101500123Z.bhbk" (sortable by time).
std::string ScheduledBackupName(std::int64_t now_ms);
bool IsScheduledBackupName(std::string_view name);
// Of the scheduled backups among `names`, the ones to delete so that the newest `keep` stay.
std::vector<std::string> BackupsToRemove(std::vector<std::string> names, std::size_t keep);

}  // namespace hub::services
