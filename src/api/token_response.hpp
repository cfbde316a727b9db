#pragma once
// The one success answer of every sign-in (password, refresh, passkey): the token pair as
// JSON plus the refresh token as an HttpOnly, SameSite=Strict cookie.
#include <cstdint>

#include "http/message.hpp"
#include "services/accounts.hpp"

namespace hub::api {

http::Response TokenResponse(const services::TokenPair& p, std::int64_t now_ms, bool secure);

}  // namespace hub::api
