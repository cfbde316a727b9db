#include "http/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/id.hpp"
#include "http/beast_request.hpp"
#include "http/message_head.hpp"
#include "http/request_head.hpp"
#include "http/tls.hpp"
#include "http/request_parse.hpp"
#include "obs/logging.hpp"
#include "obs/metrics.hpp"

namespace hub::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
namespace ssl = net::ssl;

std::size_t BodyLimitFor(const ServerConfig& cfg, std::string_view method,
                         std::string_view target) {
    std::string_view path = target.substr(0, target.find('?'));
    for (const auto& r : cfg.body_limits) {
        if (r.method == method && r.path == path) return r.limit;
    }
    return cfg.body_limit;
}

std::size_t LargestBodyLimit(const ServerConfig& cfg) {
    std::size_t n = cfg.body_limit;
    for (const auto& r : cfg.body_limits) n = std::max(n, r.limit);
    return n;
}

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One client connection: plain TCP, or TLS over it. Timeouts and the socket are the TCP
// layer's either way; reads and writes go through Io(), which picks the layer.
struct Conn {
    explicit Conn(tcp::socket s) : plain(std::in_place, std::move(s)) {}
    Conn(tcp::socket s, std::shared_ptr<ssl::context> ctx)
        : tls_ctx(std::move(ctx)), tls(std::make_unique<TlsStream>(std::move(s), *tls_ctx)) {}

    beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
    const beast::tcp_stream& lowest() const { return tls ? beast::get_lowest_layer(*tls) : *plain; }
    // op(stream) with the stream to read and write: both kinds give the same awaitable type.
    template <class Op>
    auto Io(Op op) {
        return tls ? op(*tls) : op(*plain);
    }

    std::optional<beast::tcp_stream> plain;
    std::shared_ptr<ssl::context> tls_ctx;  // the context this connection began with
    std::unique_ptr<TlsStream> tls;
    bool handshaken = false;  // TLS: the handshake is done
    bool idle = true;  // touched only on the connection's executor (a strand, or the one io thread)
    std::uint64_t id = 0;
    // The client-gone watch before an answer starts (StreamImpl::StartPeek) peeks into this:
    // what the client sent next, left on the socket for the next request's read.
    unsigned char peek_buf[64];

    // The peer's address, an IPv4 peer of a dual-stack listener as IPv4; `text` is "unknown"
    // (and `known` false) if the socket cannot say. Asked of the kernel once per connection,
    // not once per request.
    struct PeerAddress {
        bool known = false;
        net::ip::address address;
        std::string text;
    };
    const PeerAddress& Peer() const {
        if (peer_.text.empty()) {
            beast::error_code ec;
            auto ep = lowest().socket().remote_endpoint(ec);
            if (ec) {
                peer_.text = "unknown";
                return peer_;
            }
            peer_.address = ep.address();
            if (peer_.address.is_v6() && peer_.address.to_v6().is_v4_mapped())
                peer_.address = net::ip::make_address_v4(net::ip::v4_mapped, peer_.address.to_v6());
            peer_.known = true;
            peer_.text = peer_.address.to_string();
        }
        return peer_;
    }

private:
    mutable PeerAddress peer_;
};

std::int64_t SteadyUs() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Methods are client input: anything unusual is one label value, so the label set stays small.
std::string_view MethodLabel(std::string_view m) {
    static constexpr std::string_view kKnown[] = {"GET",    "HEAD",    "POST", "PUT",
                                                  "PATCH",  "DELETE",  "OPTIONS"};
    for (auto k : kKnown) {
        if (m == k) return k;
    }
    return "other";
}

// The server's own metric families (registered once per Server that is given a registry).
struct HttpMetrics {
    explicit HttpMetrics(obs::Registry& r)
        : requests(r.AddCounter("bailian_hub_http_requests_total",
                                "HTTP requests answered, by method, route pattern and status.",
                                {"method", "route", "status"}, 2000)),
          duration(r.AddHistogram("bailian_hub_http_request_duration_seconds",
                                  "Time from the request head to the end of the response "
                                  "(whole stream for SSE), by method and route pattern.",
                                  {"method", "route"}, obs::LatencyBuckets())) {}
    obs::Family<obs::Counter>& requests;
    obs::Family<obs::Histogram>& duration;
};

