#pragma once
// Where Redis is: redis://[[user]:password@]host[:port][/db][?tls_ca=/path] (rediss:// for TLS,
// certificate and host name verified). Errors name what is wrong, never the password;
// Redacted() is the form for logs and /readyz.
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace hub::redis {

struct Url {
    bool tls = false;
    std::string host;
    unsigned port = 6379;
    std::string user;      // ACL user; empty = the default user (AUTH password)
    std::string password;  // empty = no AUTH
    int db = 0;
    std::string tls_ca;  // PEM bundle for a private CA; empty = the system's

    // rediss://user:***@host:port/db — the password never appears.
    std::string Redacted() const;
};

// 400-style invalid_config errors whose message says which part is wrong.
[[nodiscard]] core::Result<Url> ParseUrl(std::string_view url);

// The URL with any password replaced by ***, for text that failed to parse (best effort).
std::string RedactUnparsed(std::string_view url);

}  // namespace hub::redis
