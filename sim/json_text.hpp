#pragma once
// Small text helpers for hand-built JSON (the per-chunk SSE frames are built by string
// concatenation for speed) and UTF-8 walking.
#include <string>
#include <string_view>
#include <vector>

namespace hub::sim {

// Appends s as a quoted JSON string. Invalid UTF-8 bytes are passed through unchanged.
void AppendJsonString(std::string& out, std::string_view s);
std::string JsonQuote(std::string_view s);

// Length in bytes of the UTF-8 sequence starting with lead byte c (1 for invalid bytes).
std::size_t Utf8SeqLen(unsigned char c);
// Splits text into code points (each element one UTF-8 sequence).
std::vector<std::string_view> Utf8CodePoints(std::string_view s);
// Byte offset of the first multi-byte sequence's second byte, i.e. a cut that splits a
// character in two; npos when s holds no multi-byte character.
std::size_t FirstSplitInsideChar(std::string_view s);

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);
std::string ToLower(std::string_view s);

}  // namespace hub::sim
