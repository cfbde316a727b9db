#pragma once
// The heads of the messages the hub writes, as bytes: a response's status line and fields, a
// request's line and fields, a chunk's size line. Each is written by hand into one string, so a
// message goes out as one gather write (head, body); Beast's serializer walks a buffer sequence
// of one piece per field, several times per write, which cost more than the small messages it
// framed (bench/README.md, "The heads written by hand").
//
// The framing fields are the writer's alone: a caller's Content-Length, Transfer-Encoding or
// Connection field is left out. So is a field whose name or value holds a CR, an LF or a NUL:
// no value can add a field of its own or end the head early.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.hpp"

namespace hub::http {

// How the body after a response head is framed.
struct ResponseFraming {
    bool chunked = false;             // Transfer-Encoding: chunked; else Content-Length
    std::size_t content_length = 0;   // the body's length (a HEAD answer: what GET would send)
    bool keep_alive = true;           // else Connection: close
};

// "HTTP/1.1 <status> <reason>", the fields in their order, then the framing. A 1xx, 204 or 304
// answer has no body and states no length.
std::string ResponseHead(int status, const Headers& fields, const ResponseFraming& framing);

// "<method> <target> HTTP/1.1", Host and User-Agent (a caller's field of either name replaces
// the default), the caller's fields (a name given twice: its last value only), and
// Content-Length when there is a body or the method is one that carries one (POST, PUT,
// OPTIONS). Persistent: HTTP/1.1's default.
std::string RequestHead(std::string_view method, std::string_view target, std::string_view host,
                        const std::vector<std::pair<std::string, std::string>>& fields,
                        std::size_t body_size);

// A chunk's size line, "<size in hex>\r\n", for a chunk of n > 0 bytes.
struct ChunkSizeLine {
    explicit ChunkSizeLine(std::size_t n);
    std::string_view view() const { return {bytes, length}; }

    char bytes[20];
    std::size_t length = 0;
};
inline constexpr std::string_view kChunkEnd = "\r\n";            // after each chunk's bytes
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";      // the body's end, no trailers

}  // namespace hub::http
