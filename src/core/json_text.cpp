#include "core/json_text.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/text.hpp"

namespace hub::core {

namespace {

// Eight bytes at a time: whether any of them is a control character, '"', '\\' or from 0x80
// up (the bytes the byte loop must look at). The usual SWAR tests: a byte below n sets its top
// bit in (x - n per byte) & ~x.
bool AnySpecial(std::uint64_t x) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    auto below = [](std::uint64_t v, std::uint64_t n) { return (v - kOnes * n) & ~v; };
    const std::uint64_t quote = x ^ (kOnes * '"');
    const std::uint64_t backslash = x ^ (kOnes * '\\');
    return ((x | below(x, 0x20) | below(quote, 1) | below(backslash, 1)) & kHigh) != 0;
}

std::string NlohmannDump(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

template <class Int>
void AppendInt(std::string& out, Int v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    const std::size_t start = out.size();
    out.push_back('"');
    std::size_t run = 0;  // the first byte not yet written
    std::size_t i = 0;
    while (i < s.size()) {
        if (i + 8 <= s.size()) {
            std::uint64_t word;
            std::memcpy(&word, s.data() + i, 8);
            if (!AnySpecial(word)) {
                i += 8;
                continue;
            }
        }
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            // Utf8SequenceLength accepts what nlohmann's decoder accepts (no overlongs,
            // surrogates or code points past U+10FFFF); anything else: nlohmann's replacement.
            const std::size_t n = Utf8SequenceLength(s.substr(i));
            if (n == 0) {
                out.resize(start);
                out += NlohmannDump(nlohmann::json(std::string(s)));
                return;
            }
            i += n;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        out.append(s.data() + run, i - run);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\t': out += "\\t"; break;
            case '\n': out += "\\n"; break;
            case '\f': out += "\\f"; break;
            case '\r': out += "\\r"; break;
            default: {
                const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
                out.append(u, sizeof u);
            }
        }
        run = ++i;
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

void AppendJson(std::string& out, const nlohmann::json& j) {
    using V = nlohmann::json::value_t;
    switch (j.type()) {
        case V::object: {
            out.push_back('{');
            bool first = true;
            for (const auto& [key, value] : j.get_ref<const nlohmann::json::object_t&>()) {
                if (!first) out.push_back(',');
                first = false;
                AppendJsonString(out, key);
                out.push_back(':');
                AppendJson(out, value);
            }
            out.push_back('}');
            return;
        }
        case V::array: {
            out.push_back('[');
            bool first = true;
            for (const auto& value : j.get_ref<const nlohmann::json::array_t&>()) {
                if (!first) out.push_back(',');
                first = false;
                AppendJson(out, value);
            }
            out.push_back(']');
            return;
        }
        case V::string: AppendJsonString(out, j.get_ref<const std::string&>()); return;
        case V::boolean: out += j.get<bool>() ? "true" : "false"; return;
        case V::null: out += "null"; return;
        case V::number_integer: AppendInt(out, j.get<std::int64_t>()); return;
        case V::number_unsigned: AppendInt(out, j.get<std::uint64_t>()); return;
        default: out += NlohmannDump(j); return;  // floats (nlohmann's shortest form), binary
    }
}

std::string DumpJson(const nlohmann::json& j) {
    std::string out;
    AppendJson(out, j);
    return out;
}

}  // namespace hub::core
