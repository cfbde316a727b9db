#pragma once
// Small text encodings every layer needs.
#include <string>
#include <string_view>

namespace hub::core {

// RFC 3986 percent-encoding of everything but the unreserved characters (A-Z a-z 0-9 - . _ ~):
// safe in a path segment, a query value, an x-www-form-urlencoded body and an otpauth:// URI.
std::string PercentEncode(std::string_view s);

}  // namespace hub::core
