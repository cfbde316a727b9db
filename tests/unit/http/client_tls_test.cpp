#include "http/client.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

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

}  // namespace
}  // namespace hub::http
