#pragma once
// The plain-HTTP listener beside an HTTPS one: every request gets 308 to the same path and
// query on HTTPS (a 308 keeps the method and body), and nothing else is served there.
#include <cstdint>
#include <optional>
#include <string>

#include "http/message.hpp"
#include "http/router.hpp"

namespace hub::http {

// Where `req` goes on HTTPS: `public_url` (an https:// origin) when set, else the Host the
// client asked for with `https_port`. Nothing when the Host header is missing or not a plain
// host name / IP literal (it would be echoed into Location).
std::optional<std::string> HttpsLocation(const Request& req, std::uint16_t https_port,
                                         const std::string& public_url);

// A router that answers every method and path with that redirect (400 without a usable Host).
void RegisterHttpsRedirect(Router& router, std::uint16_t https_port, std::string public_url);

}  // namespace hub::http
