#pragma once
// Access to the recorded DashScope payloads in HUB_CONFORMANCE_DIR (see SOURCES.md there).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bailian/stream_events.hpp"

namespace hub::bailian::testing {

inline std::filesystem::path ConformanceDir() { return HUB_CONFORMANCE_DIR; }

inline std::string ReadConformance(const std::string& name) {
    std::ifstream in(ConformanceDir() / name, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// File names (not paths) in the conformance folder ending with `ext`, sorted.
inline std::vector<std::string> ConformanceFiles(const std::string& ext) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(ConformanceDir())) {
        const std::string name = e.path().filename().string();
        if (name.size() > ext.size() &&
            name.compare(name.size() - ext.size(), ext.size(), ext) == 0) {
            out.push_back(name);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Feeds `body` to `reader` whole (chunk 0) or in pieces of `chunk` bytes, then finishes it:
// every event, in order.
inline std::vector<StreamEvent> FeedAll(StreamReader& reader, std::string_view body,
                                        std::size_t chunk = 0) {
    std::vector<StreamEvent> out;
    auto take = [&](std::vector<StreamEvent> v) {
        for (auto& e : v) out.push_back(std::move(e));
    };
    if (chunk == 0) {
        take(reader.Feed(body));
    } else {
        for (std::size_t i = 0; i < body.size(); i += chunk)
            take(reader.Feed(body.substr(i, chunk)));
    }
    take(reader.Finish());
    return out;
}

}  // namespace hub::bailian::testing
