#include "http/client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "http/message.hpp"
#include "http/message_head.hpp"
#include "obs/logging.hpp"

namespace hub::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using core::Error;
using core::ErrorCode;

namespace {

bool IsLoopbackHost(std::string_view h) {
    return h == "localhost" || h.rfind("127.", 0) == 0 || h == "::1" || h == "[::1]";
}

Error ClientError(ErrorCode code, const char* kind, std::string detail) {
    return Error::Make(code, kind, "The upstream service could not be reached.", std::move(detail));
}

Error FromEc(const beast::error_code& ec, const char* stage, bool cancelled) {
    if (cancelled) return ClientError(ErrorCode::kUnavailable, "cancelled", stage);
    if (ec == beast::error::timeout)
        return ClientError(ErrorCode::kUpstreamTimeout, "timeout", std::string(stage) + ": timeout");
    if (ec.category() == net::error::get_ssl_category() || ec == ssl::error::stream_truncated)
        return ClientError(ErrorCode::kUpstream, "tls", std::string(stage) + ": " + ec.message());
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == bhttp::error::partial_message)
        return ClientError(ErrorCode::kUpstream, "closed", std::string(stage) + ": " + ec.message());
    if (std::string_view(stage) == "connect")
        return ClientError(ErrorCode::kUpstream, "connect", "connect: " + ec.message());
    return ClientError(ErrorCode::kUpstream, "protocol", std::string(stage) + ": " + ec.message());
}

}  // namespace

std::string Url::Origin() const {
    std::string s = (tls ? "https://" : "http://") + host;
    if ((tls && port != 443) || (!tls && port != 80)) s += ":" + std::to_string(port);
    return s;
}

core::Result<Url> ParseBaseUrl(std::string_view text) {
    Url u;
    std::string_view rest;
    if (text.rfind("https://", 0) == 0) {
        u.tls = true;
        u.port = 443;
        rest = text.substr(8);
    } else if (text.rfind("http://", 0) == 0) {
        u.tls = false;
        u.port = 80;
        rest = text.substr(7);
    } else {
        return Error::Make(ErrorCode::kInvalidArgument, "invalid_url", "URL must start with https://");
    }
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.empty() || rest.find('/') != std::string_view::npos)
        return Error::Make(ErrorCode::kInvalidArgument, "invalid_url",
                           "URL must be scheme, host and port only");
    std::string_view host = rest;
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos)
            return Error::Make(ErrorCode::kInvalidArgument, "invalid_url", "bad IPv6 host");
        host = rest.substr(1, close - 1);
        rest = rest.substr(close + 1);
        if (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
        else rest = {};
    } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        rest = rest.substr(colon + 1);
    } else {
        rest = {};
    }
    if (!rest.empty()) {
        unsigned p = 0;
        auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), p);
        if (ec != std::errc() || ptr != rest.data() + rest.size() || p == 0 || p > 65535)
            return Error::Make(ErrorCode::kInvalidArgument, "invalid_url", "bad port");
        u.port = static_cast<std::uint16_t>(p);
    }
    u.host = std::string(host);
    if (u.host.empty()) return Error::Make(ErrorCode::kInvalidArgument, "invalid_url", "no host");
    if (!u.tls && !IsLoopbackHost(u.host))
        return Error::Make(ErrorCode::kInvalidArgument, "invalid_url",
                           "plain http:// is only allowed to a loopback address");
    return u;
}

// ---------------------------------------------------------------------------------------------

// How long a resolved host name is used before it is resolved again.
constexpr std::chrono::seconds kResolveTtl{30};

struct Conn {
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
    beast::flat_buffer buf;
    std::string pool_key;

    beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
    void Close() {
        beast::error_code ec;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
        lowest().socket().close(ec);
    }
};

// Cancelling closes the socket on the caller's executor, where the request's coroutine runs.
template <class Executor>
void ArmCancel(core::Cancel& cancel, const std::shared_ptr<Conn>& conn, Executor ex) {
    std::weak_ptr<Conn> weak = conn;
    cancel.OnTrigger([weak, ex] {
        net::post(ex, [weak] {
            if (auto c = weak.lock()) c->Close();
        });
    });
}

struct HttpClient::Impl : std::enable_shared_from_this<HttpClient::Impl> {
    Impl(net::io_context& io_, ClientConfig cfg_) : io(io_), cfg(std::move(cfg_)) {}

