#pragma once
// A ZIP archive writer (PKWARE APPNOTE 6.3, no ZIP64): entries deflated with zlib (or stored
// when that is not smaller), UTF-8 names, written to a file as they are added. Archives past
// 4 GiB or 65,535 entries are refused. Used for a user's data export.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace hub::archive {

class ZipWriter {
public:
    // Creates (or truncates) `path` with mode 0600. `mtime_ms`: the time every entry shows.
    [[nodiscard]] static core::Result<std::unique_ptr<ZipWriter>> Create(std::string path,
                                                                         std::int64_t mtime_ms);
    ~ZipWriter();
    ZipWriter(const ZipWriter&) = delete;
    ZipWriter& operator=(const ZipWriter&) = delete;

    // `name`: a relative path with '/' separators (no "..", no leading '/').
    [[nodiscard]] core::Result<void> Add(std::string_view name, std::string_view bytes);
    // Central directory, end record, fsync. The writer is then spent.
    [[nodiscard]] core::Result<std::uint64_t> Finish();  // bytes written

private:
    ZipWriter() = default;
    core::Result<void> Write(std::string_view bytes);
    std::string path_;
    int fd_ = -1;
    std::uint64_t offset_ = 0;
    std::uint16_t dos_time_ = 0;
    std::uint16_t dos_date_ = 0;
    std::uint32_t count_ = 0;
    std::string central_;
};

// Raw DEFLATE of `bytes` (zlib, level 6) and the CRC-32 of `bytes` (both used by the writer;
// public for tests).
std::string Deflate(std::string_view bytes);
std::uint32_t Crc32(std::string_view bytes);

}  // namespace hub::archive
