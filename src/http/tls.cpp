#include "http/tls.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

namespace hub::http {

namespace ssl = boost::asio::ssl;
using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

Error TlsError(const std::string& message) {
    return Error::Make(ErrorCode::kInvalidArgument, "tls_config", message);
}

// OpenSSL's own reason for the last failure, for the operator (never includes key material).
std::string OpenSslReason() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "unknown reason";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

Result<void> Readable(const std::string& file, const char* what) {
    std::FILE* f = std::fopen(file.c_str(), "rb");
    if (!f) return TlsError(std::string(what) + " " + file + ": " + std::strerror(errno));
    std::fclose(f);
    return core::Ok();
}

// ---- session ticket keys -------------------------------------------------------------------

// Keys that seal session tickets: made here, never written anywhere, rotated. Shared by every
// context of one TlsContext, so a certificate reload does not end resumption.
class TicketKeys {
public:
    explicit TicketKeys(std::chrono::seconds rotation) : rotation_(rotation) {}

    struct Key {
        std::array<unsigned char, 16> name{};
        std::array<unsigned char, 32> aes{};
        std::array<unsigned char, 32> hmac{};
        std::chrono::steady_clock::time_point made;
    };

    // The key to seal a new ticket with (a fresh one once the current is old).
    Key Current() {
        std::lock_guard lock(mu_);
        auto now = std::chrono::steady_clock::now();
        if (keys_.empty() || now - keys_.front().made >= rotation_) {
            Key k;
            RAND_bytes(k.name.data(), static_cast<int>(k.name.size()));
            RAND_bytes(k.aes.data(), static_cast<int>(k.aes.size()));
            RAND_bytes(k.hmac.data(), static_cast<int>(k.hmac.size()));
            k.made = now;
            keys_.insert(keys_.begin(), k);
            if (keys_.size() > 2) keys_.resize(2);  // the current and the one before
        }
        return keys_.front();
    }
    // The key named in a ticket; `current` tells whether it is the newest (else: renew).
    bool Find(const unsigned char* name, Key* out, bool* current) {
        std::lock_guard lock(mu_);
        for (std::size_t i = 0; i < keys_.size(); ++i) {
            if (std::memcmp(keys_[i].name.data(), name, keys_[i].name.size()) == 0) {
                *out = keys_[i];
                *current = i == 0;
                return true;
            }
        }
        return false;
    }
    std::chrono::seconds rotation() const { return rotation_; }

private:
    std::mutex mu_;
    std::chrono::seconds rotation_;
    std::vector<Key> keys_;  // newest first
};

int TicketKeysIndex() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

bool SetMacKey(EVP_MAC_CTX* hctx, std::array<unsigned char, 32>& key) {
    char digest[] = "sha256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.data(), key.size()),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end()};
    return EVP_MAC_CTX_set_params(hctx, params) == 1;
}

// OpenSSL's ticket callback: 1 = done, 2 = opened with an older key (issue a new ticket),
// 0 = unknown key (full handshake), -1 = failure.
int TicketCallback(SSL* s, unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cctx,
                   EVP_MAC_CTX* hctx, int enc) {
    auto* keys = static_cast<TicketKeys*>(
        SSL_CTX_get_ex_data(SSL_get_SSL_CTX(s), TicketKeysIndex()));
    if (!keys) return 0;
    if (enc) {
        TicketKeys::Key k = keys->Current();
        std::memcpy(key_name, k.name.data(), k.name.size());
        if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
        if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, k.aes.data(), iv) != 1)
            return -1;
        return SetMacKey(hctx, k.hmac) ? 1 : -1;
    }
    TicketKeys::Key k;
    bool current = false;
    if (!keys->Find(key_name, &k, &current)) return 0;
    if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, k.aes.data(), iv) != 1) return -1;
    if (!SetMacKey(hctx, k.hmac)) return -1;
    return current ? 1 : 2;
}

// ---- OCSP stapling -------------------------------------------------------------------------

int OcspCallback(SSL* s, void* arg) {
    const auto* der = static_cast<const std::string*>(arg);
    if (!der || der->empty()) return SSL_TLSEXT_ERR_NOACK;
    auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(der->size()));
    if (!copy) return SSL_TLSEXT_ERR_NOACK;
    std::memcpy(copy, der->data(), der->size());
    if (SSL_set_tlsext_status_ocsp_resp(s, copy, static_cast<long>(der->size())) != 1) {
        OPENSSL_free(copy);
        return SSL_TLSEXT_ERR_NOACK;
    }
    return SSL_TLSEXT_ERR_OK;
}

