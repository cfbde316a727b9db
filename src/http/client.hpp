#pragma once
// The one outbound HTTP/1.1 client: keep-alive connection pool per host, TLS through OpenSSL
// with peer and host-name verification against the system CAs (plain HTTP only to loopback),
// connect / first-byte / idle-between-chunks timeouts, streaming bodies, and cancellation by
// closing the socket. Beast lives in client.cpp only.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "async/asio.hpp"
#include "core/cancel.hpp"
#include "core/result.hpp"

namespace hub::http {

struct Url {
    bool tls = true;
    std::string host;
    std::uint16_t port = 443;
    std::string Origin() const;  // scheme://host[:port]
};

// "https://host[:port]" or "http://127.0.0.1:9000" (scheme, host and port only). Plain http
// is accepted for loopback hosts only.
core::Result<Url> ParseBaseUrl(std::string_view text);

struct ClientConfig {
    std::chrono::milliseconds connect_timeout{5'000};
    std::chrono::milliseconds first_byte_timeout{60'000};  // request sent -> response head
    std::chrono::milliseconds idle_timeout{60'000};        // between body chunks
    std::size_t max_idle_per_host = 64;
    std::string ca_file;  // empty = system CAs
};

struct ClientRequest {
    std::string method = "POST";
    std::string target;  // path + query
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

// Failures are core::Error values with ErrorCode kUpstream (connect, tls, protocol, closed),
// kUpstreamTimeout (timeout) or kUnavailable (cancelled); api_code names the kind.

// A response being read. Destroying it before the end closes the connection; reading to the
// end returns a keep-alive connection to the pool.
class ClientResponse {
public:
    ~ClientResponse();
    int status() const { return status_; }
    const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
    std::string Header(std::string_view name) const;
    // Next piece of the body; an empty string means the body is complete.
    net::awaitable<core::Result<std::string>> Read();
    // Reads everything that is left (up to `limit` bytes).
    net::awaitable<core::Result<std::string>> ReadAll(std::size_t limit = 16 << 20);

    struct State;

private:
    friend class HttpClient;
    std::shared_ptr<State> s_;
    int status_ = 0;
    std::vector<std::pair<std::string, std::string>> headers_;
};

class HttpClient {
public:
    HttpClient(net::io_context& io, ClientConfig cfg);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Sends the request and waits for the response head. Triggering `cancel` (from any
    // thread) closes the connection, ending Send() or a later Read() at once. `cancel` must
    // outlive the response.
    net::awaitable<core::Result<std::unique_ptr<ClientResponse>>> Send(Url url, ClientRequest req,
                                                                       core::Cancel* cancel);

    std::size_t IdleConnections() const;
    // Host names resolved since start (a name is resolved again only after 30 s, or after a
    // connect to its addresses failed; IP addresses are never resolved).
    std::size_t Resolves() const;

    // Loads the CA certificates for https:// now (blocking, tens of milliseconds) instead of on
    // the first TLS connection; a no-op after the first call. Returns the error a TLS
    // connection would fail with when they cannot be loaded.
    core::Result<void> PrepareTls();

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace hub::http
