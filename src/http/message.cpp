#include "http/message.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace hub::http {

std::optional<std::string_view> Headers::Get(std::string_view name) const {
    for (const auto& f : fields_) {
        if (IEquals(f.name, name)) return std::string_view(f.value);
    }
    return std::nullopt;
}

std::string Headers::GetOr(std::string_view name, std::string_view fallback) const {
    auto v = Get(name);
    return std::string(v ? *v : fallback);
}

void Headers::Set(std::string name, std::string value) {
    Remove(name);
    fields_.push_back({std::move(name), std::move(value)});
}

void Headers::Add(std::string name, std::string value) {
    fields_.push_back({std::move(name), std::move(value)});
}

void Headers::Remove(std::string_view name) {
    fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                                 [&](const Field& f) { return IEquals(f.name, name); }),
                  fields_.end());
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%' && i + 2 < s.size()) {
            int hi = core::HexValue(s[i + 1]), lo = core::HexValue(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(plus_is_space && c == '+' ? ' ' : c);
    }
    return out;
}

std::optional<std::string> Request::Query(std::string_view name) const {
    std::string_view q = query;
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view pair = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        auto eq = pair.find('=');
        std::string key = PercentDecode(pair.substr(0, eq), true);
        if (key == name) {
            return eq == std::string_view::npos ? std::string{}
                                                : PercentDecode(pair.substr(eq + 1), true);
        }
    }
    return std::nullopt;
}

std::string Request::Param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string{} : it->second;
}

Response Response::Json(int status, std::string json_body) {
    Response r;
    r.status = status;
    r.headers.Set("Content-Type", "application/json");
    r.body = std::move(json_body);
    return r;
}

Response Response::Text(int status, std::string body, std::string content_type) {
    Response r;
    r.status = status;
    r.headers.Set("Content-Type", std::move(content_type));
    r.body = std::move(body);
    return r;
}

Response Response::NoContent() {
    Response r;
    r.status = 204;
    return r;
}

}  // namespace hub::http
