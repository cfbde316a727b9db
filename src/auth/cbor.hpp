#pragma once
// A small, strict CBOR decoder (RFC 8949) for what WebAuthn carries: attestation objects,
// COSE keys and authenticator extensions. It knows unsigned and negative integers, byte and
// text strings, arrays, maps and the simple values false/true/null/undefined, all with
// definite lengths. It refuses tags, floats, indefinite lengths, reserved encodings, invalid
// UTF-8 in text, duplicate map keys and map keys that are not integers or text; it bounds
// nesting depth, item counts and string sizes, and never reads past the input.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace hub::auth::cbor {

enum class Type { kUnsigned, kNegative, kBytes, kText, kArray, kMap, kFalse, kTrue, kNull, kUndefined };

struct Entry;  // one key/value pair of a map (below: it holds two Values)

struct Value {
    Type type = Type::kNull;
    // kUnsigned: the value; kNegative: n for the value -1 - n.
    std::uint64_t number = 0;
    std::string bytes;  // kBytes, kText
    std::vector<Value> items;  // kArray
    std::vector<Entry> entries;  // kMap, in encoded order

    // The integer value when it fits an int64 (kUnsigned or kNegative).
    std::optional<std::int64_t> AsInt() const;
    bool IsText(std::string_view s) const { return type == Type::kText && bytes == s; }
    // Map lookups (nullptr when absent or this is not a map).
    const Value* Find(std::int64_t key) const;
    const Value* Find(std::string_view key) const;
};

struct Entry {
    Value key;
    Value value;
};

struct Limits {
    std::size_t max_depth = 8;         // nested arrays/maps
    std::size_t max_items = 256;       // elements of one array or entries of one map
    std::size_t max_string = 16 * 1024;  // bytes of one byte/text string
};

struct Prefix {
    Value value;
    std::size_t consumed = 0;  // bytes the item took
};

// One item from the start of `in`; what follows it is left for the caller.
core::Result<Prefix> DecodePrefix(std::string_view in, const Limits& limits = {});
// Exactly one item: trailing bytes are an error.
core::Result<Value> Decode(std::string_view in, const Limits& limits = {});

}  // namespace hub::auth::cbor
