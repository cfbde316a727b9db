#pragma once
// Serves the built web UI from a root folder: MIME types, long cache for hashed assets,
// no-cache for index.html, SPA fallback, precompressed .br/.gz, and no escape from the root.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace hub::http {

struct StaticConfig {
    std::filesystem::path root;
    // Paths under these prefixes never fall back to index.html (they are API surfaces).
    std::vector<std::string> api_prefixes = {"/api/", "/v1/", "/dashscope/", "/healthz",
                                             "/readyz", "/metrics"};
};

// Pure: maps a percent-encoded request path to a relative file path inside the root, or
// nullopt when the path tries to escape it (.., encoded slashes or dots, NUL, backslash).
std::optional<std::string> SafeRelativePath(std::string_view raw_path);
std::string MimeTypeFor(std::string_view filename);
bool IsHashedAsset(std::string_view filename);

class StaticFiles {
public:
    explicit StaticFiles(StaticConfig cfg);
    // Returns nullopt when nothing should be served (the caller answers 404).
    std::optional<Response> Serve(const Request& req) const;
    // One named file of the root (relative path, no fallback): for routes that expose a file
    // of the build under a fixed URL. Nullopt when it is missing.
    std::optional<Response> ServeNamed(const Request& req, std::string_view relative) const;
    bool available() const { return !canonical_root_.empty(); }

private:
    std::optional<Response> ServeFile(const std::filesystem::path& file, const Request& req,
                                      bool is_index) const;
    StaticConfig cfg_;
    std::filesystem::path canonical_root_;
};

}  // namespace hub::http
