#include "http/request_head.hpp"

#include <algorithm>
#include <cctype>

#include "http/message.hpp"

namespace hub::http {

namespace {

std::string_view Trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

}  // namespace

std::optional<std::size_t> RequestHeadLength(std::string_view bytes) {
    for (std::size_t i = bytes.find('\n'); i != std::string_view::npos;
         i = bytes.find('\n', i + 1)) {
        if (i + 1 < bytes.size() && bytes[i + 1] == '\n') return i + 2;
        if (i + 2 < bytes.size() && bytes[i + 1] == '\r' && bytes[i + 2] == '\n') return i + 3;
    }
    return std::nullopt;
}

std::optional<std::string> AmbiguousFraming(std::string_view head) {
    int content_length = 0;
    int transfer_encoding = 0;
    bool first = true;
    while (!head.empty()) {
        std::size_t nl = head.find('\n');
        std::string_view line = head.substr(0, nl);
        head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (first) {  // the request line
            first = false;
            continue;
        }
        if (line.empty()) break;
        if (line.front() == ' ' || line.front() == '\t') return "obsolete line folding";
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;  // the parser refuses it
        std::string_view name = line.substr(0, colon);
        std::string_view value = Trim(line.substr(colon + 1));
        if (IEquals(name, "Content-Length")) {
            if (++content_length > 1) return "Content-Length given more than once";
            if (value.empty() || !std::all_of(value.begin(), value.end(), [](char ch) {
                    return std::isdigit(static_cast<unsigned char>(ch)) != 0;
                })) {
                return "Content-Length is not one number";
            }
        } else if (IEquals(name, "Transfer-Encoding")) {
            if (++transfer_encoding > 1) return "Transfer-Encoding given more than once";
            if (!IEquals(value, "chunked")) return "Transfer-Encoding other than chunked";
        }
    }
    if (content_length > 0 && transfer_encoding > 0)
        return "both Content-Length and Transfer-Encoding";
    return std::nullopt;
}

}  // namespace hub::http
