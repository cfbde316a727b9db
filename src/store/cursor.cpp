#include "store/cursor.hpp"

#include <algorithm>
#include <charconv>

namespace hub::store {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t kMaxCursorChars = 512;

int SextetOf(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

core::Error InvalidCursor(std::string detail) {
    return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_cursor",
                             "the cursor is not valid for this list", std::move(detail));
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        std::size_t pos = s.find(sep, start);
        if (pos == std::string_view::npos) {
            parts.push_back(s.substr(start));
            return parts;
        }
        parts.push_back(s.substr(start, pos - start));
        start = pos + 1;
    }
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                     (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                     static_cast<unsigned char>(bytes[i + 2]);
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(kAlphabet[(v >> 6) & 63]);
        out.push_back(kAlphabet[v & 63]);
    }
    std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
    } else if (rest == 2) {
        unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                     (static_cast<unsigned char>(bytes[i + 1]) << 8);
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(kAlphabet[(v >> 6) & 63]);
    }
    return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() * 3 / 4);
    unsigned acc = 0;
    int bits = 0;
    for (char c : text) {
        int v = SextetOf(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    // Leftover bits must be zero, so that each byte string has exactly one encoding.
    if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

std::string EncodeCursor(std::string_view kind, const CursorKey& key) {
    std::string raw(kind);
    for (std::int64_t k : key.keys) {
        raw.push_back('|');
        raw += std::to_string(k);
    }
    raw.push_back('|');
    raw += key.id;
    return Base64UrlEncode(raw);
}

core::Result<CursorKey> DecodeCursor(std::string_view kind, std::string_view text,
                                     std::size_t key_count) {
    if (text.empty() || text.size() > kMaxCursorChars) return InvalidCursor("bad length");
    auto raw = Base64UrlDecode(text);
    if (!raw) return InvalidCursor("not base64url");
    auto parts = Split(*raw, '|');
    if (parts.size() != key_count + 2) return InvalidCursor("wrong number of fields");
    if (parts.front() != kind) return InvalidCursor("cursor of another list");
    CursorKey key;
    for (std::size_t i = 1; i <= key_count; ++i) {
        std::string_view p = parts[i];
        std::int64_t v = 0;
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
        if (p.empty() || ec != std::errc() || end != p.data() + p.size()) {
            return InvalidCursor("bad sort key");
        }
        key.keys.push_back(v);
    }
    key.id = std::string(parts.back());
    if (key.id.empty()) return InvalidCursor("empty id");
    return key;
}

int ClampLimit(int limit) {
    if (limit <= 0) return kDefaultPageSize;
    return std::min(limit, kMaxPageSize);
}

}  // namespace hub::store