// ---- certificate facts ---------------------------------------------------------------------

CertificateInfo Describe(X509* cert) {
    CertificateInfo info;
    if (!cert) return info;
    char name[512];
    X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof name);
    info.subject = name;
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) info.not_after_s = timegm(&tm);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (X509_digest(cert, EVP_sha256(), md, &n) == 1) {
        static const char* hex = "0123456789abcdef";
        for (unsigned int i = 0; i < n; ++i) {
            info.sha256 += hex[md[i] >> 4];
            info.sha256 += hex[md[i] & 15];
        }
    }
    return info;
}

// A file's identity on disk, to notice a replaced certificate.
struct FileStamp {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

FileStamp Stamp(const std::string& file) {
    FileStamp s;
    if (file.empty()) return s;
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return s;
    s.exists = true;
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = st.st_size;
    s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    return s;
}

std::array<FileStamp, 3> Stamps(const TlsConfig& cfg) {
    return {Stamp(cfg.cert_file), Stamp(cfg.key_file), Stamp(cfg.ocsp_file)};
}

// One loaded generation: the context, and what its callbacks point at.
struct Generation {
    explicit Generation(ssl::context c) : ctx(std::move(c)) {}
    ssl::context ctx;
    std::string ocsp_der;
    CertificateInfo info;
};

constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

Result<std::shared_ptr<Generation>> Build(const TlsConfig& cfg, TicketKeys& keys) {
    if (auto r = Readable(cfg.cert_file, "TLS certificate"); !r.ok()) return r.error();
    if (auto r = Readable(cfg.key_file, "TLS key"); !r.ok()) return r.error();
    ERR_clear_error();
    auto gen = std::make_shared<Generation>(ssl::context(ssl::context::tls_server));
    SSL_CTX* ctx = gen->ctx.native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_SINGLE_ECDH_USE);
    if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
        SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1) {
        return TlsError("cipher configuration refused: " + OpenSslReason());
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg.cert_file.c_str()) != 1)
        return TlsError("TLS certificate " + cfg.cert_file +
                        " is not a PEM certificate chain: " + OpenSslReason());
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        return TlsError("TLS key " + cfg.key_file + " is not a PEM private key: " +
                        OpenSslReason());
    if (SSL_CTX_check_private_key(ctx) != 1)
        return TlsError("TLS key " + cfg.key_file + " does not match the certificate in " +
                        cfg.cert_file);
    // Tickets: our rotating keys; a ticket lives as long as its key may still open it.
    SSL_CTX_set_ex_data(ctx, TicketKeysIndex(), &keys);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, TicketCallback);
    SSL_CTX_set_timeout(ctx, static_cast<long>(keys.rotation().count() * 2));
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);  // tickets only: nothing to share
    if (!cfg.ocsp_file.empty()) {
        std::ifstream in(cfg.ocsp_file, std::ios::binary);
        if (!in) return TlsError("OCSP response " + cfg.ocsp_file + ": " + std::strerror(errno));
        std::ostringstream der;
        der << in.rdbuf();
        gen->ocsp_der = der.str();
        const unsigned char* p = reinterpret_cast<const unsigned char*>(gen->ocsp_der.data());
        OCSP_RESPONSE* resp = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(gen->ocsp_der.size()));
        if (!resp) return TlsError("OCSP response " + cfg.ocsp_file + " is not a DER OCSP response");
        OCSP_RESPONSE_free(resp);
    }
    SSL_CTX_set_tlsext_status_cb(ctx, OcspCallback);
    SSL_CTX_set_tlsext_status_arg(ctx, &gen->ocsp_der);
    gen->info = Describe(SSL_CTX_get0_certificate(ctx));
    return gen;
}

}  // namespace

struct TlsContext::Impl {
    TlsConfig cfg;
    TicketKeys keys;
    mutable std::mutex mu;
    std::shared_ptr<Generation> current;
    // The files as the last (re)load saw them, whether it worked or not: a broken file is
    // tried once, not on every check.
    std::array<FileStamp, 3> attempted;
    std::atomic<std::uint64_t> reloads{0};
    std::atomic<std::uint64_t> failures{0};

    explicit Impl(TlsConfig c) : cfg(std::move(c)), keys(cfg.ticket_rotation) {}
};

TlsContext::TlsContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsContext::~TlsContext() = default;

Result<std::shared_ptr<TlsContext>> TlsContext::Load(TlsConfig cfg) {
    auto impl = std::make_unique<Impl>(std::move(cfg));
    impl->attempted = Stamps(impl->cfg);
    auto gen = Build(impl->cfg, impl->keys);
    if (!gen.ok()) return gen.error();
    impl->current = std::move(gen.value());
    return std::shared_ptr<TlsContext>(new TlsContext(std::move(impl)));
}

