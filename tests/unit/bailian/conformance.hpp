#pragma once
// Access to the recorded DashScope payloads in HUB_CONFORMANCE_DIR (see SOURCES.md there).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

}  // namespace hub::bailian::testing
