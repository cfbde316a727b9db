#pragma once
// The HTTP/1.1 server: one coroutine per connection, keep-alive, limits and timeouts,
// request ids, security headers, access log, graceful drain. Beast lives in server.cpp only.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

namespace hub::obs {
class Registry;
}

namespace hub::http {

class TlsContext;

// A body limit for one route (exact method and path) instead of ServerConfig::body_limit,
// e.g. file uploads.
struct BodyLimitRule {
    std::string method;
    std::string path;
    std::size_t limit = 0;
};

struct ServerConfig {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;  // 0 = ephemeral
    std::size_t body_limit = 1 << 20;
    std::vector<BodyLimitRule> body_limits;  // per-route exceptions to body_limit
    std::chrono::milliseconds header_timeout{10'000};  // whole request head must arrive
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds idle_timeout{60'000};    // between keep-alive requests
    std::chrono::milliseconds write_timeout{30'000};
    std::size_t max_connections = 10'000;
    std::vector<std::string> trusted_proxies;  // exact peer IPs whose X-Forwarded-For is believed
    bool security_headers = true;
    std::string content_security_policy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";
    // Strict-Transport-Security max-age on every answer; 0 = none (plain HTTP on loopback).
    std::int64_t hsts_max_age_s = 0;
    std::string server_name = "bailian-hub";
    // HTTPS on this listener (certificate, key, tickets, reloads). Null = plain HTTP.
    std::shared_ptr<TlsContext> tls;
    // Plain HTTP that must have been HTTPS to the client: requests are answered only from
    // loopback, or from a trusted proxy that says X-Forwarded-Proto: https (403 otherwise).
    bool require_https = false;
    // The io_context is run by one thread only: its handlers never run at the same time, so a
    // connection needs no strand of its own (a strand costs a queue and a shared count on every
    // completion). False (a strand per connection) is right whatever the thread count.
    bool one_io_thread = false;
};

// The body limit of a request: its route's rule, else cfg.body_limit (pure, tested).
std::size_t BodyLimitFor(const ServerConfig& cfg, std::string_view method, std::string_view target);
// The largest limit any request may have (what the parser allows before the head is read).
std::size_t LargestBodyLimit(const ServerConfig& cfg);

// Builds an error response in the API's envelope (supplied by api/errors).
using ErrorRenderer = std::function<Response(const core::Error&, const std::string& request_id)>;

class Server {
public:
    // With `metrics`, the server registers and keeps bailian_hub_http_* (requests by method,
    // route pattern and status; latency; open connections, requests in flight and streams).
    Server(net::io_context& io, ServerConfig cfg, const Router& router, ErrorRenderer render,
           obs::Registry* metrics = nullptr);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and listens; returns the bound port (useful with port 0).
    core::Result<std::uint16_t> Listen();
    void Start();  // begins accepting (call once, after Listen)
    // Stops accepting; in-flight requests and streams may finish. Calls on_drained (from an
    // io thread) when no request is in flight any more or when the deadline passes.
    void BeginShutdown(std::chrono::milliseconds deadline, std::function<void(bool clean)> on_drained);

    std::size_t ActiveConnections() const;
    std::size_t ActiveRequests() const;
    std::size_t ActiveStreams() const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace hub::http
