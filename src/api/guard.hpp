#pragma once
// Authentication and permission checks for routes: one wrapper used by every protected route.
#include <functional>
#include <optional>
#include <string>

#include "auth/rbac.hpp"
#include "http/message.hpp"

namespace hub::services {
class Accounts;
class ApiKeys;
struct Caller;
}  // namespace hub::services

namespace hub::api {

using AuthedHandler =
    std::function<net::awaitable<http::Response>(http::Context&, const auth::Principal&)>;

// Bearer token -> principal; 401 without a valid token; 403 without `permission`
// (empty permission = any signed-in user).
http::Handler Require(services::Accounts& accounts, std::string permission, AuthedHandler handler);

std::optional<std::string> BearerToken(const http::Request& req);

// Compatible surfaces (OpenAI, DashScope pass-through) accept a platform API key or a user
// JWT. The credential comes from `Authorization: Bearer` or `x-api-key`, through this one
// function; "bh-..." credentials are platform keys, anything else is tried as a JWT.
std::optional<std::string> Credential(const http::Request& req);

// Renders an authentication/permission error in a surface's own shape; empty = the hub
// envelope (ErrorResponse).
using ErrorRenderer = std::function<http::Response(const core::Error&, const http::Request&)>;
using CallerHandler =
    std::function<net::awaitable<http::Response>(http::Context&, const services::Caller&)>;

// Like Require, for routes that also take platform keys (Caller.principal.api_key_id tells
// which). JWT-only routes keep using Require, which refuses platform keys.
http::Handler RequireKeyOrJwt(services::Accounts& accounts, services::ApiKeys& keys,
                              std::string permission, CallerHandler handler,
                              ErrorRenderer render = {});

}  // namespace hub::api
