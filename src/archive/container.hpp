#pragma once
// The backup container: one self-contained file holding named entries (the database snapshot,
// stored files, manifest.json), optionally encrypted with a passphrase.
//
// Layout, version 1 (integers big-endian):
//   header   "BHBACKUP" | u8 version=1 | u8 mode (0 plain, 1 encrypted)
//            mode 1 adds: salt[16] | u8 log2_n | u8 r | u8 p | check[32]
//   body     the stream below; in mode 1 cut into chunks of at most 1 MiB, each stored as
//            u32 length | AES-256-GCM(nonce | ciphertext | tag) with associated data
//            header | u64 chunk index | u8 last — so a chunk cannot be changed, moved,
//            dropped or added, and a cut after any chunk is seen
//   stream   entries 'F' | u16 name length | name | u64 size | bytes, then the trailer
//            'Z' | SHA-256 of every stream byte before it
// The key is scrypt(passphrase, salt, 2^log2_n, r, p); `check` is HMAC-SHA256(key, constant),
// so a wrong passphrase is told apart from a damaged file. Nothing may follow the trailer.
//
// The writer writes to "<out>.partial-<random>" (0600) and renames it over `out` after an
// fsync only when Finish() succeeds; anything else removes the partial file.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace hub::archive {

struct KdfParams {
    int log2_n = 15;  // 32 MiB of memory, ~0.1 s
    int r = 8;
    int p = 1;
};

struct EntryInfo {
    std::string name;
    std::uint64_t size = 0;
    std::string sha256;  // hex
};

// Names are relative paths of [A-Za-z0-9._-] segments separated by '/', no "." or "..".
bool ValidEntryName(std::string_view name);

class ContainerWriter {
public:
    // Empty passphrase = not encrypted.
    [[nodiscard]] static core::Result<std::unique_ptr<ContainerWriter>> Create(
        std::string out_path, core::Secret<std::string> passphrase, KdfParams kdf = {});
    ~ContainerWriter();  // removes the partial file unless Finish() succeeded
    ContainerWriter(const ContainerWriter&) = delete;
    ContainerWriter& operator=(const ContainerWriter&) = delete;

    [[nodiscard]] core::Result<EntryInfo> Add(std::string name, std::string_view bytes);
    // Streams a file from disk; kNotFound when it is gone.
    [[nodiscard]] core::Result<EntryInfo> AddFile(std::string name, const std::string& path);
    // Trailer, flush, fsync, rename to the final name, fsync of the folder.
    [[nodiscard]] core::Result<void> Finish();
    const std::string& partial_path() const { return partial_; }

private:
    ContainerWriter() = default;
    core::Result<void> Put(std::string_view bytes);  // into the stream (hash + buffer)
    core::Result<void> Flush(bool last);             // buffer -> file (a chunk in mode 1)
    core::Result<void> WriteRaw(std::string_view bytes);

    std::string out_;
    std::string partial_;
    int fd_ = -1;
    bool done_ = false;
    std::string key_;     // empty = plain
    std::string header_;  // associated data of every chunk
    std::string buffer_;
    std::uint64_t chunk_index_ = 0;
    std::unique_ptr<struct StreamHash> hash_;
};

// Called for each piece of each entry in order: (entry name, bytes, first piece of the entry).
using EntrySink =
    std::function<core::Result<void>(const std::string& name, std::string_view piece, bool first)>;

struct ReadResult {
    std::vector<EntryInfo> entries;
    bool encrypted = false;
};

// Reads and checks a whole container, handing every entry to `sink` (may be empty: a
// verification pass). Errors (kInvalidArgument unless said otherwise):
//   "not_a_backup"         the file is not a backup container (or a newer format version)
//   "passphrase_required"  the backup is encrypted and no passphrase was given
//   "wrong_passphrase"     the passphrase does not open it
//   "backup_truncated"     the file ends early
//   "backup_corrupt"       a checksum or authentication failed, or bytes follow the end
//   kNotFound "backup_not_found", kInternal "backup_read_failed" for I/O.
// Entries seen before an error have already reached the sink: verify first, then extract.
[[nodiscard]] core::Result<ReadResult> ReadContainer(const std::string& path,
                                                     const core::Secret<std::string>& passphrase,
                                                     const EntrySink& sink = {});

}  // namespace hub::archive
