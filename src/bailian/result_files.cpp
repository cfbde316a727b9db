#include "bailian/result_files.hpp"

#include <algorithm>
#include <cctype>

#include "core/text.hpp"

namespace hub::bailian {

namespace {

using core::Error;
using core::ErrorCode;

Error BadUrl(std::string problem) {
    return Error::Make(ErrorCode::kInvalidArgument, "invalid_url", "The URL " + problem + ".");
}

using core::AsciiLower;

bool HostChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
}

// '*' matches one or more host characters.
bool GlobMatch(std::string_view pattern, std::string_view host) {
    if (pattern.empty()) return host.empty();
    if (pattern.front() == '*') {
        for (std::size_t i = 1; i <= host.size(); ++i) {
            if (!HostChar(host[i - 1])) return false;
            if (GlobMatch(pattern.substr(1), host.substr(i))) return true;
        }
        return false;
    }
    return !host.empty() && pattern.front() == host.front() &&
           GlobMatch(pattern.substr(1), host.substr(1));
}

}  // namespace

core::Result<OriginPattern> ParseOriginPattern(std::string_view text) {
    // Parse with the one URL parser, the wildcard replaced by a plain label.
    std::string probe(text);
    bool wildcard = false;
    for (auto& c : probe) {
        if (c == '*') {
            c = 'x';
            wildcard = true;
        }
    }
    auto url = http::ParseBaseUrl(probe);
    if (!url.ok()) return url.error();
    OriginPattern p{url->tls, AsciiLower(url->host), url->port};
    if (wildcard) {
        // Put the stars back where they were in the host.
        std::string_view rest = text.substr(text.find("://") + 3);
        std::string host(rest.substr(0, p.host.size()));
        p.host = AsciiLower(host);
        if (!url->tls) return BadUrl("pattern may not use a wildcard with plain http");
    }
    return p;
}

OriginPattern ExactOrigin(const http::Url& url) {
    return {url.tls, AsciiLower(url.host), url.port};
}

std::vector<std::string> DefaultResultOrigins() {
    // Beijing, Wulanchabu, Shanghai, Hangzhou, Singapore, Virginia...: all under this name.
    return {"https://dashscope-result-*.aliyuncs.com"};
}

core::Result<ResultUrl> ParseResultUrl(std::string_view url) {
    auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return BadUrl("has no scheme");
    auto path_start = url.find('/', scheme_end + 3);
    std::string_view authority = url.substr(scheme_end + 3, path_start == std::string_view::npos
                                                                ? std::string_view::npos
                                                                : path_start - scheme_end - 3);
    if (authority.find('@') != std::string_view::npos) return BadUrl("may not carry user info");
    if (authority.find_first_of("?#\\") != std::string_view::npos)
        return BadUrl("has a malformed host");
    auto origin = http::ParseBaseUrl(url.substr(0, scheme_end + 3 + authority.size()));
    if (!origin.ok()) return origin.error();
    ResultUrl r{origin.value(), "/"};
    if (path_start != std::string_view::npos) {
        std::string_view target = url.substr(path_start);
        target = target.substr(0, target.find('#'));
        for (char c : target) {
            if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
                return BadUrl("has characters a request line cannot carry");
        }
        r.target = std::string(target);
    }
    r.origin.host = AsciiLower(r.origin.host);
    return r;
}

bool OriginAllowed(const std::vector<OriginPattern>& allow, const http::Url& origin) {
    std::string host = AsciiLower(origin.host);
    for (const auto& p : allow) {
        if (p.tls == origin.tls && p.port == origin.port && GlobMatch(p.host, host)) return true;
    }
    return false;
}

}  // namespace hub::bailian
