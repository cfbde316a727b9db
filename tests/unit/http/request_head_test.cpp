#include <gtest/gtest.h>

#include "http/request_head.hpp"

namespace hub::http {
namespace {

TEST(RequestHead, LengthEndsAtTheBlankLine) {
    EXPECT_EQ(RequestHeadLength("GET / HTTP/1.1\r\nHost: x\r\n\r\nNEXT"), 27u);
    EXPECT_EQ(RequestHeadLength("GET / HTTP/1.1\nHost: x\n\nNEXT"), 24u);
    EXPECT_FALSE(RequestHeadLength("GET / HTTP/1.1\r\nHost: x\r\n"));
    EXPECT_FALSE(RequestHeadLength("GET / HTTP/1.1\r\nHost: x\r\n\r"));
    EXPECT_FALSE(RequestHeadLength(""));
}

TEST(RequestHead, PlainRequestsAreUnambiguous) {
    EXPECT_FALSE(AmbiguousFraming("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_FALSE(AmbiguousFraming("POST / HTTP/1.1\r\nHost: x\r\ncontent-length:  12 \r\n\r\n"));
    EXPECT_FALSE(AmbiguousFraming("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"));
    // Only the head is looked at: a body that looks like headers is not.
    EXPECT_FALSE(AmbiguousFraming("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"
                                  "Content-Length: 7\r\n"));
}

TEST(RequestHead, ObsoleteLineFoldingIsRefused) {
    EXPECT_EQ(AmbiguousFraming("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"), "obsolete line folding");
    EXPECT_EQ(AmbiguousFraming("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n"), "obsolete line folding");
}

TEST(RequestHead, ContentLengthMustBeOneNumberOnce) {
    EXPECT_TRUE(AmbiguousFraming("POST / HTTP/1.1\r\nContent-Length: 0\r\n"
                                 "Content-Length: 0\r\n\r\n"));
    EXPECT_TRUE(AmbiguousFraming("POST / HTTP/1.1\r\nContent-Length: 0\r\n"
                                 "content-length: 5\r\n\r\n"));
    EXPECT_TRUE(AmbiguousFraming("POST / HTTP/1.1\r\nContent-Length: 0, 0\r\n\r\n"));
    EXPECT_TRUE(AmbiguousFraming("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"));
    EXPECT_TRUE(AmbiguousFraming("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"));
}

TEST(RequestHead, TransferEncodingMustBeExactlyChunkedOnce) {
    EXPECT_TRUE(
        AmbiguousFraming("POST / HTTP/1.1\r\nTransfer-Encoding: identity, chunked\r\n\r\n"));
    EXPECT_TRUE(AmbiguousFraming("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"));
    EXPECT_TRUE(AmbiguousFraming("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n"));
    EXPECT_TRUE(AmbiguousFraming("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n"));
    EXPECT_TRUE(AmbiguousFraming("POST / HTTP/1.1\r\nContent-Length: 4\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n"));
}

}  // namespace
}  // namespace hub::http
