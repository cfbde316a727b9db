#include "redis/url.hpp"

#include "core/text.hpp"

namespace hub::redis {
namespace {

using core::Error;
using core::ErrorCode;

Error Invalid(std::string_view why) {
    std::string msg = "invalid Redis URL: ";
    msg += why;
    return Error::Make(ErrorCode::kInvalidArgument, "invalid_config", msg, msg);
}

bool ValidHost(std::string_view h) {
    if (h.empty() || h.size() > 253) return false;
    for (char c : h) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_' || c == ':';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

core::Result<Url> ParseUrl(std::string_view url) {
    Url u;
    std::string_view rest;
    if (url.substr(0, 8) == "redis://") {
        rest = url.substr(8);
    } else if (url.substr(0, 9) == "rediss://") {
        u.tls = true;
        rest = url.substr(9);
    } else {
        return Invalid("it must start with redis:// or rediss://");
    }
    std::string_view query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    std::string_view authority = rest;
    std::string_view path;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        authority = rest.substr(0, slash);
        path = rest.substr(slash + 1);
    }
    std::string_view hostport = authority;
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = authority.substr(0, at);
        hostport = authority.substr(at + 1);
        auto colon = userinfo.find(':');
        if (colon == std::string_view::npos) {
            return Invalid("the part before @ must be :password or user:password");
        }
        if (!core::PercentDecodeStrict(userinfo.substr(0, colon), &u.user)) {
            return Invalid("the user name is badly percent-encoded");
        }
        if (!core::PercentDecodeStrict(userinfo.substr(colon + 1), &u.password)) {
            return Invalid("the password is badly percent-encoded");
        }
        if (u.password.empty()) return Invalid("the password after : is empty");
    }
    std::string_view host = hostport;
    std::string_view port;
    if (!hostport.empty() && hostport.front() == '[') {
        auto close = hostport.find(']');
        if (close == std::string_view::npos) return Invalid("unclosed [ in the host");
        host = hostport.substr(1, close - 1);
        std::string_view after = hostport.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return Invalid("unexpected text after the host");
            port = after.substr(1);
            if (port.empty()) return Invalid("the port is empty");
        }
    } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
        host = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
        if (port.empty()) return Invalid("the port is empty");
    }
    if (!ValidHost(host)) return Invalid("the host is missing or has characters a host name cannot have");
    u.host = std::string(host);
    if (!port.empty()) {
        long long p = 0;
        if (!core::ParseIntIn(port, 1, 65535, &p)) return Invalid("the port must be a number from 1 to 65535");
        u.port = static_cast<unsigned>(p);
    }
    if (!path.empty()) {
        long long db = 0;
        if (!core::ParseIntIn(path, 0, 10000, &db)) return Invalid("the database (after /) must be a number");
        u.db = static_cast<int>(db);
    }
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view kv = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        auto eq = kv.find('=');
        std::string_view key = kv.substr(0, eq);
        std::string value;
        if (eq == std::string_view::npos || !core::PercentDecodeStrict(kv.substr(eq + 1), &value)) {
            return Invalid("query parameters must be name=value");
        }
        if (key == "tls_ca") {
            if (value.empty()) return Invalid("tls_ca is empty");
            u.tls_ca = value;
        } else {
            return Invalid("unknown query parameter '" + std::string(key) + "' (known: tls_ca)");
        }
    }
    if (!u.tls_ca.empty() && !u.tls) return Invalid("tls_ca needs rediss://");
    return u;
}

std::string Url::Redacted() const {
    std::string s = tls ? "rediss://" : "redis://";
    if (!password.empty()) {
        s += user;
        s += ":***@";
    }
    bool v6 = host.find(':') != std::string::npos;
    if (v6) s += '[';
    s += host;
    if (v6) s += ']';
    s += ':';
    s += std::to_string(port);
    s += '/';
    s += std::to_string(db);
    return s;
}

std::string RedactUnparsed(std::string_view url) {
    auto scheme = url.find("://");
    std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
    std::size_t base = scheme == std::string_view::npos ? 0 : scheme + 3;
    auto end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, end);
    auto at = authority.rfind('@');
    if (at == std::string_view::npos) return std::string(url);
    std::string out(url.substr(0, base));
    auto colon = authority.substr(0, at).find(':');
    if (colon != std::string_view::npos) {
        out += authority.substr(0, colon);
        out += ":***";
    } else {
        out += "***";
    }
    out += url.substr(base + at);
    return out;
}

}  // namespace hub::redis
