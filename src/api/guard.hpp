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
class Limits;
struct Caller;
struct RequestMeta;
}  // namespace hub::services

namespace hub::api {

using AuthedHandler =
    std::function<net::awaitable<http::Response>(http::Context&, const auth::Principal&)>;

// Bearer token -> principal; 401 without a valid token; 403 without `permission`
// (empty permission = any signed-in user).
http::Handler Require(services::Accounts& accounts, std::string permission, AuthedHandler handler);

std::optional<std::string> BearerToken(const http::Request& req);

// Who asked, for the audit log and the services' checks: the client IP, User-Agent and request
// id of `req` (no client-gone signal).
services::RequestMeta RequestMetaOf(const http::Request& req);

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

// ---- model calls: rate limits, budgets, overload (services::Limits) ----
//
// Every route that calls a model wraps its handler in Limited(): the call is admitted first
// (budgets, the cap on concurrent calls, the caller's request and token buckets, with the
// request body as the token estimate) and refused with 429 rate_limited / quota_exceeded or
// 503 overloaded (+ Retry-After) in the route's own error shape (`render`; empty = the hub
// envelope) before anything reaches DashScope. An admitted call gets the
// x-ratelimit-{limit,remaining,reset}-{requests,tokens} headers (streams included) and holds
// its place until the handler returns.
CallerHandler Limited(services::Limits& limits, CallerHandler handler, ErrorRenderer render = {});
AuthedHandler Limited(services::Limits& limits, AuthedHandler handler);

// A model route for platform keys and JWTs, in one call: RequireKeyOrJwt + Limited, and
// failed authentications counted per client IP (past the limit: 429 instead of 401).
http::Handler RequireModelCall(services::Accounts& accounts, services::ApiKeys& keys,
                               services::Limits& limits, CallerHandler handler,
                               ErrorRenderer render = {});

}  // namespace hub::api
