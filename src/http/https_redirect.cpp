#include "http/https_redirect.hpp"

#include <nlohmann/json.hpp>

namespace hub::http {

namespace {

bool HostChar(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.';
}

// "name", "name:port", "[v6]", "[v6]:port" -> the host part; nothing for anything else.
std::optional<std::string> HostOnly(std::string_view host) {
    if (host.empty() || host.size() > 255) return std::nullopt;
    std::string_view name;
    if (host.front() == '[') {
        auto close = host.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        name = host.substr(0, close + 1);
        for (char ch : name.substr(1, name.size() - 2)) {
            bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                       (ch >= 'A' && ch <= 'F') || ch == ':' || ch == '.';
            if (!hex) return std::nullopt;
        }
        host.remove_prefix(close + 1);
    } else {
        auto colon = host.find(':');
        name = host.substr(0, colon);
        if (name.empty()) return std::nullopt;
        for (char ch : name)
            if (!HostChar(ch)) return std::nullopt;
        host.remove_prefix(name.size());
    }
    if (!host.empty()) {  // ":port"
        if (host.front() != ':' || host.size() < 2 || host.size() > 6) return std::nullopt;
        for (char ch : host.substr(1))
            if (ch < '0' || ch > '9') return std::nullopt;
    }
    return std::string(name);
}

}  // namespace

std::optional<std::string> HttpsLocation(const Request& req, std::uint16_t https_port,
                                         const std::string& public_url) {
    // The target is the request's own (an absolute path, checked by the server): CR/LF and
    // spaces cannot be in it, since the parser refused them.
    if (req.target.empty() || req.target.front() != '/') return std::nullopt;
    if (public_url.rfind("https://", 0) == 0) return public_url + req.target;
    auto host = req.headers.Get("Host");
    if (!host) return std::nullopt;
    auto name = HostOnly(*host);
    if (!name) return std::nullopt;
    std::string loc = "https://" + *name;
    if (https_port != 443) loc += ":" + std::to_string(https_port);
    return loc + req.target;
}

void RegisterHttpsRedirect(Router& router, std::uint16_t https_port, std::string public_url) {
    router.SetFallback(
        [https_port, public_url = std::move(public_url)](Context& ctx) -> net::awaitable<Response> {
            auto loc = HttpsLocation(ctx.req, https_port, public_url);
            if (!loc) {
                nlohmann::json body = {{"error",
                                        {{"code", "bad_request"},
                                         {"message", "This address only redirects to HTTPS, and "
                                                     "the request names no usable Host."},
                                         {"request_id", ctx.req.request_id}}}};
                co_return Response::Json(400, body.dump());
            }
            Response r;
            r.status = 308;
            r.headers.Set("Location", *loc);
            r.headers.Set("Content-Type", "text/plain; charset=utf-8");
            r.body = "Moved to " + *loc + "\n";
            co_return r;
        },
        true);
}

}  // namespace hub::http
