#pragma once
// One request read from bytes already in memory, the way the server reads it from a socket:
// the head checks of request_head.hpp, then Beast's parser with the server's header and body
// limits. The server itself reads incrementally (server.cpp); this synchronous form lets the
// fuzz target and the unit tests drive the same parser configuration with raw bytes.
#include <cstddef>
#include <string_view>

#include "core/result.hpp"
#include "http/message.hpp"

namespace hub::http {

// The largest request head the server reads (request line and header fields).
inline constexpr std::size_t kRequestHeaderLimit = 16 * 1024;

struct ParsedRequest {
    Request request;  // method, target, path, query, headers, body (no remote_ip/request_id)
    bool keep_alive = false;
    std::size_t consumed = 0;  // bytes of `bytes` the request took (a pipelined next one follows)
};

// Errors: kPayloadTooLarge for a body over `body_limit`; kInvalidArgument for a head over
// kRequestHeaderLimit, ambiguous framing, anything Beast refuses, a target that is not an
// absolute path, or bytes that end before the request does (detail "incomplete").
[[nodiscard]] core::Result<ParsedRequest> ParseRequest(std::string_view bytes,
                                                       std::size_t body_limit);

}  // namespace hub::http
