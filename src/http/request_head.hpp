#pragma once
// Checks on a raw HTTP/1.1 request head that Beast's parser leaves to us. Request smuggling
// lives in framing that two parsers read two ways (a proxy in front, this server behind):
// anything whose body length is not stated exactly once, in one unambiguous way, is refused.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hub::http {

// Length of the head at the start of `bytes` (request line, header lines and the blank line
// that ends them; a bare LF counts as a line end so the parser can refuse it), or nullopt when
// the blank line has not arrived yet.
std::optional<std::size_t> RequestHeadLength(std::string_view bytes);

// What makes the framing of `head` ambiguous, or nullopt when it is not: obsolete line folding
// (a header line that starts with a space or tab), Content-Length given twice or as a list,
// Transfer-Encoding given twice or as anything but exactly "chunked", or both of them.
std::optional<std::string> AmbiguousFraming(std::string_view head);

}  // namespace hub::http
