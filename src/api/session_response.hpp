#pragma once
// The answer of a successful sign-in, the same for every way of signing in (password login,
// refresh, the single-sign-on ticket exchange and link): {access_token, token_type,
// expires_in, refresh_token, user} plus the refresh token as an HttpOnly cookie.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace hub::services {
struct TokenPair;
}

namespace hub::api {

http::Response TokenResponse(const services::TokenPair& p, std::int64_t now_ms, bool secure);

// The value of a cookie the request carries.
std::optional<std::string> CookieValue(const http::Request& req, std::string_view name);

}  // namespace hub::api
