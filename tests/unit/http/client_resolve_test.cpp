// The outbound client's resolver cache: a host name is resolved once, not per connection, and
// again after a connect to its addresses failed. Against a one-line HTTP server on loopback
// that closes every connection (as a streamed DashScope answer ends), so every Send connects.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <string>

#include "async/asio.hpp"
#include "http/client.hpp"

namespace hub::http {
namespace {

using tcp = net::ip::tcp;

// Answers each connection's request with "ok" and Connection: close.
net::awaitable<void> Serve(tcp::acceptor& acceptor, int& served) {
    for (;;) {
        boost::system::error_code ec;
        tcp::socket s = co_await acceptor.async_accept(net::redirect_error(net::use_awaitable, ec));
        if (ec) co_return;
        std::string got;
        char buf[4096];
        while (got.find("\r\n\r\n") == std::string::npos) {
            std::size_t n = co_await s.async_read_some(net::buffer(buf),
                                                       net::redirect_error(net::use_awaitable, ec));
            if (ec) break;
            got.append(buf, n);
        }
        std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        co_await net::async_write(s, net::buffer(answer),
                                  net::redirect_error(net::use_awaitable, ec));
        ++served;
        s.close(ec);
    }
}

class HttpClientResolveTest : public ::testing::Test {
protected:
    // One request; returns the body, or "error:<api_code>".
    std::string Get(HttpClient& client, Url url) {
        std::optional<std::string> out;
        auto run = [&]() -> net::awaitable<void> {
            ClientRequest req;
            req.method = "GET";
            req.target = "/";
            auto r = co_await client.Send(url, std::move(req), nullptr);
            if (!r.ok()) {
                out = "error:" + r.error().api_code;
                co_return;
            }
            auto body = co_await (*r)->ReadAll();
            out = body.ok() ? *body : "error:" + body.error().api_code;
        };
        net::co_spawn(io_, run(), net::detached);
        while (!out) io_.run_one();
        return *out;
    }

    net::io_context io_;
};

TEST_F(HttpClientResolveTest, AHostNameIsResolvedOnceAndAgainAfterAFailedConnect) {
    tcp::acceptor acceptor(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    int served = 0;
    net::co_spawn(io_, Serve(acceptor, served), net::detached);
    HttpClient client(io_, ClientConfig{});
    Url url;
    url.tls = false;
    url.host = "localhost";
    url.port = acceptor.local_endpoint().port();

    EXPECT_EQ(Get(client, url), "ok");
    EXPECT_EQ(Get(client, url), "ok");
    EXPECT_EQ(Get(client, url), "ok");
    EXPECT_EQ(served, 3);                   // three connections (each closed by the server)...
    EXPECT_EQ(client.Resolves(), 1u);       // ...one resolve
    EXPECT_EQ(client.IdleConnections(), 0u);

    // Nobody listens any more: the cached addresses fail, are forgotten, and the next
    // connection resolves again.
    acceptor.close();
    EXPECT_EQ(Get(client, url), "error:connect");
    EXPECT_EQ(client.Resolves(), 1u);
    EXPECT_EQ(Get(client, url), "error:connect");
    EXPECT_EQ(client.Resolves(), 2u);

    // An IP address is never resolved.
    Url ip = url;
    ip.host = "127.0.0.1";
    EXPECT_EQ(Get(client, ip), "error:connect");
    EXPECT_EQ(client.Resolves(), 2u);
}

}  // namespace
}  // namespace hub::http
