#pragma once
// TLS for the hub's listeners. Only http/ knows OpenSSL's server side: the rest of the hub
// names files (TlsConfig) and asks for a reload.
//
// - TLS 1.2 and 1.3 only; on 1.2 only ECDHE with AEAD (AES-GCM, ChaCha20-Poly1305), chosen
//   by the server's preference; no renegotiation, no compression.
// - Session tickets are sealed with keys the hub makes itself and rotates (a new key every
//   ticket_rotation; the previous one still opens tickets, which are then renewed).
// - OCSP stapling from a DER response file kept fresh by the operator (the hub never fetches
//   anything on a client's behalf); stapled when the client asks and the file is there.
// - Reload: Reload() builds a new context from the files; connections made before keep the
//   one they started with, so nothing in flight is dropped. A bad file keeps the old context.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace boost::asio::ssl {
class context;
}

namespace hub::http {

struct TlsConfig {
    std::string cert_file;  // PEM: the certificate, then any intermediates
    std::string key_file;   // PEM private key
    std::string ocsp_file;  // optional DER OCSP response for the certificate
    std::chrono::seconds ticket_rotation{12 * 3600};
    bool enabled() const { return !cert_file.empty(); }
};

// What the current certificate says, for logs and metrics.
struct CertificateInfo {
    std::string subject;
    std::int64_t not_after_s = 0;  // epoch seconds
    std::string sha256;            // fingerprint, hex
    bool expired(std::int64_t now_s) const { return not_after_s <= now_s; }
};

class TlsContext {
public:
    // Loads the files; errors name the file (missing, unreadable, not PEM, key not matching).
    static core::Result<std::shared_ptr<TlsContext>> Load(TlsConfig cfg);
    ~TlsContext();

    // The context for a new connection. The connection keeps it (shared) for its lifetime.
    std::shared_ptr<boost::asio::ssl::context> Current() const;
    CertificateInfo Info() const;

    // Re-reads the files. On failure the current context stays and the error says why.
    core::Result<CertificateInfo> Reload();
    // True when the certificate, key or OCSP file changed on disk since the last (re)load.
    bool FilesChanged() const;

    std::uint64_t reloads() const;
    std::uint64_t reload_failures() const;

    struct Impl;

private:
    explicit TlsContext(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// `bailian-hub tls self-signed`: a P-256 key and a self-signed certificate for `hosts` (DNS
// names or IP addresses; localhost, 127.0.0.1 and ::1 always) valid for `days`, written as
// DIR/cert.pem (0644) and DIR/key.pem (0600). Returns the certificate path.
core::Result<std::string> WriteSelfSigned(const std::string& dir,
                                          const std::vector<std::string>& hosts, int days);

}  // namespace hub::http
