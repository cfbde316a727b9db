#include "crypto/master_key.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "crypto/aead.hpp"
#include "crypto/crypto.hpp"

namespace hub::crypto {

namespace {

constexpr std::string_view kCheckPrefix = "kcv1:";
constexpr std::string_view kCheckConstant = "bailian-hub master key check v1";
constexpr std::size_t kMaxFileBytes = 4096;

core::Error KeyError(std::string message, std::string detail = {}) {
    return core::Error::Make(core::ErrorCode::kInternal, "master_key_invalid", std::move(message),
                             std::move(detail));
}

std::string Errno() { return std::strerror(errno); }

std::string_view TrimSpace(std::string_view s) {
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

void Wipe(std::string& s) {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

// mkdir -p with mode 0700 for the directories this creates.
core::Result<void> MakeParents(const std::filesystem::path& dir) {
    if (dir.empty()) return core::Ok();
    std::filesystem::path p;
    for (const auto& part : dir) {
        p /= part;
        struct stat st {};
        if (::stat(p.c_str(), &st) == 0) continue;
        if (::mkdir(p.c_str(), 0700) != 0 && errno != EEXIST) {
            return KeyError("Cannot create the directory for the master key file: " + p.string() +
                            " (" + Errno() + ")");
        }
    }
    return core::Ok();
}

bool WriteAll(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Writes a new key file. Returns kConflict if the file appeared meanwhile.
core::Result<void> CreateKeyFile(const std::filesystem::path& path, const MasterKey& key) {
    if (auto r = MakeParents(path.parent_path()); !r) return r;
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        if (errno == EEXIST) {
            return core::Error::Make(core::ErrorCode::kConflict, "conflict", "exists");
        }
        return KeyError("Cannot create the master key file " + path.string() + " (" + Errno() +
                        ")");
    }
    std::string text = key.ToBase64().Reveal() + "\n";
    const bool ok =
        ::fchmod(fd.get(), 0600) == 0 && WriteAll(fd.get(), text) && ::fsync(fd.get()) == 0;
    const std::string err = ok ? std::string() : Errno();
    Wipe(text);
    if (!ok || ::close(fd.release()) != 0) {
        ::unlink(path.c_str());  // never leave a half-written key behind
        return KeyError("Cannot write the master key file " + path.string() + " (" +
                        (err.empty() ? Errno() : err) + ")");
    }
    return core::Ok();
}

}  // namespace

core::Result<MasterKey> MasterKey::FromBase64(std::string_view text) {
    text = TrimSpace(text);
    if (text.empty()) return KeyError("The master key is empty.");
    auto raw = Base64Decode(text);
    if (!raw) raw = Base64UrlDecode(text);
    if (!raw) {
        return KeyError(
            "The master key is not valid base64 (generate one with "
            "`openssl rand -base64 32`).");
    }
    if (raw->size() != kBytes) {
        const std::size_t n = raw->size();
        Wipe(*raw);
        return KeyError(
            "The master key must be 32 bytes (base64 of 32 random bytes, e.g. "
            "`openssl rand -base64 32`); this one has " +
            std::to_string(n) + " bytes.");
    }
    return MasterKey(std::move(*raw));
}

core::Result<MasterKey> MasterKey::LoadOrCreateFile(const std::filesystem::path& path,
                                                    bool* created) {
    if (created != nullptr) *created = false;
    const std::string name = path.string();
    for (int round = 0; round < 2; ++round) {
        Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
        if (fd.get() < 0) {
            if (errno != ENOENT || round > 0) {
                return KeyError("Cannot open the master key file " + name + " (" + Errno() + ")");
            }
            MasterKey fresh = Generate();
            auto r = CreateKeyFile(path, fresh);
            if (r.ok()) {
                if (created != nullptr) *created = true;
                return fresh;
            }
            if (r.error().code != core::ErrorCode::kConflict) return r.error();
            continue;  // another process created it first: load theirs
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) {
            return KeyError("Cannot stat the master key file " + name + " (" + Errno() + ")");
        }
        if (!S_ISREG(st.st_mode)) {
            return KeyError("The master key file " + name + " is not a regular file.");
        }
        if ((st.st_mode & 077) != 0) {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
            return KeyError("The master key file " + name +
                            " is accessible by group or others (mode " + mode +
                            "); run: chmod 600 " + name);
        }
        if (st.st_size > static_cast<off_t>(kMaxFileBytes)) {
            return KeyError("The master key file " + name + " is too large to be a key.");
        }
        std::string text(kMaxFileBytes + 1, '\0');
        std::size_t got = 0;
        while (got < text.size()) {
            ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                Wipe(text);
                return KeyError("Cannot read the master key file " + name + " (" + Errno() + ")");
            }
            if (n == 0) break;
            got += static_cast<std::size_t>(n);
        }
        auto key = FromBase64(std::string_view(text.data(), got));
        Wipe(text);
        if (!key) {
            return KeyError("The master key file " + name +
                            " is invalid: " + key.error().public_message);
        }
        return key;
    }
    return KeyError("Cannot load the master key file " + name);
}

MasterKey MasterKey::Generate() { return MasterKey(RandomBytes(kBytes)); }

core::Secret<std::string> MasterKey::ToBase64() const {
    return core::Secret<std::string>(Base64Encode(key_.Reveal()));
}

std::string MasterKey::CheckValue() const {
    return std::string(kCheckPrefix) + Hex(HmacSha256(key_.Reveal(), kCheckConstant));
}

core::Result<void> MasterKey::VerifyCheckValue(std::string_view stored) const {
    if (ConstantTimeEquals(TrimSpace(stored), CheckValue())) return core::Ok();
    if (stored.substr(0, kCheckPrefix.size()) != kCheckPrefix) {
        return KeyError("The stored master key check value is not recognised.",
                        "check value has an unknown format");
    }
    return KeyError(
        "The master key does not match the one this database was encrypted with. Start with "
        "the original master key (BAILIAN_HUB_MASTER_KEY or the key file).");
}

core::Result<std::string> MasterKey::Encrypt(std::string_view plaintext,
                                             std::string_view associated_data) const {
    return AeadEncrypt(key_.Reveal(), plaintext, associated_data);
}

core::Result<std::string> MasterKey::Decrypt(std::string_view envelope,
                                             std::string_view associated_data) const {
    return AeadDecrypt(key_.Reveal(), envelope, associated_data);
}

}  // namespace hub::crypto
