#include "http/request_parse.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <string>

#include "http/beast_request.hpp"
#include "http/request_head.hpp"

namespace hub::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

core::Error BadRequest(std::string message, std::string detail = {}) {
    return core::Error::Make(core::ErrorCode::kInvalidArgument, "bad_request", std::move(message),
                             std::move(detail));
}

core::Error TooLarge(std::size_t limit) {
    return core::Error::Make(core::ErrorCode::kPayloadTooLarge, "payload_too_large",
                             "Request body is larger than " + std::to_string(limit) + " bytes.");
}

}  // namespace

core::Result<ParsedRequest> ParseRequest(std::string_view bytes, std::size_t body_limit) {
    // The server waits for the whole head (up to the limit) and checks its raw lines first.
    if (auto head_len = RequestHeadLength(bytes)) {
        if (auto problem = AmbiguousFraming(bytes.substr(0, *head_len))) {
            return BadRequest("Malformed HTTP request.", *problem);
        }
    } else if (bytes.size() <= kRequestHeaderLimit) {
        return BadRequest("Malformed HTTP request.", "incomplete");
    }

    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kRequestHeaderLimit);
    parser.body_limit(body_limit);
    parser.eager(true);
    std::string_view rest = bytes;
    while (!parser.is_done()) {
        beast::error_code ec;
        std::size_t used = parser.put(net::const_buffer(rest.data(), rest.size()), ec);
        rest.remove_prefix(used);
        // The bytes end before the request does. Beast says need_more (after taking what it
        // could; it must then be given more than before, never the same bytes again), or, in a
        // body, takes nothing without an error.
        if (ec == bhttp::error::need_more || (!ec && used == 0)) {
            return BadRequest("Malformed HTTP request.", "incomplete");
        }
        if (ec == bhttp::error::body_limit) return TooLarge(body_limit);
        if (ec == bhttp::error::header_limit) return BadRequest("Request headers are too large.");
        if (ec) return BadRequest("Malformed HTTP request.", ec.message());
        if (parser.is_header_done()) {
            if (auto len = parser.content_length(); len && *len > body_limit) {
                return TooLarge(body_limit);
            }
        }
    }

    auto msg = parser.release();
    ParsedRequest out;
    out.keep_alive = msg.keep_alive();
    out.request = detail::FromBeast(std::move(msg));
    if (out.request.path.empty() || out.request.path.front() != '/') {
        return BadRequest("Request target must be an absolute path.");
    }
    out.consumed = bytes.size() - rest.size();
    return out;
}

}  // namespace hub::http
