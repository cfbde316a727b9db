#include "store/file_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/id.hpp"

namespace hub::store {

namespace fs = std::filesystem;
using core::Error;
using core::ErrorCode;

namespace {

Error IoError(const std::string& what, const std::string& path) {
    return Error::Make(ErrorCode::kInternal, "file_store_error", "A file could not be stored.",
                       what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

FileStore::FileStore(std::string root) : root_(std::move(root)) {}

bool FileStore::SafePath(std::string_view path) const {
    // Only the names Put makes: "xx/<hex>.<ext>".
    if (path.empty() || path.size() > 200 || path.front() == '/') return false;
    if (path.find("..") != std::string_view::npos) return false;
    for (char c : path) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_'))
            return false;
    }
    return true;
}

core::Result<StoredFile> FileStore::Put(std::string_view bytes, std::string_view sha256_hex,
                                        std::string_view extension) {
    StoredFile f;
    f.sha256 = std::string(sha256_hex);
    if (f.sha256.size() != 64) {
        return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                           "The file name is not a SHA-256.");
    }
    f.bytes = static_cast<std::int64_t>(bytes.size());
    f.path = f.sha256.substr(0, 2) + "/" + f.sha256 + "." + std::string(extension);
    if (!SafePath(f.path)) {
        return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                           "The file type is not allowed.");
    }
    const fs::path dir = fs::path(root_) / f.sha256.substr(0, 2);
    const fs::path final_path = fs::path(root_) / f.path;
    std::error_code ec;
    if (fs::exists(final_path, ec)) return f;  // same bytes, same name
    fs::create_directories(dir, ec);
    if (ec) return IoError("mkdir", dir.string());
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::replace, ec);
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);

    const fs::path tmp = dir / (".tmp-" + core::NewId());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return IoError("open", tmp.string());
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            auto e = IoError("write", tmp.string());
            ::close(fd);
            ::unlink(tmp.c_str());
            return e;
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        auto e = IoError("fsync", tmp.string());
        ::close(fd);
        ::unlink(tmp.c_str());
        return e;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
        auto e = IoError("rename", final_path.string());
        ::unlink(tmp.c_str());
        return e;
    }
    // The new name must survive a crash too.
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
    return f;
}

core::Result<std::string> FileStore::Read(std::string_view path) const {
    if (!SafePath(path))
        return Error::Make(ErrorCode::kNotFound, "file_not_found", "No such file.");
    std::ifstream in(fs::path(root_) / std::string(path), std::ios::binary);
    if (!in) return Error::Make(ErrorCode::kNotFound, "file_not_found", "No such file.");
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return IoError("read", std::string(path));
    return data;
}

core::Result<void> FileStore::Remove(std::string_view path) {
    if (!SafePath(path)) return {};
    std::error_code ec;
    fs::remove(fs::path(root_) / std::string(path), ec);
    if (ec && ec != std::errc::no_such_file_or_directory)
        return Error::Make(ErrorCode::kInternal, "file_store_error", "A file could not be removed.",
                           ec.message());
    return {};
}

}  // namespace hub::store
