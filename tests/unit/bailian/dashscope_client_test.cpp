// DashScopeClient::Chat against a loopback server that answers with the recorded compatible
// stream: what reaches the sink, and what the outcome keeps of the answer's text.
#include "bailian/dashscope_client.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "bailian/key_pool.hpp"
#include "core/clock.hpp"
#include "http/client.hpp"
#include "unit/bailian/conformance.hpp"

namespace hub::bailian {
namespace {

// Answers one request (head and Content-Length body read) with `answer`, then closes.
net::awaitable<void> AnswerOnce(net::ip::tcp::acceptor& acceptor, std::string answer) {
    auto socket = co_await acceptor.async_accept(net::use_awaitable);
    std::string request;
    auto in = net::dynamic_buffer(request);
    const std::size_t head = co_await net::async_read_until(socket, in, "\r\n\r\n",
                                                            net::use_awaitable);
    const auto at = request.find("Content-Length: ");
    const std::size_t length = at == std::string::npos ? 0 : std::stoul(request.substr(at + 16));
    if (request.size() < head + length) {
        co_await net::async_read(socket, in, net::transfer_exactly(head + length - request.size()),
                                 net::use_awaitable);
    }
    co_await net::async_write(socket, net::buffer(answer), net::use_awaitable);
    socket.close();
}

class Collect final : public EventSink {
public:
    net::awaitable<bool> OnEvent(const StreamEvent& event) override {
        if (const auto* c = std::get_if<ContentDelta>(&event)) text += c->text;
        co_return true;
    }
    std::string text;
};

struct Streamed {
    ChatOutcome outcome;
    std::string relayed;
};

// One streamed Chat with a sink, keep_text as given, against the recorded stream.
Streamed StreamOnce(bool keep_text) {
    const std::string body = testing::ReadConformance("compat_stream_include_usage.sse");
    const std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                               "x-request-id: req-recorded\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\n\r\n" + body;
    net::io_context io;
    net::ip::tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    core::SystemClock clock;
    KeyPool keys(clock);
    EXPECT_TRUE(keys.Add(UpstreamKey{"k1", "key", core::Secret<std::string>("sk-test-0001"), 1})
                    .ok());
    http::HttpClient http(io, http::ClientConfig{});
    DashScopeOptions opts;
    opts.base = http::Url{false, "127.0.0.1", acceptor.local_endpoint().port()};
    DashScopeClient client(http, keys, opts, clock);
    Streamed got;
    Collect sink;
    Cancel cancel;
    net::co_spawn(io, AnswerOnce(acceptor, answer), net::detached);
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            ChatRequest req;
            req.model = "qwen-plus";
            req.messages = nlohmann::json::array({{{"role", "user"}, {"content", "hi"}}});
            req.stream = true;
            req.keep_text = keep_text;
            got.outcome = co_await client.Chat(std::move(req), &sink, cancel);
        },
        net::detached);
    io.run();
    got.relayed = sink.text;
    return got;
}

// The OpenAI route relays a stream as it comes and reads only usage and the finish reason:
// with keep_text false the outcome holds none of the text, so a long stream does not grow
// with its answer. The conversation turn stores the answer: by default the text is kept.
TEST(DashScopeClientChat, AStreamRelayedToASinkKeepsItsTextOnlyWhenAsked) {
    const Streamed kept = StreamOnce(true);
    ASSERT_TRUE(kept.outcome.ok) << kept.outcome.error.detail;
    ASSERT_FALSE(kept.relayed.empty());
    EXPECT_EQ(kept.outcome.result.content, kept.relayed);

    const Streamed relayed = StreamOnce(false);
    ASSERT_TRUE(relayed.outcome.ok) << relayed.outcome.error.detail;
    EXPECT_EQ(relayed.relayed, kept.relayed);  // the sink sees every delta all the same
    EXPECT_TRUE(relayed.outcome.result.content.empty());
    EXPECT_TRUE(relayed.outcome.result.reasoning.empty());
    EXPECT_EQ(relayed.outcome.result.usage, kept.outcome.result.usage);
    EXPECT_GT(relayed.outcome.result.usage.total_tokens, 0);
    EXPECT_EQ(relayed.outcome.result.finish_reason, kept.outcome.result.finish_reason);
    EXPECT_EQ(relayed.outcome.upstream_request_id, "req-recorded");
}

}  // namespace
}  // namespace hub::bailian