std::string ClientIp(const Conn& c, const Headers& headers, const std::vector<std::string>& trusted) {
    const std::string& peer = c.Peer().text;
    auto is_trusted = [&](std::string_view ip) {
        return std::find(trusted.begin(), trusted.end(), ip) != trusted.end();
    };
    if (!is_trusted(peer)) return peer;
    auto xff = headers.Get("X-Forwarded-For");
    if (!xff) return peer;
    // Walk from the right: the first address that is not one of our proxies is the client.
    std::string_view v = *xff;
    while (!v.empty()) {
        auto comma = v.rfind(',');
        std::string_view part = comma == std::string_view::npos ? v : v.substr(comma + 1);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (!part.empty() && !is_trusted(part)) return std::string(part);
        if (comma == std::string_view::npos) break;
        v = v.substr(0, comma);
    }
    return peer;
}

std::string_view View(const beast::flat_buffer& buf) {
    return {static_cast<const char*>(buf.data().data()), buf.size()};
}

core::Error TooLarge(std::size_t limit) {
    return core::Error::Make(core::ErrorCode::kPayloadTooLarge, "payload_too_large",
                             "Request body is larger than " + std::to_string(limit) + " bytes.");
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
    Impl(net::io_context& io_, ServerConfig cfg_, const Router& router_, ErrorRenderer render_,
         obs::Registry* registry)
        : io(io_), cfg(std::move(cfg_)), router(router_), render(std::move(render_)),
          acceptor(net::make_strand(io_)) {
        if (registry) metrics = std::make_unique<HttpMetrics>(*registry);
    }

    net::io_context& io;
    ServerConfig cfg;
    const Router& router;
    ErrorRenderer render;
    tcp::acceptor acceptor;
    std::atomic<std::size_t> connections{0};
    std::atomic<std::size_t> requests{0};
    std::atomic<std::size_t> streams{0};
    std::atomic<bool> draining{false};
    std::unique_ptr<HttpMetrics> metrics;
    std::mutex mu;
    std::unordered_map<std::uint64_t, std::weak_ptr<Conn>> registry;
    std::uint64_t next_id = 1;

    net::awaitable<void> AcceptLoop();
    // A socket for the next connection, on its own strand unless one thread runs the io_context.
    tcp::socket NewSocket() {
        return cfg.one_io_thread ? tcp::socket(io) : tcp::socket(net::make_strand(io));
    }
    void Adopt(tcp::socket sock);  // a new connection: refused over the cap, else served
    static constexpr int kAcceptBatch = 256;
    net::awaitable<void> Session(std::shared_ptr<Conn> c);
    // Counts a request in flight from when its head is read until the guard goes (a graceful
    // shutdown waits for it).
    struct InFlight {
        std::atomic<std::size_t>* n = nullptr;
        void Arm(std::atomic<std::size_t>& counter) {
            n = &counter;
            ++*n;
        }
        ~InFlight() {
            if (n) --*n;
        }
    };
    // How reading the next request on a connection ended.
    enum class ReadEnd {
        kRequest,  // `req` is read: dispatch it
        kClose,    // idle close, timeout, the client left, draining: close the connection
        kClosed,   // an error answer was sent and the connection closed: nothing more
    };
    // Reads the next request into `req`. Its own coroutine: the parser and everything else
    // used only while reading are not in Session's frame, which lives as long as the
    // connection (and a held stream).
    net::awaitable<ReadEnd> ReadRequest(const std::shared_ptr<Conn>& c, beast::flat_buffer& buf,
                                        Request& req, bool& keep_alive, std::int64_t& start_us,
                                        InFlight& in_flight);
    net::awaitable<void> Dispatch(std::shared_ptr<Conn> c, Request& req, bool& keep_alive,
                                  std::int64_t start_us);
    void Decorate(Response& r, const Request& req);
    // Access log line and metrics for one answered request.
    void Finished(const Request& req, const std::string& route, int status, std::size_t bytes,
                  std::int64_t start_us, const std::string& user_id);
    net::awaitable<bool> WriteResponse(std::shared_ptr<Conn> c, Response& r, bool head,
                                       bool keep_alive);
    net::awaitable<void> SendErrorAndClose(std::shared_ptr<Conn> c, const core::Error& e);
    // TLS close_notify when there is TLS, then the TCP close.
    net::awaitable<void> Close(std::shared_ptr<Conn> c);
    // False for a plain-HTTP request that must have come over HTTPS (cfg.require_https) and
    // came neither from loopback nor from a trusted proxy saying X-Forwarded-Proto: https.
    bool HttpsOrTrusted(const Conn& c, const Request& req) const;
    std::atomic<std::uint64_t> refused_connections{0};  // over max_connections
    std::atomic<std::uint64_t> tls_handshakes{0};
    std::atomic<std::uint64_t> tls_handshake_failures{0};
};

// ---------------------------------------------------------------------------------------------
// Streaming responses (SSE): chunked body written as the handler produces it. A watcher reads
// the socket meanwhile, so a client that goes away is noticed even while nothing is written.
class StreamImpl final : public ResponseStream {
public:
    StreamImpl(std::shared_ptr<Conn> c, Server::Impl& srv, const Request& req)
        : c_(std::move(c)), srv_(srv), req_(req) {}

