#include "services/backups.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <set>

#include "crypto/crypto.hpp"

namespace hub::services {

namespace fs = std::filesystem;
using core::Error;
using core::ErrorCode;

namespace {

constexpr int kFormatVersion = 1;

Error Corrupt(std::string detail) {
    return Error::Make(ErrorCode::kInvalidArgument, "backup_corrupt",
                       "The backup is damaged or was changed: its contents do not match its "
                       "manifest. Nothing was restored.",
                       std::move(detail));
}

Error WriteFailed(std::string detail) {
    return Error::Make(ErrorCode::kInternal, "backup_write_failed",
                       "The backup could not be written.", std::move(detail));
}

// Every regular file under the file store, as paths relative to it (temp files left out).
std::vector<std::string> StoredFiles(const std::string& root) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        const std::string name = it->path().filename().string();
        if (name.rfind(".tmp-", 0) == 0) continue;
        std::string rel = fs::relative(it->path(), root, ec).generic_string();
        if (!ec && archive::ValidEntryName(rel)) out.push_back(rel);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

core::Result<BackupResult> WriteBackup(store::Store& store, const BackupRequest& req,
                                       const core::Clock& clock) {
    const std::int64_t started = clock.NowMs();
    auto writer = archive::ContainerWriter::Create(req.out_path, req.passphrase, req.kdf);
    if (!writer.ok()) return writer.error();
    archive::ContainerWriter& w = **writer;

    // 1. The database: one consistent snapshot into a temp file beside the output.
    const std::string snap = w.partial_path() + ".db";
    struct Remove {
        const std::string& p;
        ~Remove() {
            std::error_code ec;
            for (const char* s : {"", "-journal", "-wal", "-shm"}) fs::remove(p + s, ec);
        }
    } remove_snapshot{snap};
    auto info = store.WriteSnapshot(snap);
    if (!info.ok()) {
        Error e = info.error();
        return WriteFailed("database snapshot: " + e.detail + " " + e.public_message);
    }
    nlohmann::json entries = nlohmann::json::array();
    auto add = [&](const core::Result<archive::EntryInfo>& r) {
        entries.push_back({{"name", r->name}, {"bytes", r->size}, {"sha256", r->sha256}});
    };
    auto db = w.AddFile(kDatabaseEntry, snap);
    if (!db.ok()) return db.error();
    add(db);

    // 2. Stored files. They are written before the rows that name them and never changed, so
    // every file the snapshot refers to is there (one deleted meanwhile is skipped).
    std::int64_t files = 0;
    for (const auto& rel : StoredFiles(req.files_root)) {
        auto f = w.AddFile(kFilesPrefix + rel, req.files_root + "/" + rel);
        if (!f.ok() && f.error().code == ErrorCode::kNotFound) continue;
        if (!f.ok()) return f.error();
        add(f);
        ++files;
    }

    // 3. The master key, only when asked for.
    if (req.master_key) {
        auto k = w.Add(kMasterKeyEntry, req.master_key->Reveal() + "\n");
        if (!k.ok()) return k.error();
        add(k);
    }

    nlohmann::json manifest = {
        {"format", "bailian-hub-backup"},
        {"format_version", kFormatVersion},
        {"hub_version", req.hub_version},
        {"dialect", info->dialect},
        {"schema_version", info->schema_version},
        {"created_at", core::FormatIsoMs(started)},
        {"encrypted", !req.passphrase.Reveal().empty()},
        {"master_key_included", req.master_key.has_value()},
        {"row_counts", info->row_counts},
        {"file_count", files},
        {"entries", entries},
    };
    if (auto m = w.Add(kManifestEntry, manifest.dump(2)); !m.ok()) return m.error();
    if (auto done = w.Finish(); !done.ok()) return done.error();
    std::error_code ec;
    BackupResult out;
    out.path = req.out_path;
    out.bytes = fs::file_size(req.out_path, ec);
    out.manifest = std::move(manifest);
    return out;
}

core::Result<nlohmann::json> VerifyBackup(const std::string& path,
                                          const core::Secret<std::string>& passphrase,
                                          int latest_schema, std::string_view dialect) {
    std::string manifest_text;
    auto read = archive::ReadContainer(
        path, passphrase,
        [&](const std::string& name, std::string_view piece, bool) -> core::Result<void> {
            if (name == kManifestEntry) {
                if (manifest_text.size() + piece.size() > (16u << 20))
                    return Corrupt("manifest too large");
                manifest_text.append(piece);
            }
            return core::Ok();
        });
    if (!read.ok()) return read.error();
    const auto& seen = read->entries;
    if (seen.empty() || seen.back().name != kManifestEntry)
        return Corrupt("manifest.json is not the last entry");
    auto manifest = nlohmann::json::parse(manifest_text, nullptr, false);
    if (manifest.is_discarded() || !manifest.is_object() ||
        manifest.value("format", "") != "bailian-hub-backup" ||
        !manifest.contains("entries") || !manifest["entries"].is_array() ||
        !manifest.contains("schema_version") || !manifest["schema_version"].is_number_integer()) {
        return Corrupt("manifest.json is not a backup manifest");
    }
    if (manifest.value("format_version", 0) != kFormatVersion) {
        return Error::Make(ErrorCode::kInvalidArgument, "not_a_backup",
                           "The backup was written in a format this program does not know.");
    }
    if (manifest.value("dialect", "") != dialect) {
        return Error::Make(ErrorCode::kInvalidArgument, "backup_dialect_mismatch",
                           "The backup is of a " + manifest.value("dialect", std::string("?")) +
                               " database; this hub uses " + std::string(dialect) + ".");
    }
    const int schema = manifest["schema_version"].get<int>();
    if (schema > latest_schema) {
        return Error::Make(ErrorCode::kInvalidArgument, "backup_schema_too_new",
                           "The backup's database schema (version " + std::to_string(schema) +
                               ") is newer than this program knows (" +
                               std::to_string(latest_schema) +
                               "); restore it with a newer bailian-hub.");
    }
    // Every entry but the manifest, exactly as the manifest lists it.
    const auto& listed = manifest["entries"];
    if (listed.size() + 1 != seen.size()) return Corrupt("entry count differs from the manifest");
    std::set<std::string> names;
    bool has_db = false;
    for (std::size_t i = 0; i < listed.size(); ++i) {
        const auto& m = listed[i];
        if (!m.is_object() || m.value("name", "") != seen[i].name ||
            m.value("bytes", std::uint64_t{0}) != seen[i].size ||
            m.value("sha256", "") != seen[i].sha256) {
            return Corrupt("entry " + seen[i].name + " does not match the manifest");
        }
        if (!names.insert(seen[i].name).second) return Corrupt("duplicate entry " + seen[i].name);
        if (seen[i].name == kDatabaseEntry) has_db = true;
    }
    if (!has_db) return Corrupt("no database in the backup");
    return manifest;
}

namespace {

// Writes an entry's pieces to a new file (0600, folders 0700), fsync on close.
class FileOut {
public:
    ~FileOut() { (void)Close(); }
    core::Result<void> Open(const fs::path& p) {
        (void)Close();
        std::error_code ec;
        fs::create_directories(p.parent_path(), ec);
        if (ec) return WriteFailed("mkdir " + p.parent_path().string() + ": " + ec.message());
        fd_ = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd_ < 0) return WriteFailed("open " + p.string() + ": " + std::strerror(errno));
        path_ = p.string();
        return core::Ok();
    }
    core::Result<void> Write(std::string_view bytes) {
        std::size_t done = 0;
        while (done < bytes.size()) {
            ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return WriteFailed("write " + path_ + ": " + std::strerror(errno));
            done += static_cast<std::size_t>(n);
        }
        return core::Ok();
    }
    core::Result<void> Close() {
        if (fd_ < 0) return core::Ok();
        int rc = ::fsync(fd_);
        ::close(fd_);
        fd_ = -1;
        if (rc != 0) return WriteFailed("fsync " + path_ + ": " + std::strerror(errno));
        return core::Ok();
    }

private:
    int fd_ = -1;
    std::string path_;
};

bool EmptyOrMissing(const std::string& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) return true;
    return fs::is_directory(dir, ec) && fs::is_empty(dir, ec);
}

}  // namespace

