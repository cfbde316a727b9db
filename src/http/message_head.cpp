#include "http/message_head.hpp"

#include <boost/beast/http/status.hpp>

#include <charconv>

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
    // The caller's fields that are written, each checked once: a name given again replaces
    // what it gave before (only its last writable field is written).
    std::vector<const std::pair<std::string, std::string>*> kept;
    kept.reserve(fields.size());
    bool own_host = false, own_agent = false;
    for (const auto& f : fields) {
        if (!Writable(f.first, f.second)) continue;
        std::erase_if(kept, [&](const auto* k) { return core::IEquals(k->first, f.first); });
        kept.push_back(&f);
        own_host = own_host || core::IEquals(f.first, "Host");
        own_agent = own_agent || core::IEquals(f.first, "User-Agent");
    }
    if (!own_host) PutField(out, "Host", host);
    if (!own_agent) PutField(out, "User-Agent", "bailian-hub");
    for (const auto* f : kept) PutField(out, f->first, f->second);
    if (body_size > 0 || method == "POST" || method == "PUT" || method == "OPTIONS")
        PutField(out, "Content-Length", std::to_string(body_size));
    out.append("\r\n");
    return out;
}

ChunkSizeLine::ChunkSizeLine(std::size_t n) {
    // Lower-case hex digits, no leading zeros; 16 at most, which leaves room for the CRLF.
    char* end = std::to_chars(bytes, bytes + 16, n, 16).ptr;
    *end++ = '\r';
    *end++ = '\n';
    length = static_cast<std::size_t>(end - bytes);
}

}  // namespace hub::http