    // The TLS context, made on first use: loading the CA bundle costs tens of milliseconds,
    // which a hub that never calls an https:// upstream (or not yet) should not pay at start.
    // nullptr and *error when the certificates cannot be loaded.
    ssl::context* Tls(core::Error* error) {
        std::call_once(tls_once, [this] {
            try {
                ssl::context c(ssl::context::tls_client);
                c.set_verify_mode(ssl::verify_peer);
                if (cfg.ca_file.empty()) c.set_default_verify_paths();
                else c.load_verify_file(cfg.ca_file);
                c.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                              ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                              ssl::context::no_tlsv1_1);
                ctx.emplace(std::move(c));
            } catch (const std::exception& e) {
                tls_error = e.what();
            }
        });
        if (!ctx && error) *error = ClientError(ErrorCode::kUpstream, "tls",
                                                "cannot load the CA certificates: " + tls_error);
        return ctx ? &*ctx : nullptr;
    }

    net::io_context& io;
    ClientConfig cfg;
    std::once_flag tls_once;
    std::optional<ssl::context> ctx;
    std::string tls_error;
    mutable std::mutex mu;
    std::map<std::string, std::vector<std::shared_ptr<Conn>>> idle;
    // Resolved host names (key "host:port"), kept kResolveTtl and dropped when a connect to
    // them fails, so that a new connection costs no trip to Asio's resolver thread.
    struct Resolved {
        std::vector<tcp::endpoint> endpoints;
        std::chrono::steady_clock::time_point until;
    };
    std::map<std::string, Resolved> resolved;
    std::size_t resolves = 0;

    std::vector<tcp::endpoint> CachedEndpoints(const std::string& key) {
        std::lock_guard lk(mu);
        auto it = resolved.find(key);
        if (it == resolved.end()) return {};
        if (std::chrono::steady_clock::now() >= it->second.until) {
            resolved.erase(it);
            return {};
        }
        return it->second.endpoints;
    }
    void RememberEndpoints(const std::string& key, std::vector<tcp::endpoint> endpoints) {
        std::lock_guard lk(mu);
        ++resolves;
        if (endpoints.empty()) return;
        resolved[key] = {std::move(endpoints), std::chrono::steady_clock::now() + kResolveTtl};
    }
    void ForgetEndpoints(const std::string& key) {
        std::lock_guard lk(mu);
        resolved.erase(key);
    }

    std::shared_ptr<Conn> TakeIdle(const std::string& key) {
        std::lock_guard lk(mu);
        auto it = idle.find(key);
        if (it == idle.end() || it->second.empty()) return nullptr;
        auto c = std::move(it->second.back());
        it->second.pop_back();
        return c;
    }
    void GiveBack(std::shared_ptr<Conn> c) {
        std::lock_guard lk(mu);
        auto& v = idle[c->pool_key];
        if (v.size() >= cfg.max_idle_per_host) return;  // dropped: closes on destruction
        v.push_back(std::move(c));
    }

    net::awaitable<core::Result<std::shared_ptr<Conn>>> Connect(Url url, core::Cancel* cancel);
};

net::awaitable<core::Result<std::shared_ptr<Conn>>> HttpClient::Impl::Connect(Url url,
                                                                             core::Cancel* cancel) {
    auto ex = co_await net::this_coro::executor;
    auto c = std::make_shared<Conn>();
    c->pool_key = url.Origin();
    beast::error_code ec;
    // An IP address needs no resolver (a trip to Asio's resolver thread); a host name is
    // resolved once per kResolveTtl, not per connection.
    std::vector<tcp::endpoint> endpoints;
    std::string resolve_key;
    if (auto ip = net::ip::make_address(url.host, ec); !ec) {
        endpoints.emplace_back(ip, url.port);
    } else {
        ec = {};
        resolve_key = url.host + ":" + std::to_string(url.port);
        endpoints = CachedEndpoints(resolve_key);
        if (endpoints.empty()) {
            tcp::resolver resolver(ex);
            std::string port = std::to_string(url.port);
            auto results = co_await resolver.async_resolve(
                url.host, port, net::redirect_error(net::use_awaitable, ec));
            if (ec) co_return FromEc(ec, "connect", cancel && cancel->triggered());
            for (const auto& r : results) endpoints.push_back(r.endpoint());
            RememberEndpoints(resolve_key, endpoints);
        }
    }
    if (url.tls) {
        core::Error tls_error;
        ssl::context* tls = Tls(&tls_error);
        if (!tls) co_return tls_error;
        c->tls.emplace(ex, *tls);
    } else {
        c->plain.emplace(ex);
    }
    if (cancel) ArmCancel(*cancel, c, ex);
    auto& low = c->lowest();
    low.expires_after(cfg.connect_timeout);
    co_await low.async_connect(endpoints, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
        // The addresses may have moved: the next connection resolves again.
        if (!resolve_key.empty()) ForgetEndpoints(resolve_key);
        co_return FromEc(ec, "connect", cancel && cancel->triggered());
    }
    if (url.tls) {
        if (!SSL_set_tlsext_host_name(c->tls->native_handle(), url.host.c_str()))
            co_return ClientError(ErrorCode::kUpstream, "tls", "cannot set SNI");
        c->tls->set_verify_callback(ssl::host_name_verification(url.host));
        co_await c->tls->async_handshake(ssl::stream_base::client,
                                         net::redirect_error(net::use_awaitable, ec));
        if (ec) co_return FromEc(ec, "tls handshake", cancel && cancel->triggered());
    }
    co_return std::move(c);
}

