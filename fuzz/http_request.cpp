// Raw bytes from a client through the server's request reading: the head checks
// (request_head.hpp) and Beast's parser with the server's limits (request_parse.hpp), then the
// query accessors handlers use on what came out.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/request_head.hpp"
#include "http/request_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (auto head_len = hub::http::RequestHeadLength(bytes)) {
        if (*head_len > bytes.size()) __builtin_trap();
        (void)hub::http::AmbiguousFraming(bytes.substr(0, *head_len));
    }
    // A small body limit, so that both sides of it are reached.
    auto parsed = hub::http::ParseRequest(bytes, 256);
    if (!parsed.ok()) return 0;
    if (parsed->consumed > bytes.size()) __builtin_trap();
    const auto& req = parsed->request;
    (void)req.Query("a");
    (void)req.Query("cursor");
    (void)req.headers.Get("content-type");
    // Whatever follows a complete request is the next one on a keep-alive connection.
    (void)hub::http::ParseRequest(bytes.substr(parsed->consumed), 256);
    return 0;
}
