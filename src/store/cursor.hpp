#pragma once
// The one cursor codec of the project, and the page types every list returns.
//
// A cursor is opaque to clients: base64url (no padding) of "<kind>|<key>|...|<id>", where the
// keys are the integer sort keys of the last row of the previous page and the id breaks ties.
// The kind names the list ("conversations", "api_calls", ...) so that a cursor from one list
// is refused by another. Keyset pagination: the next page starts strictly after that row.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace hub::store {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 200;

struct PageRequest {
    int limit = kDefaultPageSize;  // clamped to [1, kMaxPageSize]; <= 0 means the default
    std::string cursor;            // empty = first page
};

template <class T>
struct Page {
    std::vector<T> items;
    std::optional<std::string> next_cursor;  // absent on the last page
};

struct CursorKey {
    std::vector<std::int64_t> keys;
    std::string id;
    bool operator==(const CursorKey&) const = default;
};

std::string EncodeCursor(std::string_view kind, const CursorKey& key);

// kInvalidArgument / "invalid_cursor" unless `text` is a cursor of `kind` with `key_count` keys.
core::Result<CursorKey> DecodeCursor(std::string_view kind, std::string_view text,
                                     std::size_t key_count);

int ClampLimit(int limit);

// Builds a page from rows fetched with LIMIT limit+1: the extra row only says "there is more".
template <class T, class KeyOf>
Page<T> MakePage(std::vector<T> rows, int limit, std::string_view kind, KeyOf key_of) {
    Page<T> page;
    if (rows.size() > static_cast<std::size_t>(limit)) {
        rows.resize(static_cast<std::size_t>(limit));
        page.next_cursor = EncodeCursor(kind, key_of(rows.back()));
    }
    page.items = std::move(rows);
    return page;
}

// base64url without padding (RFC 4648 §5); Decode refuses anything else.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace hub::store
