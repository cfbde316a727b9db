#pragma once
// The MariaDB/MySQL connection URL of BAILIAN_HUB_DATABASE_URL:
//   mysql://user:password@host:port/db[?socket=/path&tls=required&tls_ca=/path&pool=N&timeout_ms=N]
// user and password are percent-decoded; the port defaults to 3306; with `socket` the host is
// ignored and the server is reached over that Unix socket.
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace hub::store::mysql {

struct UrlOptions {
    std::string user;
    std::string password;
    std::string host;
    unsigned port = 3306;
    std::string socket;  // non-empty: connect over this Unix socket
    std::string database;
    // TLS is required and the server's certificate verified (system CAs, or tls_ca; and the
    // host name): a server without TLS, or with a certificate that does not verify, is refused.
    bool tls_required = false;
    std::string tls_ca;  // a CA file (PEM) for the server's certificate; implies tls_required
    int pool = 8;              // connections at most
    int timeout_ms = 5000;     // connect/read/write timeouts, and waiting for a free connection
};

// kInvalidArgument "invalid_config" for a malformed URL; no message ever contains the
// password.
core::Result<UrlOptions> ParseUrl(std::string_view url);

// The URL with its password replaced by *** (for logs); safe for malformed URLs too.
std::string Redacted(std::string_view url);

}  // namespace hub::store::mysql