// ---------------------------------------------------------------------------------------------

// A response body read piece by piece: the parser appends what each read brings to the
// string, and Read() takes the string away. Unlike string_body it reserves nothing for a
// Content-Length (an upstream's header must not size an allocation).
struct PieceBody {
    using value_type = std::string;
    class reader {
    public:
        template <bool isRequest, class Fields>
        reader(bhttp::header<isRequest, Fields>&, value_type& body) : body_(body) {}
        void init(const boost::optional<std::uint64_t>&, beast::error_code& ec) { ec = {}; }
        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
            std::size_t n = 0;
            for (auto b : beast::buffers_range_ref(buffers)) {
                body_.append(static_cast<const char*>(b.data()), b.size());
                n += b.size();
            }
            ec = {};
            return n;
        }
        void finish(beast::error_code& ec) { ec = {}; }

    private:
        value_type& body_;
    };
};

struct ClientResponse::State {
    std::shared_ptr<HttpClient::Impl> impl;
    std::shared_ptr<Conn> conn;
    bhttp::response_parser<PieceBody> parser;
    core::Cancel* cancel = nullptr;
    bool done = false;
    bool keep_alive = false;
    std::optional<core::Error> pending_error;  // a break that followed the last bytes
    // The parser appends body bytes to its PieceBody string; Read() takes that string as the
    // piece, so no read buffer stays with a response between reads (a held stream spends
    // most of its life waiting) and each byte is copied once, from the connection's buffer.
};

namespace {

template <class Stream>
net::awaitable<beast::error_code> WriteRequest(Stream& s, const std::string& head,
                                               const std::string& body) {
    beast::error_code ec;
    const std::array<net::const_buffer, 2> message{net::buffer(head), net::buffer(body)};
    co_await net::async_write(s, message, net::redirect_error(net::use_awaitable, ec));
    co_return ec;
}

template <class Stream>
net::awaitable<beast::error_code> ReadHead(Stream& s, beast::flat_buffer& buf,
                                           bhttp::response_parser<PieceBody>& p) {
    beast::error_code ec;
    co_await bhttp::async_read_header(s, buf, p, net::redirect_error(net::use_awaitable, ec));
    co_return ec;
}

template <class Stream>
net::awaitable<beast::error_code> ReadBody(Stream& s, beast::flat_buffer& buf,
                                           bhttp::response_parser<PieceBody>& p) {
    beast::error_code ec;
    // read_some: hand out what arrived (stream relays token by token); async_read would wait
    // until the buffer is full or the body complete.
    co_await bhttp::async_read_some(s, buf, p, net::redirect_error(net::use_awaitable, ec));
    co_return ec;
}

}  // namespace

ClientResponse::~ClientResponse() {
    if (!s_) return;
    if (s_->cancel) s_->cancel->Clear();
    if (s_->conn && !(s_->done && s_->keep_alive)) s_->conn->Close();
}

std::string ClientResponse::Header(std::string_view name) const {
    for (const auto& [k, v] : headers_)
        if (IEquals(k, name)) return v;
    return {};
}

net::awaitable<core::Result<std::string>> ClientResponse::Read() {
    auto& st = *s_;
    if (st.pending_error) {
        auto err = std::move(*st.pending_error);
        st.pending_error.reset();
        co_return err;
    }
    if (st.done) co_return std::string{};
    for (;;) {
        st.conn->lowest().expires_after(st.impl->cfg.idle_timeout);
        // (No co_await inside ?: — g++ 12 miscompiles it.)
        beast::error_code ec;
        if (st.conn->tls) ec = co_await ReadBody(*st.conn->tls, st.conn->buf, st.parser);
        else ec = co_await ReadBody(*st.conn->plain, st.conn->buf, st.parser);
        std::string piece;
        piece.swap(st.parser.get().body());
        if (ec) {
            st.done = true;
            st.keep_alive = false;
            auto err = FromEc(ec, "read body", st.cancel && st.cancel->triggered());
            // Bytes that arrived before the break still count: hand them out first.
            if (!piece.empty()) {
                st.pending_error = err;
                co_return piece;
            }
            co_return err;
        }
        if (st.parser.is_done()) {
            st.done = true;
            st.keep_alive = st.parser.keep_alive();
            if (st.cancel) st.cancel->Clear();
            if (st.keep_alive) {
                st.conn->lowest().expires_never();
                st.impl->GiveBack(std::move(st.conn));
            }
        }
        if (!piece.empty() || st.done) co_return piece;
    }
}

