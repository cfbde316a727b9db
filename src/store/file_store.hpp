#pragma once
// Files the hub keeps beside its database (generated images): content-addressed under one
// folder, private to the hub (folders 0700, files 0600), written whole or not at all (a temp
// file, fsync, rename). Blocking: call from the db worker pool.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace hub::store {

struct StoredFile {
    std::string path;    // relative to the root: "ab/<sha256>.<ext>"
    std::string sha256;  // hex
    std::int64_t bytes = 0;
};

class FileStore {
public:
    explicit FileStore(std::string root);
    const std::string& root() const { return root_; }

    // Stores `bytes` under their SHA-256 (hex, computed by the caller), kept once however
    // often they are put; `extension` without the dot.
    [[nodiscard]] core::Result<StoredFile> Put(std::string_view bytes, std::string_view sha256_hex,
                                               std::string_view extension);
    // kNotFound "file_not_found" when it is gone.
    [[nodiscard]] core::Result<std::string> Read(std::string_view path) const;
    // Removing a missing file is not an error.
    [[nodiscard]] core::Result<void> Remove(std::string_view path);

private:
    bool SafePath(std::string_view path) const;
    std::string root_;
};

}  // namespace hub::store
