#include "archive/container.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "crypto/aead.hpp"
#include "crypto/crypto.hpp"

namespace hub::archive {

namespace fs = std::filesystem;
using core::Error;
using core::ErrorCode;

struct StreamHash {
    crypto::Sha256Stream sha;
};

namespace {

constexpr std::string_view kMagic = "BHBACKUP";
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kChunk = 1u << 20;
constexpr std::size_t kSaltBytes = 16;
constexpr std::string_view kCheckLabel = "bailian-hub backup key check v1";
constexpr std::uint32_t kMaxSealed = kChunk + 64;

void PutU(std::string& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t GetU(std::string_view in, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
    return v;
}

Error IoError(const char* what, const std::string& path) {
    return Error::Make(ErrorCode::kInternal, "backup_write_failed",
                       "The backup could not be written.",
                       std::string(what) + " " + path + ": " + std::strerror(errno));
}

Error Bad(std::string code, std::string message, std::string detail = {}) {
    return Error::Make(ErrorCode::kInvalidArgument, std::move(code), std::move(message),
                       std::move(detail));
}

Error Corrupt(std::string detail) {
    return Bad("backup_corrupt",
               "The backup is damaged or was changed: a checksum does not match. Nothing was "
               "restored.",
               std::move(detail));
}

Error Truncated() {
    return Bad("backup_truncated", "The backup file is incomplete (it ends early). Nothing was "
                                   "restored.");
}

std::string ChunkAad(const std::string& header, std::uint64_t index, bool last) {
    std::string aad = header;
    PutU(aad, index, 8);
    aad.push_back(last ? 1 : 0);
    return aad;
}

std::optional<std::string> DeriveKey(const std::string& passphrase, std::string_view salt,
                                     const KdfParams& kdf) {
    return crypto::Scrypt(passphrase, salt, kdf.log2_n, kdf.r, kdf.p, crypto::kAeadKeyBytes);
}

}  // namespace

bool ValidEntryName(std::string_view name) {
    if (name.empty() || name.size() > 512 || name.front() == '/' || name.back() == '/')
        return false;
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = name.find('/', start);
        if (end == std::string_view::npos) end = name.size();
        std::string_view seg = name.substr(start, end - start);
        if (seg.empty() || seg == "." || seg == "..") return false;
        for (char c : seg) {
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
                return false;
        }
        start = end + 1;
    }
    return true;
}

core::Result<std::unique_ptr<ContainerWriter>> ContainerWriter::Create(
    std::string out_path, core::Secret<std::string> passphrase, KdfParams kdf) {
    std::unique_ptr<ContainerWriter> w(new ContainerWriter());
    w->out_ = std::move(out_path);
    w->partial_ = w->out_ + ".partial-" + crypto::Hex(crypto::RandomBytes(6));
    w->hash_ = std::make_unique<StreamHash>();
    w->header_ = std::string(kMagic);
    w->header_.push_back(static_cast<char>(kVersion));
    if (!passphrase.Reveal().empty()) {
        std::string salt = crypto::RandomBytes(kSaltBytes);
        auto key = DeriveKey(passphrase.Reveal(), salt, kdf);
        if (!key) {
            return Error::Make(ErrorCode::kInvalidArgument, "invalid_kdf",
                               "The key-derivation parameters are not usable.");
        }
        w->key_ = std::move(*key);
        w->header_.push_back(1);
        w->header_ += salt;
        w->header_.push_back(static_cast<char>(kdf.log2_n));
        w->header_.push_back(static_cast<char>(kdf.r));
        w->header_.push_back(static_cast<char>(kdf.p));
        w->header_ += crypto::HmacSha256(w->key_, kCheckLabel);
    } else {
        w->header_.push_back(0);
    }
    w->fd_ = ::open(w->partial_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->fd_ < 0) return IoError("open", w->partial_);
    if (auto r = w->WriteRaw(w->header_); !r.ok()) return r.error();
    return w;
}

ContainerWriter::~ContainerWriter() {
    if (fd_ >= 0) ::close(fd_);
    if (!done_) ::unlink(partial_.c_str());
    if (!key_.empty()) std::memset(key_.data(), 0, key_.size());
}

core::Result<void> ContainerWriter::WriteRaw(std::string_view bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return IoError("write", partial_);
        }
        done += static_cast<std::size_t>(n);
    }
    return core::Ok();
}