std::shared_ptr<ssl::context> TlsContext::Current() const {
    std::lock_guard lock(impl_->mu);
    // Aliasing: the connection holds the whole generation (OCSP bytes included).
    return {impl_->current, &impl_->current->ctx};
}

CertificateInfo TlsContext::Info() const {
    std::lock_guard lock(impl_->mu);
    return impl_->current->info;
}

Result<CertificateInfo> TlsContext::Reload() {
    {
        std::lock_guard lock(impl_->mu);
        impl_->attempted = Stamps(impl_->cfg);
    }
    auto gen = Build(impl_->cfg, impl_->keys);
    if (!gen.ok()) {
        ++impl_->failures;
        return gen.error();
    }
    CertificateInfo info = gen.value()->info;
    {
        std::lock_guard lock(impl_->mu);
        impl_->current = std::move(gen.value());
    }
    ++impl_->reloads;
    return info;
}

bool TlsContext::FilesChanged() const {
    auto now = Stamps(impl_->cfg);
    std::lock_guard lock(impl_->mu);
    return now != impl_->attempted;
}

std::uint64_t TlsContext::reloads() const { return impl_->reloads.load(); }
std::uint64_t TlsContext::reload_failures() const { return impl_->failures.load(); }

// ---- self-signed certificates --------------------------------------------------------------

namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

bool IsIpAddress(const std::string& h) {
    unsigned char buf[16];
    return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

bool IsHostName(const std::string& h) {
    if (h.empty() || h.size() > 253) return false;
    for (char ch : h) {
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '-' || ch == '.' || ch == '*';
        if (!ok) return false;
    }
    return true;
}

bool AddExtension(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) return false;
    bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

Result<void> WritePem(const std::string& path, mode_t mode, const std::function<bool(FILE*)>& write) {
    ::unlink(path.c_str());  // a fresh file, so the mode below is the one it gets
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) return TlsError("cannot write " + path + ": " + std::strerror(errno));
    FILE* f = ::fdopen(fd, "w");
    if (!f) {
        ::close(fd);
        return TlsError("cannot write " + path + ": " + std::strerror(errno));
    }
    bool ok = write(f);
    ok = std::fflush(f) == 0 && ::fsync(fd) == 0 && ok;
    ok = std::fclose(f) == 0 && ok;
    if (!ok) return TlsError("cannot write " + path);
    return core::Ok();
}

}  // namespace

Result<std::string> WriteSelfSigned(const std::string& dir, const std::vector<std::string>& hosts,
                                    int days) {
    if (days < 1 || days > 3650) return TlsError("--days must be from 1 to 3650");
    std::vector<std::string> names = {"localhost"};
    std::vector<std::string> ips = {"127.0.0.1", "::1"};
    for (const auto& h : hosts) {
        if (IsIpAddress(h)) {
            ips.push_back(h);
        } else if (IsHostName(h)) {
            names.push_back(h);
        } else {
            return TlsError("'" + h + "' is neither a host name nor an IP address");
        }
    }
    PkeyPtr key(EVP_EC_gen("P-256"));
    X509Ptr cert(X509_new());
    if (!key || !cert) return TlsError("cannot make a key: " + OpenSslReason());
    X509_set_version(cert.get(), 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;  // positive
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    const std::string cn = hosts.empty() ? "localhost" : hosts.front();
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("Bailian Hub (self-signed)"),
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    std::string san;
    for (const auto& n : names) san += (san.empty() ? "" : ",") + std::string("DNS:") + n;
    for (const auto& ip : ips) san += ",IP:" + ip;
    if (!AddExtension(cert.get(), NID_subject_alt_name, san) ||
        !AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
        !AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature") ||
        !AddExtension(cert.get(), NID_ext_key_usage, "serverAuth")) {
        return TlsError("cannot build the certificate: " + OpenSslReason());
    }
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
        return TlsError("cannot sign the certificate: " + OpenSslReason());
    ::mkdir(dir.c_str(), 0700);
    const std::string cert_path = dir + "/cert.pem";
    const std::string key_path = dir + "/key.pem";
    auto k = WritePem(key_path, 0600, [&](FILE* f) {
        return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
    });
    if (!k.ok()) return k.error();
    auto c = WritePem(cert_path, 0644, [&](FILE* f) { return PEM_write_X509(f, cert.get()) == 1; });
    if (!c.ok()) return c.error();
    return cert_path;
}

}  // namespace hub::http
