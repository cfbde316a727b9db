#include <gtest/gtest.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "http/message_head.hpp"

namespace hub::http {
namespace {

namespace bhttp = boost::beast::http;

Headers Fields(std::initializer_list<std::pair<std::string, std::string>> list) {
    Headers h;
    for (const auto& [k, v] : list) h.Add(k, v);
    return h;
}

// What Beast's own parser makes of `bytes` as a whole response (an error fails the test).
bhttp::response<bhttp::string_body> ParseResponse(const std::string& bytes) {
    bhttp::response_parser<bhttp::string_body> p;
    p.eager(true);
    boost::beast::error_code ec;
    std::size_t used = p.put(boost::asio::buffer(bytes), ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(used, bytes.size());
    if (!p.is_done()) p.put_eof(ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(p.is_done());
    return p.release();
}

TEST(MessageHead, ResponseWithLengthKeptAlive) {
    std::string head = ResponseHead(200, Fields({{"Content-Type", "application/json"},
                                                 {"Set-Cookie", "a=1"},
                                                 {"Set-Cookie", "b=2"}}),
                                    {.content_length = 7});
    EXPECT_EQ(head,
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nSet-Cookie: a=1\r\n"
              "Set-Cookie: b=2\r\nContent-Length: 7\r\n\r\n");
    auto res = ParseResponse(head + "{\"a\":1}");
    EXPECT_EQ(res.body(), "{\"a\":1}");
    EXPECT_TRUE(res.keep_alive());
}

TEST(MessageHead, ResponseClosingAndChunked) {
    EXPECT_EQ(ResponseHead(429, {}, {.content_length = 0, .keep_alive = false}),
              "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    std::string head = ResponseHead(200, Fields({{"Content-Type", "text/event-stream"}}),
                                    {.chunked = true, .keep_alive = false});
    EXPECT_EQ(head,
              "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
              "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    std::string body = "data: one\n\n";
    ChunkSizeLine size(body.size());
    auto res = ParseResponse(head + std::string(size.view()) + body + std::string(kChunkEnd) +
                             std::string(kLastChunk));
    EXPECT_EQ(res.body(), body);
    EXPECT_FALSE(res.keep_alive());
}

TEST(MessageHead, BodilessStatusesStateNoLength) {
    for (int status : {101, 204, 304}) {
        std::string head =
            ResponseHead(status, Fields({{"ETag", "\"x\""}}), {.content_length = 12});
        EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
        EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos) << head;
    }
    EXPECT_EQ(ResponseHead(304, {}, {}), "HTTP/1.1 304 Not Modified\r\n\r\n");
}

TEST(MessageHead, FramingAndBrokenFieldsAreLeftOut) {
    std::string head = ResponseHead(200, Fields({{"Content-Length", "999"},
                                                 {"transfer-encoding", "chunked"},
                                                 {"Connection", "keep-alive"},
                                                 {"X-Injected", "a\r\nSet-Cookie: evil=1"},
                                                 {"X-Lf", "a\nb"},
                                                 {"X-Nul", std::string("a\0b", 3)},
                                                 {"Bad\r\nName", "v"},
                                                 {"", "v"},
                                                 {"X-Kept", "yes"}}),
                                    {.content_length = 2});
    EXPECT_EQ(head, "HTTP/1.1 200 OK\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\n");
    auto res = ParseResponse(head + "ok");
    EXPECT_EQ(res.count("Set-Cookie"), 0u);
    EXPECT_EQ(res.body(), "ok");
}

TEST(MessageHead, RequestWithBody) {
    std::string head =
        RequestHead("POST", "/compatible-mode/v1/chat/completions", "127.0.0.1:8080",
                    {{"Authorization", "Bearer sk"}, {"Content-Type", "application/json"}}, 17);
    EXPECT_EQ(head,
              "POST /compatible-mode/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
              "User-Agent: bailian-hub\r\nAuthorization: Bearer sk\r\n"
              "Content-Type: application/json\r\nContent-Length: 17\r\n\r\n");
    bhttp::request_parser<bhttp::string_body> p;
    p.eager(true);
    boost::beast::error_code ec;
    std::string body = "{\"model\":\"qwen\"}\n";
    EXPECT_EQ(p.put(boost::asio::buffer(head + body), ec), head.size() + body.size());
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(p.is_done());
    EXPECT_EQ(p.get().body(), body);
    EXPECT_EQ(p.get()[bhttp::field::host], "127.0.0.1:8080");
    EXPECT_TRUE(p.get().keep_alive());
}

TEST(MessageHead, RequestLengthOnlyWhenTheMethodCarriesABody) {
    EXPECT_EQ(RequestHead("GET", "/api/v1/tasks/t1", "dashscope.aliyuncs.com", {}, 0),
              "GET /api/v1/tasks/t1 HTTP/1.1\r\nHost: dashscope.aliyuncs.com\r\n"
              "User-Agent: bailian-hub\r\n\r\n");
    EXPECT_NE(RequestHead("POST", "/", "h", {}, 0).find("Content-Length: 0\r\n"),
              std::string::npos);
    EXPECT_NE(RequestHead("DELETE", "/", "h", {}, 3).find("Content-Length: 3\r\n"),
              std::string::npos);
}

TEST(MessageHead, CallerHostAndAgentReplaceTheDefaults) {
    std::string head = RequestHead(
        "GET", "/", "h:1",
        {{"host", "other"}, {"User-Agent", "me"}, {"Content-Length", "5"}, {"X-Bad", "a\rb"}}, 0);
    EXPECT_EQ(head, "GET / HTTP/1.1\r\nhost: other\r\nUser-Agent: me\r\n\r\n");
    // A caller's Host that cannot be written does not remove the default.
    EXPECT_EQ(RequestHead("GET", "/", "h:1", {{"Host", "x\r\ny"}}, 0),
              "GET / HTTP/1.1\r\nHost: h:1\r\nUser-Agent: bailian-hub\r\n\r\n");
}

TEST(MessageHead, ARequestFieldGivenTwiceKeepsItsLastValue) {
    // As a map of fields would: a forwarded client header cannot reach upstream twice.
    EXPECT_EQ(RequestHead("POST", "/", "h",
                          {{"Content-Type", "text/plain"}, {"Accept", "*/*"},
                           {"content-type", "application/json"}, {"Content-Type", "a\nb"}},
                          0),
              "POST / HTTP/1.1\r\nHost: h\r\nUser-Agent: bailian-hub\r\nAccept: */*\r\n"
              "content-type: application/json\r\nContent-Length: 0\r\n\r\n");
}

TEST(MessageHead, ChunkSizeLinesAreHex) {
    EXPECT_EQ(ChunkSizeLine(1).view(), "1\r\n");
    EXPECT_EQ(ChunkSizeLine(15).view(), "f\r\n");
    EXPECT_EQ(ChunkSizeLine(16).view(), "10\r\n");
    EXPECT_EQ(ChunkSizeLine(4096).view(), "1000\r\n");
    EXPECT_EQ(ChunkSizeLine(0xabcdef).view(), "abcdef\r\n");
    EXPECT_EQ(ChunkSizeLine(~std::size_t{0}).view(), "ffffffffffffffff\r\n");
}

}  // namespace
}  // namespace hub::http
