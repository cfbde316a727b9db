#pragma once
// JSON text from a nlohmann DOM: what dump(-1, ' ', false, error_handler_t::replace) writes,
// byte for byte (compact, UTF-8 kept, ill-formed UTF-8 replaced by U+FFFD), about 3-4x faster
// (bench/README.md). A string is scanned eight bytes at a time and written in runs: the bytes
// between two that need an escape are appended at once, where nlohmann's serializer decodes
// and copies every byte; a string with ill-formed UTF-8 is left to nlohmann (its replacement
// rules). Floats are nlohmann's too. Upstream request bodies (a whole history each turn), SSE
// events and every JSON answer go through it; tests/unit/core/json_text_test.cpp holds it to
// nlohmann's output on every recorded payload and on random trees.
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace hub::core {

void AppendJson(std::string& out, const nlohmann::json& j);
std::string DumpJson(const nlohmann::json& j);
// `s` as a JSON string literal, quotes included.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace hub::core
