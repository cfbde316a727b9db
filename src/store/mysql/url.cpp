#include "store/mysql/url.hpp"

#include "core/text.hpp"

namespace hub::store::mysql {

namespace {

using core::Error;
using core::ErrorCode;

constexpr std::string_view kScheme = "mysql://";

Error Invalid(std::string_view why) {
    std::string msg = "invalid database URL: ";
    msg += why;
    return Error::Make(ErrorCode::kInvalidArgument, "invalid_config", msg, msg);
}

bool ValidDatabaseName(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '$' || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

core::Result<UrlOptions> ParseUrl(std::string_view url) {
    if (url.substr(0, kScheme.size()) != kScheme) return Invalid("it must start with mysql://");
    std::string_view rest = url.substr(kScheme.size());
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
    UrlOptions o;
    auto at = authority.rfind('@');
    if (at == std::string_view::npos) {
        return Invalid("it must name a user (mysql://user:password@host/db)");
    }
    std::string_view userinfo = authority.substr(0, at);
    std::string_view hostport = authority.substr(at + 1);
    std::string_view user = userinfo;
    std::string_view password;
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
        user = userinfo.substr(0, colon);
        password = userinfo.substr(colon + 1);
    }
    if (!core::PercentDecodeStrict(user, &o.user) || o.user.empty()) {
        return Invalid("the user name is missing or badly percent-encoded");
    }
    if (!core::PercentDecodeStrict(password, &o.password)) {
        return Invalid("the password is badly percent-encoded");
    }
    // host[:port], or [v6]:port
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
    o.host = std::string(host);
    if (!port.empty()) {
        long long p = 0;
        if (!core::ParseIntIn(port, 1, 65535, &p)) return Invalid("the port must be a number from 1 to 65535");
        o.port = static_cast<unsigned>(p);
    }
    if (!ValidDatabaseName(path)) {
        return Invalid("the database name is missing or not made of letters, digits, _ $ -");
    }
    o.database = std::string(path);
    while (!query.empty()) {
        std::string_view pair = query;
        if (auto amp = query.find('&'); amp != std::string_view::npos) {
            pair = query.substr(0, amp);
            query = query.substr(amp + 1);
        } else {
            query = {};
        }
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        if (eq == std::string_view::npos) return Invalid("a query parameter has no value");
        std::string_view key = pair.substr(0, eq);
        std::string value;
        if (!core::PercentDecodeStrict(pair.substr(eq + 1), &value)) {
            return Invalid("a query parameter is badly percent-encoded");
        }
        long long n = 0;
        if (key == "socket") {
            if (value.empty() || value.front() != '/') return Invalid("socket must be an absolute path");
            o.socket = value;
        } else if (key == "tls") {
            if (value == "required") {
                o.tls_required = true;
            } else if (value == "disabled") {
                o.tls_required = false;
            } else {
                return Invalid("tls must be required or disabled");
            }
        } else if (key == "tls_ca") {
            if (value.empty() || value.front() != '/') return Invalid("tls_ca must be an absolute path");
            o.tls_ca = value;
            o.tls_required = true;
        } else if (key == "pool") {
            if (!core::ParseIntIn(value, 1, 256, &n)) return Invalid("pool must be a number from 1 to 256");
            o.pool = static_cast<int>(n);
        } else if (key == "timeout_ms") {
            if (!core::ParseIntIn(value, 100, 600000, &n)) {
                return Invalid("timeout_ms must be a number from 100 to 600000");
            }
            o.timeout_ms = static_cast<int>(n);
        } else {
            return Invalid("unknown query parameter '" + std::string(key.substr(0, 32)) +
                           "' (known: socket, tls, tls_ca, pool, timeout_ms)");
        }
    }
    if (o.socket.empty() && o.host.empty()) return Invalid("the host is missing (or give ?socket=)");
    return o;
}

std::string Redacted(std::string_view url) {
    std::size_t start = 0;
    if (auto s = url.find("://"); s != std::string_view::npos) start = s + 3;
    // The authority ends at the first '/', '?' after the scheme; its last '@' ends the userinfo.
    std::size_t end = url.find_first_of("/?", start);
    if (end == std::string_view::npos) end = url.size();
    std::string_view authority = url.substr(start, end - start);
    auto at = authority.rfind('@');
    if (at == std::string_view::npos) {
        // No userinfo; if something that looks like one hides later, say nothing of it.
        if (url.find('@', end) != std::string_view::npos) return std::string(url.substr(0, start)) + "***";
        return std::string(url);
    }
    auto colon = authority.substr(0, at).find(':');
    if (colon == std::string_view::npos) return std::string(url);
    std::string out(url.substr(0, start + colon + 1));
    out += "***";
    out += url.substr(start + at);
    return out;
}

}  // namespace hub::store::mysql
