#include "auth/cbor.hpp"

#include <limits>

namespace hub::auth::cbor {

namespace {

core::Error Bad(std::string what) {
    return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_cbor",
                             "The CBOR data is malformed: " + what + ".");
}

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
bool ValidUtf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n;
        std::uint32_t cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (s.size() - i <= n) return false;
        for (std::size_t k = 1; k <= n; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

bool SameKey(const Value& a, const Value& b) {
    if (a.type != b.type) return false;
    if (a.type == Type::kText) return a.bytes == b.bytes;
    return a.number == b.number;
}

class Reader {
public:
    Reader(std::string_view in, const Limits& limits) : in_(in), limits_(limits) {}

    core::Result<Value> Item(std::size_t depth) {
        if (depth > limits_.max_depth) return Bad("nested too deeply");
        if (pos_ >= in_.size()) return Bad("unexpected end of data");
        auto initial = static_cast<std::uint8_t>(in_[pos_++]);
        int major = initial >> 5;
        int info = initial & 0x1F;
        Value v;
        if (major == 7) {
            switch (info) {
                case 20: v.type = Type::kFalse; return v;
                case 21: v.type = Type::kTrue; return v;
                case 22: v.type = Type::kNull; return v;
                case 23: v.type = Type::kUndefined; return v;
                case 25: case 26: case 27: return Bad("floating-point values are not accepted");
                case 31: return Bad("unexpected break");
                default: return Bad("unsupported simple value");
            }
        }
        if (major == 6) return Bad("tags are not accepted");
        auto arg = Argument(info);
        if (!arg.ok()) return arg.error();
        std::uint64_t n = arg.value();
        switch (major) {
            case 0:
                v.type = Type::kUnsigned;
                v.number = n;
                return v;
            case 1:
                v.type = Type::kNegative;
                v.number = n;
                return v;
            case 2:
            case 3: {
                if (n > limits_.max_string) return Bad("string too long");
                if (n > in_.size() - pos_) return Bad("string runs past the end of data");
                v.type = major == 2 ? Type::kBytes : Type::kText;
                v.bytes.assign(in_.substr(pos_, static_cast<std::size_t>(n)));
                pos_ += static_cast<std::size_t>(n);
                if (v.type == Type::kText && !ValidUtf8(v.bytes)) return Bad("text is not UTF-8");
                return v;
            }
            case 4: {
                if (n > limits_.max_items) return Bad("too many array items");
                // Each item takes at least one byte: a count past the data is a lie.
                if (n > in_.size() - pos_) return Bad("array runs past the end of data");
                v.type = Type::kArray;
                v.items.reserve(static_cast<std::size_t>(n));
                for (std::uint64_t i = 0; i < n; ++i) {
                    auto item = Item(depth + 1);
                    if (!item.ok()) return item.error();
                    v.items.push_back(std::move(item.value()));
                }
                return v;
            }
            case 5: {
                if (n > limits_.max_items) return Bad("too many map entries");
                if (n > (in_.size() - pos_) / 2) return Bad("map runs past the end of data");
                v.type = Type::kMap;
                v.entries.reserve(static_cast<std::size_t>(n));
                for (std::uint64_t i = 0; i < n; ++i) {
                    auto key = Item(depth + 1);
                    if (!key.ok()) return key.error();
                    Type kt = key->type;
                    if (kt != Type::kUnsigned && kt != Type::kNegative && kt != Type::kText)
                        return Bad("map keys must be integers or text");
                    for (const auto& e : v.entries)
                        if (SameKey(e.key, key.value())) return Bad("duplicate map key");
                    auto val = Item(depth + 1);
                    if (!val.ok()) return val.error();
                    v.entries.push_back(Entry{std::move(key.value()), std::move(val.value())});
                }
                return v;
            }
            default:
                return Bad("unknown major type");
        }
    }

    std::size_t pos() const { return pos_; }

private:
    core::Result<std::uint64_t> Argument(int info) {
        if (info < 24) return static_cast<std::uint64_t>(info);
        if (info == 31) return Bad("indefinite lengths are not accepted");
        if (info > 27) return Bad("reserved additional information");
        std::size_t len = std::size_t{1} << (info - 24);  // 1, 2, 4, 8
        if (len > in_.size() - pos_) return Bad("unexpected end of data");
        std::uint64_t n = 0;
        for (std::size_t i = 0; i < len; ++i)
            n = (n << 8) | static_cast<std::uint8_t>(in_[pos_ + i]);
        pos_ += len;
        return n;
    }

    std::string_view in_;
    const Limits& limits_;
    std::size_t pos_ = 0;
};

}  // namespace

std::optional<std::int64_t> Value::AsInt() const {
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (type == Type::kUnsigned && number <= kMax) return static_cast<std::int64_t>(number);
    if (type == Type::kNegative && number <= kMax) return -1 - static_cast<std::int64_t>(number);
    return std::nullopt;
}

const Value* Value::Find(std::int64_t key) const {
    if (type != Type::kMap) return nullptr;
    for (const auto& e : entries) {
        auto k = e.key.AsInt();
        if (k && *k == key) return &e.value;
    }
    return nullptr;
}

const Value* Value::Find(std::string_view key) const {
    if (type != Type::kMap) return nullptr;
    for (const auto& e : entries)
        if (e.key.IsText(key)) return &e.value;
    return nullptr;
}

core::Result<Prefix> DecodePrefix(std::string_view in, const Limits& limits) {
    Reader r(in, limits);
    auto v = r.Item(0);
    if (!v.ok()) return v.error();
    return Prefix{std::move(v.value()), r.pos()};
}

core::Result<Value> Decode(std::string_view in, const Limits& limits) {
    auto p = DecodePrefix(in, limits);
    if (!p.ok()) return p.error();
    if (p->consumed != in.size()) return Bad("trailing bytes after the item");
    return std::move(p->value);
}

}  // namespace hub::auth::cbor