    net::awaitable<bool> Begin(int status, Headers headers) override {
        if (started_) co_return !gone_;
        if (gone_) co_return false;
        StopPeek();
        started_ = true;
        status_ = status;
        Response head;
        head.status = status;
        head.headers = std::move(headers);
        srv_.Decorate(head, req_);
        std::string bytes =
            ResponseHead(status, head.headers, {.chunked = true, .keep_alive = false});
        beast::error_code ec;
        c_->lowest().expires_after(srv_.cfg.write_timeout);
        co_await c_->Io([&](auto& s) {
            return net::async_write(s, net::buffer(bytes),
                                    net::redirect_error(net::use_awaitable, ec));
        });
        if (ec) {
            MarkGone();
            co_return false;
        }
        ++srv_.streams;
        counted_ = true;
        // Watch for the client closing its side while we stream.
        Watch(std::make_shared<WatchState>(WatchState{c_, alive_, {}}));
        watching_ = true;
        co_return true;
    }

    net::awaitable<bool> Write(std::string data) override {
        if (!started_ || gone_ || ended_) co_return false;
        if (data.empty()) co_return true;
        beast::error_code ec;
        c_->lowest().expires_after(srv_.cfg.write_timeout);
        ChunkSizeLine size(data.size());
        const std::array<net::const_buffer, 3> chunk{net::buffer(size.view()), net::buffer(data),
                                                     net::buffer(kChunkEnd)};
        co_await c_->Io([&](auto& s) {
            return net::async_write(s, chunk, net::redirect_error(net::use_awaitable, ec));
        });
        if (ec) {
            MarkGone();
            co_return false;
        }
        bytes_ += data.size();
        co_return true;
    }

    net::awaitable<void> End() override {
        if (!started_ || gone_ || ended_) co_return;
        ended_ = true;
        beast::error_code ec;
        c_->lowest().expires_after(srv_.cfg.write_timeout);
        co_await c_->Io([&](auto& s) {
            return net::async_write(s, net::buffer(kLastChunk),
                                    net::redirect_error(net::use_awaitable, ec));
        });
        if (ec) MarkGone();
    }

    void Abort() override {
        ended_ = true;
        beast::error_code ec;
        auto& sock = c_->lowest().socket();
        sock.set_option(net::socket_base::linger(true, 0), ec);
        sock.close(ec);
        MarkGone();
    }

    bool Started() const override { return started_; }
    bool ClientGone() const override { return gone_; }
    void OnClientGone(std::function<void()> fn) override {
        if (!fn) {
            on_gone_ = nullptr;
            return;
        }
        if (gone_) {
            net::post(c_->lowest().get_executor(), std::move(fn));
            return;
        }
        on_gone_ = std::move(fn);
        if (!started_) StartPeek();
    }

    // Ends the watch for a client leaving before the answer started (the answer is about to be
    // written, or the next request read).
    void StopPeek() {
        if (!peeking_) return;
        peeking_ = false;
        beast::error_code ec;
        c_->lowest().socket().cancel(ec);
    }

    ~StreamImpl() override {
        *alive_ = false;
        if (counted_) --srv_.streams;
        // The watch's read must not outlive the stream: over TLS it would swallow the client's
        // close_notify that Close() waits for.
        if (watching_) {
            beast::error_code ec;
            c_->lowest().socket().cancel(ec);
        }
    }

    int status() const { return status_; }
    std::size_t bytes() const { return bytes_; }
    bool ended() const { return ended_; }

private:
    void MarkGone() {
        if (gone_) return;
        gone_ = true;
        if (on_gone_) {
            auto fn = std::move(on_gone_);
            on_gone_ = nullptr;
            fn();
        }
    }

    // Before the answer starts, a handler that cares (OnClientGone) learns that its client left
    // (a login waiting for a bcrypt worker, a call waiting for its upstream). Nothing may be
    // read here: bytes on the socket are the next pipelined request. So peek (MSG_PEEK): end of
    // stream or an error means gone; data means a live client, and the watch ends. A peeking
    // receive rather than a wait for readability: a receive waits on the epoll registration
    // the socket already has (trying the receive first only when the socket may have data),
    // where every wait re-armed the descriptor with an epoll_ctl (one system call per proxied
    // request).
    void StartPeek() {
        if (peeking_) return;
        peeking_ = true;
        auto& sock = c_->lowest().socket();
        sock.async_receive(
            net::buffer(c_->peek_buf), tcp::socket::message_peek,
            [this, c = c_, alive = alive_](beast::error_code ec, std::size_t n) {
                if (!*alive || !peeking_) return;
                peeking_ = false;
                if (ec) {
                    if (ec != net::error::operation_aborted) MarkGone();  // eof included
                    return;
                }
                if (c->tls && LooksLikeCloseNotify(c->peek_buf, n))
                    MarkGone();
            });
    }