net::awaitable<core::Result<std::string>> ClientResponse::ReadAll(std::size_t limit) {
    std::string all;
    for (;;) {
        auto part = co_await Read();
        if (!part.ok()) co_return part.error();
        if (part->empty()) break;
        all += *part;
        if (all.size() > limit)
            co_return ClientError(ErrorCode::kUpstream, "protocol", "response body too large");
    }
    co_return all;
}

// ---------------------------------------------------------------------------------------------

HttpClient::HttpClient(net::io_context& io, ClientConfig cfg)
    : impl_(std::make_shared<Impl>(io, std::move(cfg))) {}

HttpClient::~HttpClient() = default;

core::Result<void> HttpClient::PrepareTls() {
    core::Error error;
    if (!impl_->Tls(&error)) return error;
    return {};
}

std::size_t HttpClient::Resolves() const {
    std::lock_guard lk(impl_->mu);
    return impl_->resolves;
}

std::size_t HttpClient::IdleConnections() const {
    std::lock_guard lk(impl_->mu);
    std::size_t n = 0;
    for (const auto& [k, v] : impl_->idle) n += v.size();
    return n;
}

net::awaitable<core::Result<std::unique_ptr<ClientResponse>>> HttpClient::Send(Url url,
                                                                               ClientRequest creq,
                                                                               core::Cancel* cancel) {
    auto impl = impl_;
    auto ex = co_await net::this_coro::executor;
    bool default_port = (url.tls && url.port == 443) || (!url.tls && url.port == 80);
    const std::string head =
        RequestHead(creq.method, creq.target,
                    default_port ? url.host : url.host + ":" + std::to_string(url.port),
                    creq.headers, creq.body.size());

    // A pooled connection may have been closed by the server meanwhile: then try once more
    // on a fresh one (only when nothing at all came back).
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (cancel && cancel->triggered())
            co_return ClientError(ErrorCode::kUnavailable, "cancelled", "before send");
        std::shared_ptr<Conn> conn = attempt == 0 ? impl->TakeIdle(url.Origin()) : nullptr;
        bool reused = conn != nullptr;
        if (!conn) {
            auto fresh = co_await impl->Connect(url, cancel);
            if (!fresh.ok()) co_return fresh.error();
            conn = std::move(fresh.value());
        } else if (cancel) {
            ArmCancel(*cancel, conn, ex);
        }
        auto state = std::make_unique<ClientResponse::State>();
        state->impl = impl;
        state->cancel = cancel;
        state->parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        conn->lowest().expires_after(impl->cfg.connect_timeout);
        beast::error_code ec;
        if (conn->tls) ec = co_await WriteRequest(*conn->tls, head, creq.body);
        else ec = co_await WriteRequest(*conn->plain, head, creq.body);
        if (!ec) {
            conn->lowest().expires_after(impl->cfg.first_byte_timeout);
            if (conn->tls) ec = co_await ReadHead(*conn->tls, conn->buf, state->parser);
            else ec = co_await ReadHead(*conn->plain, conn->buf, state->parser);
        }
        if (ec) {
            bool cancelled = cancel && cancel->triggered();
            if (cancel) cancel->Clear();
            conn->Close();
            bool stale = reused && !cancelled &&
                         (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
                          ec == net::error::connection_reset || ec == net::error::broken_pipe);
            if (stale) continue;
            co_return FromEc(ec, "request", cancelled);
        }
        auto resp = std::unique_ptr<ClientResponse>(new ClientResponse());
        const auto& head = state->parser.get();
        resp->status_ = static_cast<int>(head.result_int());
        for (const auto& f : head) resp->headers_.emplace_back(std::string(f.name_string()), std::string(f.value()));
        // The copies above are the response's headers from now on: the parser's own (a heap
        // node per field) are freed; keep-alive is the parser's flag, not a field.
        state->parser.get().clear();
        state->conn = std::move(conn);
        if (state->parser.is_done()) {  // no body at all (e.g. 204)
            state->done = true;
            state->keep_alive = state->parser.keep_alive();
            if (cancel) cancel->Clear();
            if (state->keep_alive) impl->GiveBack(std::move(state->conn));
        }
        resp->s_ = std::move(state);
        co_return std::move(resp);
    }
    co_return ClientError(ErrorCode::kUpstream, "closed", "connection closed twice");
}

}  // namespace hub::http