core::Result<void> ContainerWriter::Flush(bool last) {
    if (key_.empty()) {
        auto r = WriteRaw(buffer_);
        buffer_.clear();
        return r;
    }
    while (buffer_.size() >= kChunk || (last && (!buffer_.empty() || chunk_index_ == 0) )) {
        std::size_t take = std::min(buffer_.size(), kChunk);
        bool is_last = last && take == buffer_.size();
        auto sealed = crypto::AeadSeal(key_, std::string_view(buffer_).substr(0, take),
                                       ChunkAad(header_, chunk_index_, is_last));
        if (!sealed.ok()) return sealed.error();
        std::string frame;
        PutU(frame, sealed->size(), 4);
        frame += *sealed;
        if (auto r = WriteRaw(frame); !r.ok()) return r;
        buffer_.erase(0, take);
        ++chunk_index_;
        if (is_last) break;
    }
    return core::Ok();
}

core::Result<void> ContainerWriter::Put(std::string_view bytes) {
    hash_->sha.Update(bytes);
    buffer_.append(bytes);
    if (buffer_.size() >= kChunk) return Flush(false);
    return core::Ok();
}

core::Result<EntryInfo> ContainerWriter::Add(std::string name, std::string_view bytes) {
    if (!ValidEntryName(name)) {
        return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                           "A backup entry has an invalid name.", name);
    }
    std::string head = "F";
    PutU(head, name.size(), 2);
    head += name;
    PutU(head, bytes.size(), 8);
    if (auto r = Put(head); !r.ok()) return r.error();
    if (auto r = Put(bytes); !r.ok()) return r.error();
    return EntryInfo{std::move(name), bytes.size(), crypto::Sha256Hex(bytes)};
}

core::Result<EntryInfo> ContainerWriter::AddFile(std::string name, const std::string& path) {
    if (!ValidEntryName(name)) {
        return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                           "A backup entry has an invalid name.", name);
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return Error::Make(ErrorCode::kNotFound, "file_not_found", "No such file.", path);
        return IoError("open", path);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        auto e = IoError("stat", path);
        ::close(fd);
        return e;
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    std::string head = "F";
    PutU(head, name.size(), 2);
    head += name;
    PutU(head, size, 8);
    if (auto r = Put(head); !r.ok()) {
        ::close(fd);
        return r.error();
    }
    crypto::Sha256Stream sha;
    std::string buf(1u << 16, '\0');
    std::uint64_t left = size;
    while (left > 0) {
        ssize_t n = ::read(fd, buf.data(), std::min<std::uint64_t>(buf.size(), left));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            // The file shrank while it was read: the entry would lie about its size.
            auto e = n < 0 ? IoError("read", path)
                           : Error::Make(ErrorCode::kInternal, "backup_write_failed",
                                         "The backup could not be written.",
                                         "file changed while read: " + path);
            ::close(fd);
            return e;
        }
        std::string_view piece(buf.data(), static_cast<std::size_t>(n));
        sha.Update(piece);
        if (auto r = Put(piece); !r.ok()) {
            ::close(fd);
            return r.error();
        }
        left -= static_cast<std::uint64_t>(n);
    }
    ::close(fd);
    return EntryInfo{std::move(name), size, sha.FinalHex()};
}

core::Result<void> ContainerWriter::Finish() {
    std::string trailer = "Z";
    trailer += hash_->sha.Final();
    buffer_ += trailer;
    if (auto r = Flush(true); !r.ok()) return r;
    if (::fsync(fd_) != 0) return IoError("fsync", partial_);
    if (::close(fd_) != 0) {
        fd_ = -1;
        return IoError("close", partial_);
    }
    fd_ = -1;
    if (::rename(partial_.c_str(), out_.c_str()) != 0) return IoError("rename", out_);
    done_ = true;
    std::string dir = fs::path(out_).parent_path().string();
    if (dir.empty()) dir = ".";
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
    return core::Ok();
}