    // Over TLS a leaving client sends close_notify before its FIN: on TLS 1.2 an alert record
    // (content type 21); on TLS 1.3 every record looks like application data (23), and an
    // encrypted alert is the only one of 24 bytes (2 alert bytes + 1 type byte + 16 tag).
    // A request is never that short, so either shape waiting alone means the client left.
    static bool LooksLikeCloseNotify(const unsigned char* b, std::size_t n) {
        if (n >= 1 && b[0] == 21) return true;
        return n == 24 && b[0] == 23 && b[1] == 3 && b[2] == 3 && b[3] == 0 && b[4] == 19;
    }

    // Reads (and throws away) what the client sends while the stream runs, until the read
    // fails. A chain of completion handlers rather than a coroutine: every held stream has one,
    // and a handler costs a fraction of a coroutine frame. The handlers run on the socket's
    // executor (the connection's strand, or the one io thread); `alive` tells whether this
    // StreamImpl still exists.
    struct WatchState {
        std::shared_ptr<Conn> c;
        std::shared_ptr<bool> alive;
        char buf[64];
    };
    void Watch(std::shared_ptr<WatchState> w) {
        auto& sock = w->c->lowest().socket();
        auto buffer = net::buffer(w->buf);
        sock.async_read_some(buffer, [this, w = std::move(w)](beast::error_code ec,
                                                              std::size_t) mutable {
            if (!*w->alive) return;
            if (ec) {
                if (!ended_) MarkGone();
                return;
            }
            // Bytes from the client during a stream are ignored; the connection closes after it.
            Watch(std::move(w));
        });
    }

    std::shared_ptr<Conn> c_;
    Server::Impl& srv_;
    const Request& req_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::function<void()> on_gone_;
    bool started_ = false;
    bool peeking_ = false;  // StartPeek's wait is pending
    bool watching_ = false;  // Watch's read may be pending
    bool counted_ = false;  // in srv_.streams
    bool gone_ = false;
    bool ended_ = false;
    int status_ = 0;
    std::size_t bytes_ = 0;
};

// ---------------------------------------------------------------------------------------------

void Server::Impl::Decorate(Response& r, const Request& req) {
    r.headers.Set("X-Request-Id", req.request_id);
    if (!cfg.security_headers) return;
    r.headers.Set("X-Content-Type-Options", "nosniff");
    r.headers.Set("X-Frame-Options", "DENY");
    r.headers.Set("Referrer-Policy", "no-referrer");
    r.headers.Set("Cross-Origin-Opener-Policy", "same-origin");
    r.headers.Set("Cross-Origin-Resource-Policy", "same-origin");
    r.headers.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    if (!r.headers.Has("Content-Security-Policy"))
        r.headers.Set("Content-Security-Policy", cfg.content_security_policy);
    if (cfg.hsts_max_age_s > 0)
        r.headers.Set("Strict-Transport-Security",
                      "max-age=" + std::to_string(cfg.hsts_max_age_s) + "; includeSubDomains");
    if (!r.headers.Has("Cache-Control")) r.headers.Set("Cache-Control", "no-store");
}

void Server::Impl::Finished(const Request& req, const std::string& route, int status,
                            std::size_t bytes, std::int64_t start_us, const std::string& user_id) {
    std::int64_t elapsed_us = SteadyUs() - start_us;
    if (metrics) {
        auto method = MethodLabel(req.method);
        metrics->requests.With({method, route, std::to_string(status)}).Inc();
        metrics->duration.With({method, route}).Observe(static_cast<double>(elapsed_us) / 1e6);
    }
    if (!obs::Enabled(obs::Level::kInfo)) return;
    nlohmann::json f = {{"method", req.method},
                        {"route", route},
                        {"status", status},
                        {"bytes", bytes},
                        {"duration_ms", elapsed_us / 1000},
                        {"request_id", req.request_id},
                        {"remote_ip", req.remote_ip}};
    if (!user_id.empty()) f["user_id"] = user_id;
    obs::Info("access", f);
}

