#pragma once
// Where the result files of async tasks (Wanx images) may be fetched from. DashScope answers a
// finished task with signed URLs on its result hosts; the hub downloads them at once (they
// expire after 24 hours) and never fetches any other URL: an origin (scheme, host and port)
// must match an entry of the allow-list. Pure.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "http/client.hpp"

namespace hub::bailian {

// "https://host[:port]" where the host may hold '*' (any run of letters, digits, '-' and '.'),
// e.g. "https://dashscope-result-*.aliyuncs.com"; plain http only for loopback hosts.
struct OriginPattern {
    bool tls = true;
    std::string host;  // lower case, may contain '*'
    std::uint16_t port = 443;
    bool operator==(const OriginPattern&) const = default;
};

[[nodiscard]] core::Result<OriginPattern> ParseOriginPattern(std::string_view text);
// The exact origin of a base URL as a pattern (no wildcard).
OriginPattern ExactOrigin(const http::Url& url);

// The result hosts DashScope uses in every region.
std::vector<std::string> DefaultResultOrigins();

struct ResultUrl {
    http::Url origin;
    std::string target;  // path + query, as given
};

// "scheme://host[:port]/path[?query]": no user info, no fragment; plain http only for loopback.
[[nodiscard]] core::Result<ResultUrl> ParseResultUrl(std::string_view url);

bool OriginAllowed(const std::vector<OriginPattern>& allow, const http::Url& origin);

}  // namespace hub::bailian