namespace {

// The file's bytes: exactly n, or fewer at the end of the file.
class FileIn {
public:
    explicit FileIn(int fd) : fd_(fd) {}
    ~FileIn() { ::close(fd_); }
    core::Result<std::string> Read(std::size_t n) {
        std::string out(n, '\0');
        std::size_t got = 0;
        while (got < n) {
            ssize_t r = ::read(fd_, out.data() + got, n - got);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0)
                return Error::Make(ErrorCode::kInternal, "backup_read_failed",
                                   "The backup could not be read.", std::strerror(errno));
            if (r == 0) break;
            got += static_cast<std::size_t>(r);
        }
        out.resize(got);
        return out;
    }

private:
    int fd_;
};

// Turns the file into the plain stream: either the bytes as they are, or chunk by chunk
// decrypted and authenticated.
class StreamIn {
public:
    StreamIn(FileIn& in, std::string key, std::string header)
        : in_(in), key_(std::move(key)), header_(std::move(header)) {}
    ~StreamIn() {
        if (!key_.empty()) std::memset(key_.data(), 0, key_.size());
    }
    // Exactly n bytes of the stream, or backup_truncated.
    core::Result<std::string> Take(std::size_t n) {
        while (buf_.size() - pos_ < n) {
            if (ended_) return Truncated();
            if (auto r = Fill(); !r.ok()) return r.error();
        }
        std::string out = buf_.substr(pos_, n);
        pos_ += n;
        if (pos_ > (1u << 22)) {
            buf_.erase(0, pos_);
            pos_ = 0;
        }
        return out;
    }
    // After the trailer: nothing may follow.
    core::Result<void> ExpectEnd() {
        if (pos_ != buf_.size()) return Corrupt("bytes after the trailer");
        if (key_.empty()) {
            auto more = in_.Read(1);
            if (!more.ok()) return more.error();
            if (!more->empty()) return Corrupt("bytes after the trailer");
            return core::Ok();
        }
        if (!ended_) return Corrupt("chunks after the trailer");
        auto more = in_.Read(1);
        if (!more.ok()) return more.error();
        if (!more->empty()) return Corrupt("bytes after the last chunk");
        return core::Ok();
    }

private:
    core::Result<void> Fill() {
        if (key_.empty()) {
            auto r = in_.Read(1u << 16);
            if (!r.ok()) return r.error();
            if (r->empty()) {
                ended_ = true;
                return core::Ok();
            }
            buf_ += *r;
            return core::Ok();
        }
        auto len = in_.Read(4);
        if (!len.ok()) return len.error();
        if (len->size() < 4) {
            ended_ = true;  // the last chunk never came: truncated
            return core::Ok();
        }
        std::uint64_t n = GetU(*len, 4);
        if (n > kMaxSealed || n < crypto::kAeadNonceBytes + crypto::kAeadTagBytes)
            return Corrupt("bad chunk length");
        auto sealed = in_.Read(static_cast<std::size_t>(n));
        if (!sealed.ok()) return sealed.error();
        if (sealed->size() < n) {
            ended_ = true;
            return core::Ok();
        }
        // A chunk opens with exactly one of the two associated data: it says whether it was
        // the last one.
        auto plain = crypto::AeadOpen(key_, *sealed, ChunkAad(header_, index_, false));
        bool last = false;
        if (!plain.ok()) {
            plain = crypto::AeadOpen(key_, *sealed, ChunkAad(header_, index_, true));
            if (!plain.ok()) return Corrupt("chunk " + std::to_string(index_) + " failed to authenticate");
            last = true;
        }
        ++index_;
        buf_ += *plain;
        if (last) ended_ = true;
        return core::Ok();
    }

    FileIn& in_;
    std::string key_;
    std::string header_;
    std::string buf_;
    std::size_t pos_ = 0;
    std::uint64_t index_ = 0;
    bool ended_ = false;
};

}  // namespace

