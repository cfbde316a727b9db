#include "http/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace hub::http {
namespace {
std::vector<std::string_view> SplitPath(std::string_view path) {
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '/') {
            ++i;
            continue;
        }
        auto j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        parts.push_back(path.substr(i, j - i));
        i = j;
    }
    return parts;
}
}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler) {
    Route r;
    r.method = std::move(method);
    r.pattern = pattern;
    for (auto s : SplitPath(pattern)) r.segments.emplace_back(s);
    for (std::size_t i = 0; i < r.segments.size(); ++i) {
        if (r.segments[i] == "*" && i + 1 != r.segments.size())
            throw std::logic_error("'*' must be the last segment: " + pattern);
    }
    r.handler = std::move(handler);
    routes_.push_back(std::move(r));
}

std::vector<Router::Entry> Router::Table() const {
    std::vector<Entry> out;
    out.reserve(routes_.size());
    for (const auto& r : routes_) out.push_back({r.method, r.pattern});
    return out;
}

bool Router::MatchSegments(const Route& r, const std::vector<std::string_view>& parts,
                           std::map<std::string, std::string>* params) {
    std::size_t n = r.segments.size();
    bool rest = n > 0 && r.segments.back() == "*";
    if (rest ? parts.size() < n - 1 : parts.size() != n) return false;
    std::map<std::string, std::string> found;
    for (std::size_t i = 0; i < n; ++i) {
        const std::string& seg = r.segments[i];
        if (seg == "*") {
            std::string tail;
            for (std::size_t k = i; k < parts.size(); ++k) {
                if (!tail.empty()) tail.push_back('/');
                tail.append(parts[k]);
            }
            found["*"] = tail;
            break;
        }
        if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
            std::string value = PercentDecode(parts[i]);
            if (value.empty() || value.find('/') != std::string::npos) return false;
            found[seg.substr(1, seg.size() - 2)] = std::move(value);
        } else if (seg != parts[i]) {
            return false;
        }
    }
    if (params) *params = std::move(found);
    return true;
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
    Match m;
    auto parts = SplitPath(path);
    // Literal segments win over parameters: prefer the route with the most literal matches.
    const Route* best = nullptr;
    int best_score = -1;
    std::map<std::string, std::string> best_params;
    for (const auto& r : routes_) {
        std::map<std::string, std::string> params;
        if (!MatchSegments(r, parts, &params)) continue;
        bool method_ok = r.method == method || (method == "HEAD" && r.method == "GET");
        if (!method_ok) {
            m.allow.push_back(r.method);
            continue;
        }
        int score = 0;
        for (const auto& s : r.segments) score += (s.front() != '{' && s != "*") ? 2 : 1;
        if (r.method == method) score += 1;  // exact method beats HEAD->GET
        if (score > best_score) {
            best = &r;
            best_score = score;
            best_params = std::move(params);
        }
    }
    if (best) {
        m.outcome = Outcome::kMatched;
        m.handler = &best->handler;
        m.pattern = best->pattern;
        m.params = std::move(best_params);
        m.allow.clear();
        return m;
    }
    if (!m.allow.empty()) {
        if (std::find(m.allow.begin(), m.allow.end(), "GET") != m.allow.end())
            m.allow.push_back("HEAD");
        std::sort(m.allow.begin(), m.allow.end());
        m.allow.erase(std::unique(m.allow.begin(), m.allow.end()), m.allow.end());
        m.outcome = Outcome::kMethodNotAllowed;
    }
    return m;
}

}  // namespace hub::http
