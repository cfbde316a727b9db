#include "http/static_files.hpp"

#include <fstream>
#include <sstream>

#include "core/text.hpp"

namespace hub::http {

namespace fs = std::filesystem;

std::optional<std::string> SafeRelativePath(std::string_view raw) {
    // Encoded separators and NUL are refused before decoding, so "%2f" can never split a
    // segment after the check; ".." is then refused on the decoded segments.
    const std::string lower = core::AsciiLower(raw);
    if (lower.find("%2f") != std::string::npos || lower.find("%5c") != std::string::npos ||
        lower.find("%00") != std::string::npos || lower.find("%25") != std::string::npos) {
        return std::nullopt;
    }
    std::string decoded = PercentDecode(raw);
    if (decoded.find('\\') != std::string::npos || decoded.find('\0') != std::string::npos) {
        return std::nullopt;
    }
    std::string out;
    std::size_t i = 0;
    while (i <= decoded.size()) {
        auto j = decoded.find('/', i);
        if (j == std::string::npos) j = decoded.size();
        std::string_view seg(decoded.data() + i, j - i);
        if (seg == ".." || seg == ".") return std::nullopt;
        if (!seg.empty()) {
            if (seg.front() == '.' && seg != ".well-known") return std::nullopt;  // dotfiles
            if (!out.empty()) out.push_back('/');
            out.append(seg);
        }
        i = j + 1;
    }
    return out;
}

std::string MimeTypeFor(std::string_view name) {
    auto dot = name.rfind('.');
    const std::string ext =
        dot == std::string_view::npos ? "" : core::AsciiLower(name.substr(dot + 1));
    static const std::pair<const char*, const char*> kTypes[] = {
        {"html", "text/html; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"json", "application/json"},
        {"webmanifest", "application/manifest+json"},
        {"map", "application/json"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"ico", "image/x-icon"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},
        {"txt", "text/plain; charset=utf-8"},
        {"wasm", "application/wasm"},
    };
    for (auto& [e, t] : kTypes) {
        if (ext == e) return t;
    }
    return "application/octet-stream";
}

bool IsHashedAsset(std::string_view name) {
    // Vite names assets like index-3f9a1c2B.js: a '-' followed by 8+ hash characters.
    auto slash = name.rfind('/');
    std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
    auto dot = base.rfind('.');
    auto dash = base.rfind('-', dot);
    if (dot == std::string_view::npos || dash == std::string_view::npos || dash > dot) return false;
    std::string_view hash = base.substr(dash + 1, dot - dash - 1);
    if (hash.size() < 8) return false;
    for (char c : hash) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    }
    return true;
}

StaticFiles::StaticFiles(StaticConfig cfg) : cfg_(std::move(cfg)) {
    std::error_code ec;
    if (!cfg_.root.empty() && fs::is_directory(cfg_.root, ec)) {
        canonical_root_ = fs::canonical(cfg_.root, ec);
        if (ec) canonical_root_.clear();
    }
}

namespace {
bool IsWithin(const fs::path& root, const fs::path& p) {
    auto r = root.begin(), re = root.end();
    auto q = p.begin(), qe = p.end();
    for (; r != re; ++r, ++q) {
        if (q == qe || *r != *q) return false;
    }
    return true;
}

std::optional<std::string> ReadFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool Accepts(const Request& req, std::string_view enc) {
    auto ae = req.headers.GetOr("Accept-Encoding");
    return ae.find(enc) != std::string::npos;
}
}  // namespace

std::optional<Response> StaticFiles::ServeFile(const fs::path& file, const Request& req,
                                               bool is_index) const {
    std::error_code ec;
    fs::path real = fs::canonical(file, ec);
    if (ec || !IsWithin(canonical_root_, real) || !fs::is_regular_file(real, ec)) {
        return std::nullopt;  // missing, or a symlink that points outside the root
    }
    std::string name = real.filename().string();
    Response r;
    r.status = 200;
    r.headers.Set("Content-Type", MimeTypeFor(name));
    std::optional<std::string> body;
    for (auto [suffix, enc] : {std::pair{".br", "br"}, std::pair{".gz", "gzip"}}) {
        if (!Accepts(req, enc)) continue;
        fs::path pre = real;
        pre += suffix;
        fs::path pre_real = fs::canonical(pre, ec);
        if (!ec && IsWithin(canonical_root_, pre_real) && fs::is_regular_file(pre_real, ec)) {
            body = ReadFile(pre_real);
            if (body) {
                r.headers.Set("Content-Encoding", enc);
                break;
            }
        }
    }
    if (!body) body = ReadFile(real);
    if (!body) return std::nullopt;
    r.headers.Set("Vary", "Accept-Encoding");
    if (is_index || name == "index.html" || name == "sw.js" || name == "service-worker.js" ||
        name == "manifest.webmanifest") {
        r.headers.Set("Cache-Control", "no-cache");
    } else if (IsHashedAsset(name)) {
        r.headers.Set("Cache-Control", "public, max-age=31536000, immutable");
    } else {
        r.headers.Set("Cache-Control", "public, max-age=3600");
    }
    r.body = std::move(*body);
    return r;
}

std::optional<Response> StaticFiles::ServeNamed(const Request& req,
                                               std::string_view relative) const {
    if (canonical_root_.empty()) return std::nullopt;
    return ServeFile(canonical_root_ / std::string(relative), req, relative == "index.html");
}

std::optional<Response> StaticFiles::Serve(const Request& req) const {
    if (canonical_root_.empty()) return std::nullopt;
    auto rel = SafeRelativePath(req.path);
    if (!rel) return std::nullopt;
    if (!rel->empty()) {
        if (auto r = ServeFile(canonical_root_ / *rel, req, false)) return r;
    }
    // SPA fallback: client-side routes get index.html; API paths and missing files that look
    // like assets (they have an extension) do not.
    for (const auto& p : cfg_.api_prefixes) {
        if (req.path.rfind(p, 0) == 0) return std::nullopt;
    }
    auto last = rel->rfind('/');
    std::string_view base = last == std::string::npos ? std::string_view(*rel)
                                                      : std::string_view(*rel).substr(last + 1);
    if (base.find('.') != std::string_view::npos) return std::nullopt;
    return ServeFile(canonical_root_ / "index.html", req, true);
}

}  // namespace hub::http
