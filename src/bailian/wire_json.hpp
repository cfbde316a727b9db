#pragma once
// Internal helpers for reading DashScope JSON leniently (fields may be missing, null or of an
// unexpected type). Used by responses.cpp, stream_events.cpp and task.cpp only.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "bailian/types.hpp"

namespace hub::bailian::wire {

using Json = nlohmann::json;

// Parses without exceptions; nullopt for invalid JSON.
std::optional<Json> ParseJson(std::string_view text);

// j[key] when j is an object that has it, else nullptr.
const Json* Find(const Json& j, std::string_view key);

// A string field ("" when missing, null or not a string; numbers are printed).
std::string Str(const Json& j, std::string_view key);

// An integer field (0 when missing or not a number; floats are truncated, 0 outside int64).
std::int64_t Int(const Json& j, std::string_view key);

// Message content as text: a string, or the concatenated "text" of an array of parts
// ([{"text":..}] native VL, [{"type":"text","text":..}] OpenAI). null/missing -> "".
std::string ContentText(const Json* content);

// Usage from either style's field names; nullopt when absent, null or carrying no counts.
// Each count is bounded to [0, 10^12] tokens.
std::optional<Usage> ParseUsage(const Json* usage);

// Fills an UpstreamError from a compatible `{"error":{...}}` or native `{"code","message"}`
// object; returns false when `j` has neither shape.
bool ExtractError(const Json& j, UpstreamError& out);

// A short, printable excerpt of an unparseable body for logs.
std::string Excerpt(std::string_view body, std::size_t max = 200);

}  // namespace hub::bailian::wire
