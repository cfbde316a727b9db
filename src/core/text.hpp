#pragma once
// Small text encodings every layer needs.
#include <cstddef>
#include <string>
#include <string_view>

namespace hub::core {

// RFC 3986 percent-encoding of everything but the unreserved characters (A-Z a-z 0-9 - . _ ~):
// safe in a path segment, a query value, an x-www-form-urlencoded body and an otpauth:// URI.
std::string PercentEncode(std::string_view s);
// The value of one hex digit (0-9, a-f, A-F), or -1.
int HexValue(char c);
// The length of the well-formed UTF-8 sequence that starts s (RFC 3629: no overlongs,
// surrogates or code points past U+10FFFF): 1 to 4, or 0 when s is empty or does not start
// with one.
std::size_t Utf8SequenceLength(std::string_view s);
// The strict reverse, for the parts of a configured URL (user, password, path): false for a '%'
// not followed by two hex digits ('+' stays '+').
bool PercentDecodeStrict(std::string_view in, std::string* out);
// Equal but for the case of ASCII letters, whatever the locale: header and field names,
// keywords. Runs for every header of every request and answer.
bool IEquals(std::string_view a, std::string_view b);
// `s` with its ASCII letters lower-cased, whatever the locale; other bytes as they are.
std::string AsciiLower(std::string_view s);
// The whole of `s` as a decimal integer within [lo, hi]; false otherwise (a port, a db number).
bool ParseIntIn(std::string_view s, long long lo, long long hi, long long* out);

}  // namespace hub::core