core::Result<nlohmann::json> RestoreBackup(store::RestoreTarget& target, const RestoreRequest& req) {
    auto manifest = VerifyBackup(req.from, req.passphrase, req.latest_schema, target.Dialect());
    if (!manifest.ok()) return manifest.error();
    auto empty = target.IsEmpty();
    if (!empty.ok()) return empty.error();
    if (!*empty || !EmptyOrMissing(req.files_root)) {
        return Error::Make(ErrorCode::kConflict, "restore_target_not_empty",
                           "Restore goes only into an empty data folder and database; this one "
                           "already holds data. Nothing was restored.");
    }
    std::error_code ec;
    const bool has_key = (*manifest).value("master_key_included", false);
    const bool write_key = has_key && !req.master_key_path.empty() &&
                           !fs::exists(req.master_key_path, ec);
    const std::string snap =
        (fs::path(req.work_dir) / (".restore-" + crypto::Hex(crypto::RandomBytes(6)))).string();
    bool files_created = !fs::exists(req.files_root, ec);
    bool key_written = false;
    auto undo = [&] {
        std::error_code e2;
        fs::remove(snap, e2);
        if (files_created) fs::remove_all(req.files_root, e2);
        if (key_written) fs::remove(req.master_key_path, e2);
    };

    FileOut out;
    bool writing = false;
    auto sink = [&](const std::string& name, std::string_view piece,
                    bool first) -> core::Result<void> {
        if (first) {
            if (auto r = out.Close(); !r.ok()) return r;
            fs::path dest;
            if (name == kDatabaseEntry) {
                dest = snap;
            } else if (name.rfind(kFilesPrefix, 0) == 0) {
                dest = fs::path(req.files_root) / name.substr(std::strlen(kFilesPrefix));
            } else if (name == kMasterKeyEntry && write_key) {
                dest = req.master_key_path;
                key_written = true;
            } else {
                writing = false;  // the manifest, or a key that is not wanted
                return core::Ok();
            }
            if (auto r = out.Open(dest); !r.ok()) return r;
            writing = true;
            return out.Write(piece);
        }
        if (!writing) return core::Ok();
        return out.Write(piece);
    };
    auto read = archive::ReadContainer(req.from, req.passphrase, sink);
    if (read.ok()) {
        if (auto r = out.Close(); !r.ok()) read = r.error();
    }
    if (!read.ok()) {
        undo();
        return read.error();
    }
    if (auto loaded = target.Load(snap); !loaded.ok()) {
        undo();
        return loaded.error();
    }
    fs::remove(snap, ec);
    if (fs::exists(req.files_root, ec))
        fs::permissions(req.files_root, fs::perms::owner_all, fs::perm_options::replace, ec);
    return manifest;
}