net::awaitable<bool> Server::Impl::WriteResponse(std::shared_ptr<Conn> c, Response& r, bool head,
                                                 bool keep_alive) {
    // A HEAD answer states the length GET would send, and sends no body.
    std::string bytes = ResponseHead(r.status, r.headers,
                                     {.content_length = r.body.size(), .keep_alive = keep_alive});
    const std::array<net::const_buffer, 2> message{
        net::buffer(bytes), head ? net::const_buffer() : net::buffer(r.body)};
    beast::error_code ec;
    c->lowest().expires_after(cfg.write_timeout);
    co_await c->Io([&](auto& s) {
        return net::async_write(s, message, net::redirect_error(net::use_awaitable, ec));
    });
    co_return !ec;
}

net::awaitable<void> Server::Impl::SendErrorAndClose(std::shared_ptr<Conn> c, const core::Error& e) {
    Request req;
    req.request_id = core::NewId();
    Response r = render(e, req.request_id);
    Decorate(r, req);
    if (metrics) metrics->requests.With({"other", "(malformed)", std::to_string(r.status)}).Inc();
    co_await WriteResponse(c, r, false, false);
    co_await Close(c);
}

net::awaitable<void> Server::Impl::Dispatch(std::shared_ptr<Conn> c, Request& req,
                                            bool& keep_alive, std::int64_t start_us) {
    StreamImpl stream(c, *this, req);
    Context ctx{req, stream, {}, {}, {}};
    Response resp;
    auto match = router.Find(req.method, req.path);
    try {
        if (match.outcome == Router::Outcome::kMatched) {
            req.params = std::move(match.params);
            ctx.route = match.pattern;
            resp = co_await (*match.handler)(ctx);
        } else if (match.outcome == Router::Outcome::kNotFound && router.fallback() &&
                   (req.method == "GET" || req.method == "HEAD" ||
                    router.fallback_any_method())) {
            ctx.route = "(static)";
            resp = co_await (*router.fallback())(ctx);
        } else if (match.outcome == Router::Outcome::kMethodNotAllowed) {
            ctx.route = "(method-not-allowed)";
            resp = render(core::Error::Make(core::ErrorCode::kMethodNotAllowed, "method_not_allowed",
                                            "Method " + req.method + " is not allowed here."),
                          req.request_id);
            std::string allow;
            for (const auto& m : match.allow) allow += (allow.empty() ? "" : ", ") + m;
            resp.headers.Set("Allow", allow);
        } else {
            ctx.route = "(unmatched)";
            resp = render(core::Error::Make(core::ErrorCode::kNotFound, "not_found",
                                            "No such resource."),
                          req.request_id);
        }
    } catch (const std::exception& e) {
        obs::Error("handler_exception", {{"request_id", req.request_id},
                                         {"route", ctx.route},
                                         {"what", e.what()}});
        resp = render(core::Error::Make(core::ErrorCode::kInternal, "internal_error",
                                        "Internal error."),
                      req.request_id);
    }
    stream.StopPeek();
    if (stream.Started()) {
        if (!stream.ended() && !stream.ClientGone()) co_await stream.End();
        keep_alive = false;
        Finished(req, ctx.route, stream.status(), stream.bytes(), start_us, ctx.user_id);
        co_return;
    }
    Decorate(resp, req);
    std::size_t bytes = resp.body.size();
    int status = resp.status;
    bool ok = co_await WriteResponse(c, resp, req.method == "HEAD", keep_alive);
    if (!ok) keep_alive = false;
    Finished(req, ctx.route, status, bytes, start_us, ctx.user_id);
}

net::awaitable<void> Server::Impl::Session(std::shared_ptr<Conn> c) {
    struct Count {
        Impl& s;
        std::uint64_t id;
        ~Count() {
            --s.connections;
            std::lock_guard lk(s.mu);
            s.registry.erase(id);
        }
    } count{*this, c->id};

    if (c->tls) {
        beast::error_code ec;
        c->lowest().expires_after(cfg.header_timeout);
        co_await c->tls->async_handshake(ssl::stream_base::server,
                                         net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            // Old protocol versions, weak suites only, a port scan, a wrong certificate on the
            // client's side: counted, not logged one by one.
            ++tls_handshake_failures;
            c->lowest().close();
            co_return;
        }
        ++tls_handshakes;
        c->handshaken = true;
    }
    beast::flat_buffer buf;
    for (;;) {
        InFlight in_flight;
        Request req;
        bool keep_alive = false;
        std::int64_t start_us = 0;
        const ReadEnd end = co_await ReadRequest(c, buf, req, keep_alive, start_us, in_flight);
        if (end == ReadEnd::kClosed) co_return;
        if (end == ReadEnd::kClose) break;
        // The request is read: its buffer (4 KiB or more) is not kept for the whole answer,
        // which for a stream may last minutes. Bytes of a pipelined request stay.
        buf.shrink_to_fit();
        co_await Dispatch(c, req, keep_alive, start_us);
        if (!keep_alive || draining) break;
    }
    co_await Close(c);
}