core::Result<ReadResult> ReadContainer(const std::string& path,
                                       const core::Secret<std::string>& passphrase,
                                       const EntrySink& sink) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return Error::Make(ErrorCode::kNotFound, "backup_not_found", "The backup file was not found.",
                           path + ": " + std::strerror(errno));
    }
    FileIn in(fd);
    auto head = in.Read(kMagic.size() + 2);
    if (!head.ok()) return head.error();
    if (head->size() < kMagic.size() + 2 || head->substr(0, kMagic.size()) != kMagic)
        return Bad("not_a_backup", "The file is not a Bailian Hub backup.");
    if (static_cast<std::uint8_t>((*head)[kMagic.size()]) != kVersion)
        return Bad("not_a_backup", "The backup was written in a format this program does not "
                                   "know (a newer version?).");
    ReadResult result;
    std::string header = *head;
    std::string key;
    const auto mode = static_cast<std::uint8_t>((*head)[kMagic.size() + 1]);
    if (mode == 1) {
        result.encrypted = true;
        auto rest = in.Read(kSaltBytes + 3 + 32);
        if (!rest.ok()) return rest.error();
        if (rest->size() < kSaltBytes + 3 + 32) return Truncated();
        header += *rest;
        if (passphrase.Reveal().empty()) {
            return Bad("passphrase_required",
                       "The backup is encrypted: give its passphrase (--passphrase-file or "
                       "BAILIAN_HUB_BACKUP_PASSPHRASE).");
        }
        KdfParams kdf{static_cast<unsigned char>((*rest)[kSaltBytes]),
                      static_cast<unsigned char>((*rest)[kSaltBytes + 1]),
                      static_cast<unsigned char>((*rest)[kSaltBytes + 2])};
        // Costs beyond what a writer uses would only be a way to exhaust memory.
        if (kdf.log2_n > 20 || kdf.r > 16 || kdf.p > 4) return Corrupt("key-derivation costs too high");
        auto k = DeriveKey(passphrase.Reveal(), rest->substr(0, kSaltBytes), kdf);
        if (!k) return Corrupt("unusable key-derivation parameters");
        if (!crypto::ConstantTimeEquals(crypto::HmacSha256(*k, kCheckLabel),
                                        rest->substr(kSaltBytes + 3))) {
            return Bad("wrong_passphrase", "The passphrase does not open this backup.");
        }
        key = std::move(*k);
    } else if (mode != 0) {
        return Bad("not_a_backup", "The backup uses an encryption this program does not know.");
    }

    StreamIn stream(in, std::move(key), header);
    crypto::Sha256Stream whole;
    for (;;) {
        auto tag = stream.Take(1);
        if (!tag.ok()) return tag.error();
        if (*tag == "Z") {  // the trailer: the digest of everything before it
            auto digest = stream.Take(32);
            if (!digest.ok()) return digest.error();
            if (!crypto::ConstantTimeEquals(whole.Final(), *digest))
                return Corrupt("stream checksum mismatch");
            if (auto end = stream.ExpectEnd(); !end.ok()) return end.error();
            return result;
        }
        if (*tag != "F") return Corrupt("unknown record type");
        whole.Update(*tag);
        auto name_len = stream.Take(2);
        if (!name_len.ok()) return name_len.error();
        whole.Update(*name_len);
        auto name = stream.Take(static_cast<std::size_t>(GetU(*name_len, 2)));
        if (!name.ok()) return name.error();
        whole.Update(*name);
        if (!ValidEntryName(*name)) return Corrupt("invalid entry name");
        auto size_bytes = stream.Take(8);
        if (!size_bytes.ok()) return size_bytes.error();
        whole.Update(*size_bytes);
        std::uint64_t left = GetU(*size_bytes, 8);
        EntryInfo info{*name, left, {}};
        crypto::Sha256Stream sha;
        bool first = true;
        do {
            auto piece = stream.Take(static_cast<std::size_t>(std::min<std::uint64_t>(left, 1u << 16)));
            if (!piece.ok()) return piece.error();
            whole.Update(*piece);
            sha.Update(*piece);
            if (sink) {
                if (auto r = sink(info.name, *piece, first); !r.ok()) return r.error();
            }
            first = false;
            left -= piece->size();
        } while (left > 0);
        info.sha256 = sha.FinalHex();
        result.entries.push_back(std::move(info));
    }
}

}  // namespace hub::archive
