#include "http/message_head.hpp"

#include <boost/beast/http/status.hpp>

#include "core/text.hpp"

namespace hub::http {

namespace {

// One pass (find_first_of would search the three characters for each byte).
bool SafeToWrite(std::string_view s) {
    for (char c : s) {
        if (c == '\r' || c == '\n' || c == '\0') return false;
    }
    return true;
}

bool IsFraming(std::string_view name) {
    return core::IEquals(name, "Content-Length") || core::IEquals(name, "Transfer-Encoding") ||
           core::IEquals(name, "Connection");
}

void PutField(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

// Whether a caller's field is written: not framing, and nothing in it that could break the head.
bool Writable(std::string_view name, std::string_view value) {
    return !name.empty() && !IsFraming(name) && SafeToWrite(name) && SafeToWrite(value);
}

void PutCallerField(std::string& out, std::string_view name, std::string_view value) {
    if (Writable(name, value)) PutField(out, name, value);
}

}  // namespace

std::string ResponseHead(int status, const Headers& fields, const ResponseFraming& framing) {
    std::string out;
    std::size_t size = 64;
    for (const auto& f : fields.fields()) size += f.name.size() + f.value.size() + 4;
    out.reserve(size);
    out.append("HTTP/1.1 ");
    out.append(std::to_string(status));
    out.push_back(' ');
    namespace bhttp = boost::beast::http;
    auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    out.append(reason.data(), reason.size());
    out.append("\r\n");
    for (const auto& f : fields.fields()) PutCallerField(out, f.name, f.value);
    const bool bodiless = (status >= 100 && status < 200) || status == 204 || status == 304;
    if (!bodiless) {
        if (framing.chunked) PutField(out, "Transfer-Encoding", "chunked");
        else PutField(out, "Content-Length", std::to_string(framing.content_length));
    }
    if (!framing.keep_alive) PutField(out, "Connection", "close");
    out.append("\r\n");
    return out;
}

std::string RequestHead(std::string_view method, std::string_view target, std::string_view host,
                        const std::vector<std::pair<std::string, std::string>>& fields,
                        std::size_t body_size) {
    std::string out;
    std::size_t size = 96 + method.size() + target.size() + host.size();
    for (const auto& [k, v] : fields) size += k.size() + v.size() + 4;
    out.reserve(size);
    out.append(method);
    out.push_back(' ');
    out.append(target);
    out.append(" HTTP/1.1\r\n");
    // A name given again replaces what it gave before: only its last writable field is written.
    auto last_of_its_name = [&](std::size_t i) {
        for (std::size_t j = i + 1; j < fields.size(); ++j) {
            if (core::IEquals(fields[j].first, fields[i].first) &&
                Writable(fields[j].first, fields[j].second))
                return false;
        }
        return true;
    };
    bool own_host = false, own_agent = false;
    for (const auto& [k, v] : fields) {
        if (!Writable(k, v)) continue;
        own_host = own_host || core::IEquals(k, "Host");
        own_agent = own_agent || core::IEquals(k, "User-Agent");
    }
    if (!own_host) PutField(out, "Host", host);
    if (!own_agent) PutField(out, "User-Agent", "bailian-hub");
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (last_of_its_name(i)) PutCallerField(out, fields[i].first, fields[i].second);
    }
    if (body_size > 0 || method == "POST" || method == "PUT" || method == "OPTIONS")
        PutField(out, "Content-Length", std::to_string(body_size));
    out.append("\r\n");
    return out;
}

ChunkSizeLine::ChunkSizeLine(std::size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    char digits[16];
    std::size_t d = 0;
    do {
        digits[d++] = kHex[n & 0xf];
        n >>= 4;
    } while (n != 0);
    while (d > 0) bytes[length++] = digits[--d];
    bytes[length++] = '\r';
    bytes[length++] = '\n';
}

}  // namespace hub::http