net::awaitable<Server::Impl::ReadEnd> Server::Impl::ReadRequest(
    const std::shared_ptr<Conn>& c, beast::flat_buffer& buf, Request& req, bool& keep_alive,
    std::int64_t& start_us, InFlight& in_flight) {
    c->idle = true;
    if (draining) co_return ReadEnd::kClose;
    beast::error_code ec;
    if (buf.size() == 0) {
        // Wait for the first byte of the next request under the idle timeout.
        c->lowest().expires_after(cfg.idle_timeout);
        std::size_t n = co_await c->Io([&](auto& s) {
            return s.async_read_some(buf.prepare(4096),
                                     net::redirect_error(net::use_awaitable, ec));
        });
        if (ec) co_return ReadEnd::kClose;
        buf.commit(n);
    }
    c->idle = false;
    // The whole head arrives first (one deadline for all of it), so that its raw lines can
    // be checked for ambiguous framing before the parser reads them.
    c->lowest().expires_after(cfg.header_timeout);
    std::optional<std::size_t> head_len;
    while (!(head_len = RequestHeadLength(View(buf))) && buf.size() <= kRequestHeaderLimit) {
        std::size_t n = co_await c->Io([&](auto& s) {
            return s.async_read_some(buf.prepare(4096),
                                     net::redirect_error(net::use_awaitable, ec));
        });
        if (ec) co_return ReadEnd::kClose;
        buf.commit(n);
    }
    if (head_len) {
        if (auto problem = AmbiguousFraming(View(buf).substr(0, *head_len))) {
            co_await SendErrorAndClose(
                c, core::Error::Make(core::ErrorCode::kInvalidArgument, "bad_request",
                                     "Malformed HTTP request.", *problem));
            co_return ReadEnd::kClosed;
        }
    }
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kRequestHeaderLimit);
    parser.body_limit(LargestBodyLimit(cfg));
    co_await c->Io([&](auto& s) {
        return bhttp::async_read_header(s, buf, parser,
                                        net::redirect_error(net::use_awaitable, ec));
    });
    if (ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
        ec == net::error::eof || ec == net::error::connection_reset ||
        ec == net::error::operation_aborted || ec == ssl::error::stream_truncated) {
        co_return ReadEnd::kClose;
    }
    if (ec == bhttp::error::body_limit) {  // a declared Content-Length over the limit
        co_await SendErrorAndClose(c, TooLarge(LargestBodyLimit(cfg)));
        co_return ReadEnd::kClosed;
    }
    if (ec) {
        auto code = core::ErrorCode::kInvalidArgument;
        co_await SendErrorAndClose(
            c, core::Error::Make(code, "bad_request",
                                 ec == bhttp::error::header_limit
                                     ? "Request headers are too large."
                                     : "Malformed HTTP request."));
        co_return ReadEnd::kClosed;
    }
    start_us = SteadyUs();
    // From here on the request is in flight: a graceful shutdown waits for it.
    in_flight.Arm(requests);
    // This route's limit: a declared length over it is refused before any body is read,
    // and a chunked body stops at it while it streams in.
    const std::size_t body_limit =
        BodyLimitFor(cfg, std::string_view(parser.get().method_string()),
                     std::string_view(parser.get().target()));
    parser.body_limit(body_limit);
    auto len = parser.content_length();
    if (len && *len > body_limit) {
        co_await SendErrorAndClose(c, TooLarge(body_limit));
        co_return ReadEnd::kClosed;
    }
    if (!parser.is_done()) {
        auto& h = parser.get();
        if (auto it = h.find(bhttp::field::expect);
            it != h.end() && IEquals(it->value(), "100-continue")) {
            bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
            co_await c->Io([&](auto& s) {
                return bhttp::async_write(s, cont, net::redirect_error(net::use_awaitable, ec));
            });
            if (ec) co_return ReadEnd::kClose;
        }
        c->lowest().expires_after(cfg.body_timeout);
        co_await c->Io([&](auto& s) {
            return bhttp::async_read(s, buf, parser,
                                     net::redirect_error(net::use_awaitable, ec));
        });
        if (ec == bhttp::error::body_limit) {
            co_await SendErrorAndClose(c, TooLarge(body_limit));
            co_return ReadEnd::kClosed;
        }
        if (ec == beast::error::timeout || ec == net::error::eof ||
            ec == bhttp::error::partial_message || ec == net::error::connection_reset ||
            ec == ssl::error::stream_truncated) {
            co_return ReadEnd::kClose;
        }
        if (ec) {
            co_await SendErrorAndClose(
                c, core::Error::Make(core::ErrorCode::kInvalidArgument, "bad_request",
                                     "Malformed HTTP request body."));
            co_return ReadEnd::kClosed;
        }
    }
    auto msg = parser.release();
    bool msg_keep_alive = msg.keep_alive();
    req = detail::FromBeast(std::move(msg));
    req.remote_ip = ClientIp(*c, req.headers, cfg.trusted_proxies);
    auto rid = req.headers.Get("X-Request-Id");
    req.request_id = rid && core::IsValidRequestId(*rid) ? std::string(*rid) : core::NewId();
    keep_alive = msg_keep_alive && !draining;
    if (req.path.empty() || req.path.front() != '/') {
        co_await SendErrorAndClose(
            c, core::Error::Make(core::ErrorCode::kInvalidArgument, "bad_request",
                                 "Request target must be an absolute path."));
        co_return ReadEnd::kClosed;
    }
    if (!HttpsOrTrusted(*c, req)) {
        Response r = render(core::Error::Make(core::ErrorCode::kForbidden, "https_required",
                                              "This hub answers over HTTPS only: connect "
                                              "through its TLS proxy."),
                            req.request_id);
        Decorate(r, req);
        co_await WriteResponse(c, r, false, false);
        Finished(req, "(https-required)", r.status, r.body.size(), start_us, "");
        co_return ReadEnd::kClose;
    }
    co_return ReadEnd::kRequest;
}