std::string ScheduledBackupName(std::int64_t now_ms) {
    std::time_t t = static_cast<std::time_t>(now_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "bailian-hub-%04d%02d%02dT%02d%02d%02d%03dZ.bhbk",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(now_ms % 1000));
    return buf;
}

bool IsScheduledBackupName(std::string_view name) {
    // bailian-hub-YYYYMMDDTHHMMSSmmmZ.bhbk
    constexpr std::string_view kPrefix = "bailian-hub-", kSuffix = "Z.bhbk";
    if (name.size() != kPrefix.size() + 18 + kSuffix.size()) return false;
    if (name.substr(0, kPrefix.size()) != kPrefix) return false;
    if (name.substr(name.size() - kSuffix.size()) != kSuffix) return false;
    std::string_view stamp = name.substr(kPrefix.size(), 18);
    for (std::size_t i = 0; i < stamp.size(); ++i) {
        if (i == 8) {
            if (stamp[i] != 'T') return false;
        } else if (!std::isdigit(static_cast<unsigned char>(stamp[i]))) {
            return false;
        }
    }
    return true;
}

std::vector<std::string> BackupsToRemove(std::vector<std::string> names, std::size_t keep) {
    std::vector<std::string> ours;
    for (auto& n : names)
        if (IsScheduledBackupName(n)) ours.push_back(std::move(n));
    std::sort(ours.begin(), ours.end(), std::greater<>());  // newest first
    if (ours.size() <= keep) return {};
    return std::vector<std::string>(ours.begin() + static_cast<std::ptrdiff_t>(keep), ours.end());
}

}  // namespace hub::services
