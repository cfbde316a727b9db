#pragma once
// The one success answer of every sign-in (password and its second step, refresh, passkey,
// the single-sign-on ticket exchange and link): the token pair as JSON plus the refresh token
// as an HttpOnly, SameSite=Strict cookie.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "services/accounts.hpp"

namespace hub::api {

http::Response TokenResponse(const services::TokenPair& p, std::int64_t now_ms, bool secure);

// A sign-in's answer: the tokens as above, or instead the second step it must take
// ({"mfa_required" | "mfa_enrollment_required": true, mfa_token, methods, expires_in}; no
// token, no cookie).
http::Response SignInResponse(const services::SignInResult& r, std::int64_t now_ms, bool secure);

// The value of a cookie the request carries.
std::optional<std::string> CookieValue(const http::Request& req, std::string_view name);

}  // namespace hub::api