bool Server::Impl::HttpsOrTrusted(const Conn& c, const Request& req) const {
    if (!cfg.require_https || c.tls) return true;
    const auto& peer = c.Peer();
    if (!peer.known) return false;
    // A listed proxy must say the client came over HTTPS, even from this host.
    if (std::find(cfg.trusted_proxies.begin(), cfg.trusted_proxies.end(), peer.text) !=
        cfg.trusted_proxies.end()) {
        auto proto = req.headers.Get("X-Forwarded-Proto");
        return proto && IEquals(*proto, "https");
    }
    return peer.address.is_loopback();  // the host itself (health checks, tools)
}

net::awaitable<void> Server::Impl::Close(std::shared_ptr<Conn> c) {
    beast::error_code ec;
    if (c->tls && c->handshaken) {
        // close_notify, so that the client knows the answer is whole; theirs is not awaited long.
        c->lowest().expires_after(std::chrono::seconds(1));
        co_await c->tls->async_shutdown(net::redirect_error(net::use_awaitable, ec));
    }
    c->lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    c->lowest().close();
}

void Server::Impl::Adopt(tcp::socket sock) {
    beast::error_code ec;
    if (connections.load() >= cfg.max_connections) {
        // Once, then every 100th: a flood of connections must not become a flood of lines.
        auto n = ++refused_connections;
        if (n == 1 || n % 100 == 0)
            obs::Warn("connection_refused", {{"reason", "max_connections"}, {"refused_total", n}});
        sock.close(ec);
        return;
    }
    ++connections;
    std::shared_ptr<Conn> c;
    if (cfg.tls) {
        c = std::make_shared<Conn>(std::move(sock), cfg.tls->Current());
    } else {
        c = std::make_shared<Conn>(std::move(sock));
    }
    {
        std::lock_guard lk(mu);
        c->id = next_id++;
        registry[c->id] = c;
    }
    auto ex = c->lowest().get_executor();
    net::co_spawn(ex, Session(c), [self = shared_from_this()](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                obs::Error("session_failed", {{"what", ex.what()}});
            }
        }
    });
}

net::awaitable<void> Server::Impl::AcceptLoop() {
    auto self = shared_from_this();
    for (;;) {
        beast::error_code ec;
        tcp::socket sock = NewSocket();
        co_await acceptor.async_accept(sock, net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
            obs::Warn("accept_failed", {{"error", ec.message()}});
            continue;
        }
        Adopt(std::move(sock));
        // Under load each wake-up of this loop waits its turn behind every stream's writes: take
        // everything already queued by the kernel now, not one connection per turn (else the
        // accept queue grows, and even a refusal waits seconds to be accepted).
        for (int i = 0; i < kAcceptBatch; ++i) {
            tcp::socket more = NewSocket();
            acceptor.accept(more, ec);
            if (ec) break;  // would_block: the queue is empty
            Adopt(std::move(more));
        }
    }
}

