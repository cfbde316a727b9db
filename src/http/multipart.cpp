#include "http/multipart.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace hub::http {

namespace {

using core::Error;
using core::ErrorCode;

constexpr std::size_t kMaxParts = 16;

Error Broken(std::string detail) {
    return Error::Make(ErrorCode::kInvalidArgument, "invalid_multipart",
                       "The multipart/form-data body is malformed.", std::move(detail));
}

using core::AsciiLower;

std::string_view TrimSpace(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The value of `key` among "; key=value" parameters (quoted or not); "" when absent.
std::string Param(std::string_view header, std::string_view key) {
    const std::size_t n = header.size();
    std::size_t i = header.find(';');
    while (i != std::string_view::npos && i < n) {
        ++i;
        std::size_t eq = header.find('=', i);
        if (eq == std::string_view::npos) return "";
        std::string k = AsciiLower(TrimSpace(header.substr(i, eq - i)));
        i = eq + 1;
        while (i < n && (header[i] == ' ' || header[i] == '\t')) ++i;
        std::string value;
        if (i < n && header[i] == '"') {
            for (++i; i < n && header[i] != '"'; ++i) {
                if (header[i] == '\\' && i + 1 < n) ++i;
                value += header[i];
            }
            i = header.find(';', std::min(i + 1, n));
        } else {
            std::size_t semi = header.find(';', i);
            value = std::string(TrimSpace(
                header.substr(i, semi == std::string_view::npos ? std::string_view::npos : semi - i)));
            i = semi;
        }
        if (k == key) return value;
    }
    return "";
}

}  // namespace

std::string FormBoundary(std::string_view content_type) {
    std::string_view type = TrimSpace(content_type.substr(0, content_type.find(';')));
    if (AsciiLower(type) != "multipart/form-data") return "";
    std::string b = Param(content_type, "boundary");
    if (b.size() > 70) return "";
    return b;
}

core::Result<std::vector<FormPart>> ParseFormData(std::string_view content_type,
                                                  std::string_view body) {
    std::string boundary = FormBoundary(content_type);
    if (boundary.empty()) {
        return Error::Make(ErrorCode::kUnsupportedMediaType, "unsupported_media_type",
                           "Send the file as multipart/form-data.");
    }
    const std::string delim = "--" + boundary;
    std::size_t pos = body.find(delim);
    if (pos == std::string_view::npos) return Broken("no first boundary");
    std::vector<FormPart> parts;
    for (;;) {
        pos += delim.size();
        if (body.substr(pos, 2) == "--") return parts;  // the closing boundary
        if (body.substr(pos, 2) != "\r\n") return Broken("boundary not followed by CRLF");
        pos += 2;
        std::size_t head_end = body.find("\r\n\r\n", pos);
        if (head_end == std::string_view::npos) return Broken("part head not ended");
        FormPart part;
        std::string_view head = body.substr(pos, head_end - pos);
        while (!head.empty()) {
            std::size_t nl = head.find("\r\n");
            std::string_view line = head.substr(0, nl);
            head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 2);
            std::size_t colon = line.find(':');
            if (colon == std::string_view::npos) return Broken("part header without colon");
            std::string name = AsciiLower(TrimSpace(line.substr(0, colon)));
            std::string_view value = TrimSpace(line.substr(colon + 1));
            if (name == "content-disposition") {
                if (AsciiLower(TrimSpace(value.substr(0, value.find(';')))) != "form-data")
                    return Broken("disposition is not form-data");
                part.name = Param(value, "name");
                part.filename = Param(value, "filename");
            } else if (name == "content-type") {
                part.content_type = std::string(value);
            }
        }
        std::size_t data = head_end + 4;
        std::size_t end = body.find("\r\n" + delim, data);
        if (end == std::string_view::npos) return Broken("part not closed");
        part.body = body.substr(data, end - data);
        if (parts.size() == kMaxParts) return Broken("too many parts");
        parts.push_back(std::move(part));
        pos = end + 2;
    }
}

}  // namespace hub::http
