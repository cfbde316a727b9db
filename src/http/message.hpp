#pragma once
// HTTP request/response values. No Beast types here: handlers and services see only these.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "async/asio.hpp"
#include "core/text.hpp"

namespace hub::http {

using core::IEquals;

class Headers {
public:
    struct Field {
        std::string name;
        std::string value;
    };
    std::optional<std::string_view> Get(std::string_view name) const;
    std::string GetOr(std::string_view name, std::string_view fallback = {}) const;
    bool Has(std::string_view name) const { return Get(name).has_value(); }
    void Set(std::string name, std::string value);  // replaces every field of that name
    void Add(std::string name, std::string value);  // keeps existing ones (Set-Cookie)
    void Remove(std::string_view name);
    const std::vector<Field>& fields() const { return fields_; }

private:
    std::vector<Field> fields_;
};

struct Request {
    std::string method;   // upper case, e.g. "GET"
    std::string target;   // as received: path + optional "?query"
    std::string path;     // percent-encoded path part of target
    std::string query;    // raw query string (without '?')
    Headers headers;
    std::string body;
    std::string remote_ip;   // socket peer, or X-Forwarded-For from a trusted proxy
    std::string request_id;  // kept from X-Request-Id when valid, else generated
    std::map<std::string, std::string> params;  // path parameters, percent-decoded

    // First value of a query parameter, percent-decoded ('+' is a space).
    std::optional<std::string> Query(std::string_view name) const;
    std::string Param(const std::string& name) const;
};

struct Response {
    int status = 200;
    Headers headers;
    std::string body;

    static Response Json(int status, std::string json_body);
    static Response Text(int status, std::string body, std::string content_type);
    static Response NoContent();
};

// A handler that wants to stream (SSE) takes the connection through this.
// Once Begin() was called the Response the handler returns is ignored.
class ResponseStream {
public:
    virtual ~ResponseStream() = default;
    // Sends status and headers; the body follows in chunks. False when the client is gone.
    virtual net::awaitable<bool> Begin(int status, Headers headers) = 0;
    // Sends one chunk and flushes it. False when the client is gone.
    virtual net::awaitable<bool> Write(std::string data) = 0;
    // Ends the body (last chunk). The connection may then serve the next request.
    virtual net::awaitable<void> End() = 0;
    // Stops at once without a proper end: the client sees a broken stream (RST).
    virtual void Abort() = 0;
    virtual bool Started() const = 0;
    // True once the peer has closed its side or a write failed.
    virtual bool ClientGone() const = 0;
    // Called once, from an io thread, when the client goes away: mid-stream, or (watched from
    // this call on) while the handler is still working on a plain answer. An empty function
    // clears the hook.
    virtual void OnClientGone(std::function<void()> fn) = 0;
};

// Per-request context handed to handlers. It lives until the handler's coroutine completes.
struct Context {
    Request& req;
    ResponseStream& stream;
    std::string user_id;  // set by auth middleware; shown in the access log
    std::string route;    // matched route pattern, e.g. "/api/v1/conversations/{id}"
    std::map<std::string, std::string> attrs;  // small per-request notes between middleware
};

// Handlers get the context by reference; the server keeps it alive across the await.
using Handler = std::function<net::awaitable<Response>(Context&)>;

std::string PercentDecode(std::string_view s, bool plus_is_space = false);
using core::PercentEncode;  // core/text.hpp

}  // namespace hub::http