Server::Server(net::io_context& io, ServerConfig cfg, const Router& router, ErrorRenderer render,
               obs::Registry* metrics)
    : impl_(std::make_shared<Impl>(io, std::move(cfg), router, std::move(render), metrics)) {
    if (!metrics) return;
    // Gauges read at scrape time; weak, since the registry may be scraped after the server
    // is gone.
    metrics->AddCollector([weak = std::weak_ptr<Impl>(impl_)](obs::Exposition& out) {
        auto impl = weak.lock();
        auto gauge = [&out](const char* name, const char* help, std::size_t v) {
            out.Single(name, help, obs::MetricType::kGauge, static_cast<double>(v));
        };
        gauge("bailian_hub_http_connections", "Open client connections.",
              impl ? impl->connections.load() : 0);
        gauge("bailian_hub_http_requests_in_flight", "Requests being answered now (streams included).",
              impl ? impl->requests.load() : 0);
        gauge("bailian_hub_http_active_streams", "Streaming (SSE) responses open now.",
              impl ? impl->streams.load() : 0);
        out.Single("bailian_hub_http_connections_refused_total",
                   "Connections closed at once because server.max_connections were open.",
                   obs::MetricType::kCounter,
                   static_cast<double>(impl ? impl->refused_connections.load() : 0));
        if (!impl || !impl->cfg.tls) return;
        const auto& tls = *impl->cfg.tls;
        auto counter = [&out](const char* name, const char* help, std::uint64_t v) {
            out.Single(name, help, obs::MetricType::kCounter, static_cast<double>(v));
        };
        counter("bailian_hub_tls_handshakes_total", "TLS handshakes completed.",
                impl->tls_handshakes.load());
        counter("bailian_hub_tls_handshake_failures_total",
                "TLS handshakes that failed (old protocols, weak suites only, garbage, timeouts).",
                impl->tls_handshake_failures.load());
        counter("bailian_hub_tls_reloads_total", "Certificate reloads that took effect.",
                tls.reloads());
        counter("bailian_hub_tls_reload_failures_total",
                "Certificate reloads refused (the previous certificate stayed).",
                tls.reload_failures());
        out.Single("bailian_hub_tls_certificate_expiry_timestamp_seconds",
                   "When the served certificate expires (Unix time); alert well before.",
                   obs::MetricType::kGauge, static_cast<double>(tls.Info().not_after_s));
    });
}

Server::~Server() = default;

core::Result<std::uint16_t> Server::Listen() {
    beast::error_code ec;
    auto addr = net::ip::make_address(impl_->cfg.host, ec);
    if (ec) {
        return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_listen",
                                 "invalid listen address '" + impl_->cfg.host + "'");
    }
    tcp::endpoint ep(addr, impl_->cfg.port);
    auto& a = impl_->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
    if (!ec) a.non_blocking(true, ec);  // AcceptLoop drains the queue without blocking
    if (ec) {
        return core::Error::Make(core::ErrorCode::kUnavailable, "listen_failed",
                                 "cannot listen on " + impl_->cfg.host + ":" +
                                     std::to_string(impl_->cfg.port) + ": " + ec.message());
    }
    return a.local_endpoint().port();
}

void Server::Start() {
    auto impl = impl_;
    net::co_spawn(impl->acceptor.get_executor(), impl->AcceptLoop(), [](std::exception_ptr e) {
        if (e) obs::Error("accept_loop_failed", {});
    });
}

void Server::BeginShutdown(std::chrono::milliseconds deadline,
                           std::function<void(bool clean)> on_drained) {
    auto impl = impl_;
    impl->draining = true;
    net::post(impl->acceptor.get_executor(), [impl] {
        beast::error_code ec;
        impl->acceptor.close(ec);
    });
    std::vector<std::shared_ptr<Conn>> conns;
    {
        std::lock_guard lk(impl->mu);
        for (auto& [id, w] : impl->registry) {
            if (auto c = w.lock()) conns.push_back(std::move(c));
        }
    }
    for (auto& c : conns) {
        net::post(c->lowest().get_executor(), [c] {
            if (c->idle) c->lowest().cancel();
        });
    }
    auto timer = std::make_shared<net::steady_timer>(impl->io);
    auto until = std::chrono::steady_clock::now() + deadline;
    auto done = std::make_shared<std::function<void(bool)>>(std::move(on_drained));
    auto poll = std::make_shared<std::function<void()>>();
    *poll = [impl, timer, until, done, poll] {
        if (impl->requests.load() == 0) {
            (*done)(true);
            *poll = nullptr;
            return;
        }
        if (std::chrono::steady_clock::now() >= until) {
            (*done)(false);
            *poll = nullptr;
            return;
        }
        timer->expires_after(std::chrono::milliseconds(20));
        timer->async_wait([poll](beast::error_code) {
            if (*poll) (*poll)();
        });
    };
    net::post(impl->io, [poll] { (*poll)(); });
}

std::size_t Server::ActiveConnections() const { return impl_->connections.load(); }
std::size_t Server::ActiveRequests() const { return impl_->requests.load(); }
std::size_t Server::ActiveStreams() const { return impl_->streams.load(); }

}  // namespace hub::http
