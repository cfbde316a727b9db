#include "archive/zip_writer.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace hub::archive {

using core::Error;
using core::ErrorCode;

namespace {

void Le(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

Error IoError(const char* what, const std::string& path) {
    return Error::Make(ErrorCode::kInternal, "export_write_failed", "The export could not be written.",
                       std::string(what) + " " + path + ": " + std::strerror(errno));
}

constexpr std::uint64_t kMax32 = 0xffffffffull;

}  // namespace

std::uint32_t Crc32(std::string_view bytes) {
    uLong crc = crc32(0L, Z_NULL, 0);
    std::size_t done = 0;
    while (done < bytes.size()) {
        auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size() - done, 1u << 30));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), n);
        done += n;
    }
    return static_cast<std::uint32_t>(crc);
}

std::string Deflate(std::string_view bytes) {
    z_stream zs{};
    if (deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2 failed");
    std::string out(deflateBound(&zs, static_cast<uLong>(bytes.size())), '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    zs.avail_in = static_cast<uInt>(bytes.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    int rc = deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
    return out;
}

core::Result<std::unique_ptr<ZipWriter>> ZipWriter::Create(std::string path, std::int64_t mtime_ms) {
    std::unique_ptr<ZipWriter> w(new ZipWriter());
    w->path_ = std::move(path);
    w->fd_ = ::open(w->path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (w->fd_ < 0) return IoError("open", w->path_);
    std::time_t t = static_cast<std::time_t>(mtime_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    if (tm.tm_year < 80) tm = std::tm{0, 0, 0, 1, 0, 80, 0, 0, 0, 0, nullptr};
    w->dos_time_ = static_cast<std::uint16_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
    w->dos_date_ =
        static_cast<std::uint16_t>(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
    return w;
}

ZipWriter::~ZipWriter() {
    if (fd_ >= 0) ::close(fd_);
}

core::Result<void> ZipWriter::Write(std::string_view bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return IoError("write", path_);
        }
        done += static_cast<std::size_t>(n);
    }
    offset_ += bytes.size();
    return core::Ok();
}

core::Result<void> ZipWriter::Add(std::string_view name, std::string_view bytes) {
    if (name.empty() || name.size() > 0xffff || name.front() == '/' ||
        name.find("..") != std::string_view::npos || name.find('\\') != std::string_view::npos) {
        return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                           "An export entry has an invalid name.", std::string(name));
    }
    if (count_ >= 0xffff || bytes.size() > kMax32 || offset_ > kMax32) {
        return Error::Make(ErrorCode::kPayloadTooLarge, "export_too_large",
                           "The export is too large for one archive.");
    }
    const std::uint32_t crc = Crc32(bytes);
    std::string deflated = Deflate(bytes);
    const bool stored = deflated.size() >= bytes.size();
    std::string_view data = stored ? bytes : std::string_view(deflated);
    const std::uint16_t method = stored ? 0 : 8;
    const std::uint64_t local_offset = offset_;

    std::string local;
    Le(local, 0x04034b50, 4);
    Le(local, 20, 2);          // version needed
    Le(local, 1u << 11, 2);    // flags: UTF-8 names
    Le(local, method, 2);
    Le(local, dos_time_, 2);
    Le(local, dos_date_, 2);
    Le(local, crc, 4);
    Le(local, data.size(), 4);
    Le(local, bytes.size(), 4);
    Le(local, name.size(), 2);
    Le(local, 0, 2);  // extra
    local += name;
    if (auto r = Write(local); !r.ok()) return r;
    if (auto r = Write(data); !r.ok()) return r;

    Le(central_, 0x02014b50, 4);
    Le(central_, (3u << 8) | 20, 2);  // made by: Unix, 2.0
    Le(central_, 20, 2);
    Le(central_, 1u << 11, 2);
    Le(central_, method, 2);
    Le(central_, dos_time_, 2);
    Le(central_, dos_date_, 2);
    Le(central_, crc, 4);
    Le(central_, data.size(), 4);
    Le(central_, bytes.size(), 4);
    Le(central_, name.size(), 2);
    Le(central_, 0, 2);  // extra
    Le(central_, 0, 2);  // comment
    Le(central_, 0, 2);  // disk
    Le(central_, 0, 2);  // internal attributes
    Le(central_, static_cast<std::uint64_t>(0100600) << 16, 4);  // -rw-------
    Le(central_, local_offset, 4);
    central_ += name;
    ++count_;
    return core::Ok();
}

core::Result<std::uint64_t> ZipWriter::Finish() {
    if (offset_ > kMax32 || central_.size() > kMax32) {
        return Error::Make(ErrorCode::kPayloadTooLarge, "export_too_large",
                           "The export is too large for one archive.");
    }
    const std::uint64_t dir_offset = offset_;
    std::string end = central_;
    Le(end, 0x06054b50, 4);
    Le(end, 0, 2);
    Le(end, 0, 2);
    Le(end, count_, 2);
    Le(end, count_, 2);
    Le(end, central_.size(), 4);
    Le(end, dir_offset, 4);
    Le(end, 0, 2);
    if (auto r = Write(end); !r.ok()) return r.error();
    if (::fsync(fd_) != 0) return IoError("fsync", path_);
    ::close(fd_);
    fd_ = -1;
    return offset_;
}

}  // namespace hub::archive
