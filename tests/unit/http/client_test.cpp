#include "http/client.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "support/net.hpp"

namespace hub::http {
namespace {

// The CA certificates are loaded on first use (PrepareTls or the first https:// connection),
// not when the client is made: a bad CA file costs nothing at start-up and fails every TLS
// connection with a clear error.
TEST(HttpClientTls, CaCertificatesLoadOnFirstUseAndAFailureSaysWhy) {
    net::io_context io;
    ClientConfig cfg;
    cfg.ca_file = "/nonexistent/ca-bundle.pem";
    HttpClient client(io, cfg);  // nothing is loaded yet: no exception here

    auto prepared = client.PrepareTls();
    ASSERT_FALSE(prepared.ok());
    EXPECT_EQ(prepared.error().code, core::ErrorCode::kUpstream);
    EXPECT_EQ(prepared.error().api_code, "tls");
    EXPECT_NE(prepared.error().detail.find("CA certificates"), std::string::npos);
    EXPECT_EQ(prepared.error().public_message.find("/nonexistent"), std::string::npos);

    // An https:// request fails with the same error before any connection is tried (nothing
    // listens on the port).
    Url url{true, "127.0.0.1", static_cast<std::uint16_t>(test::FreeLoopbackPort())};
    std::optional<core::Result<std::unique_ptr<ClientResponse>>> sent;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            ClientRequest req;
            req.target = "/";
            sent.emplace(co_await client.Send(url, std::move(req), nullptr));
        },
        net::detached);
    io.run();
    ASSERT_TRUE(sent.has_value());
    ASSERT_FALSE(sent->ok());
    EXPECT_EQ(sent->error().api_code, "tls");
}

TEST(HttpClientTls, TheSystemCertificatesLoad) {
    net::io_context io;
    HttpClient client(io, ClientConfig{});
    auto prepared = client.PrepareTls();
    EXPECT_TRUE(prepared.ok()) << prepared.error().detail;
    EXPECT_TRUE(client.PrepareTls().ok());  // once only; the second call is a no-op
}

// A loopback server that answers one request with `answer` (written in the given parts, one
// write each), then closes the connection.
net::awaitable<void> AnswerOnce(net::ip::tcp::acceptor& acceptor, std::vector<std::string> answer) {
    auto socket = co_await acceptor.async_accept(net::use_awaitable);
    std::string request;
    auto in = net::dynamic_buffer(request);
    const std::string_view head_end = "\r\n\r\n";
    co_await net::async_read_until(socket, in, head_end, net::use_awaitable);
    for (const auto& part : answer) {
        auto out = net::buffer(part);
        co_await net::async_write(socket, out, net::use_awaitable);
    }
    socket.close();
}

struct Received {
    int status = 0;
    std::string request_id;
    std::vector<std::string> pieces;
    std::optional<core::Error> error;
};

// Sends one request to the server and reads the body piece by piece.
Received SendAndRead(std::vector<std::string> answer, std::size_t* idle = nullptr) {
    net::io_context io;
    net::ip::tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    Url url{false, "127.0.0.1", acceptor.local_endpoint().port()};
    HttpClient client(io, ClientConfig{});
    Received got;
    net::co_spawn(io, AnswerOnce(acceptor, std::move(answer)), net::detached);
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            ClientRequest req;
            req.method = "GET";
            req.target = "/";
            auto sent = co_await client.Send(url, std::move(req), nullptr);
            if (!sent.ok()) {
                got.error = sent.error();
                co_return;
            }
            auto& resp = **sent;
            got.status = resp.status();
            got.request_id = resp.Header("x-request-id");
            for (;;) {
                auto piece = co_await resp.Read();
                if (!piece.ok()) {
                    got.error = piece.error();
                    break;
                }
                if (piece->empty()) break;
                got.pieces.push_back(std::move(*piece));
            }
            if (idle) *idle = client.IdleConnections();
        },
        net::detached);
    io.run();
    return got;
}

// The body is read into strings the size of what arrived: a Content-Length sizes nothing (an
// upstream claiming a terabyte gets no terabyte reserved), and the bytes before a break are
// handed out before the error.
TEST(HttpClientBody, AContentLengthReservesNothingAndBytesBeforeABreakCount) {
    auto got = SendAndRead({"HTTP/1.1 200 OK\r\nx-request-id: r-1\r\n"
                            "Content-Length: 1099511627776\r\n\r\nhello"});
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.request_id, "r-1");
    ASSERT_EQ(got.pieces.size(), 1u);
    EXPECT_EQ(got.pieces[0], "hello");
    ASSERT_TRUE(got.error.has_value());
    EXPECT_EQ(got.error->api_code, "closed");
}

// A chunked body arrives piece by piece, byte-exact; the headers are the response's own after
// the parser's are freed, and a complete keep-alive answer returns its connection to the pool.
TEST(HttpClientBody, ChunkedPiecesAreExactAndTheConnectionIsReused) {
    std::size_t idle = 0;
    auto got = SendAndRead({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                            "x-request-id: r-2\r\n\r\n5\r\nhello\r\n",
                            "6\r\n world\r\n", "0\r\n\r\n"},
                           &idle);
    EXPECT_FALSE(got.error.has_value()) << (got.error ? got.error->detail : "");
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.request_id, "r-2");
    std::string all;
    for (const auto& p : got.pieces) {
        EXPECT_FALSE(p.empty());
        all += p;
    }
    EXPECT_EQ(all, "hello world");
    EXPECT_EQ(idle, 1u);
}

}  // namespace
}  // namespace hub::http
