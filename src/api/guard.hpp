#pragma once
// Authentication and permission checks for routes: one wrapper used by every protected route.
#include <functional>
#include <optional>
#include <string>

#include "auth/rbac.hpp"
#include "http/message.hpp"

namespace hub::services {
class Accounts;
}

namespace hub::api {

using AuthedHandler =
    std::function<net::awaitable<http::Response>(http::Context&, const auth::Principal&)>;

// Bearer token -> principal; 401 without a valid token; 403 without `permission`
// (empty permission = any signed-in user).
http::Handler Require(services::Accounts& accounts, std::string permission, AuthedHandler handler);

std::optional<std::string> BearerToken(const http::Request& req);

}  // namespace hub::api
