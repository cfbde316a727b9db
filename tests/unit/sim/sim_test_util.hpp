#pragma once
// Helpers for the simulator's unit tests: conformance files, an SSE splitter, JSON key paths.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hub::sim::test {

using ojson = nlohmann::ordered_json;

inline std::string ReadConformance(const std::string& name) {
    std::ifstream f(std::string(HUB_CONFORMANCE_DIR) + "/" + name, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct SseEvent {
    std::string id;
    std::string event;
    std::vector<std::string> comments;
    std::string data;
    std::string raw_data_line;  // the "data…" line as written
};

// Line-based SSE reading; a new "id:" line or a blank line ends an event (native recordings
// sometimes have no blank lines).
inline std::vector<SseEvent> ParseSse(const std::string& text) {
    std::vector<SseEvent> out;
    SseEvent cur;
    bool have = false;
    auto flush = [&] {
        if (have) out.push_back(cur);
        cur = SseEvent{};
        have = false;
    };
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) {
            flush();
            continue;
        }
        auto field_value = [&](std::size_t colon) {
            std::string v = line.substr(colon + 1);
            if (!v.empty() && v.front() == ' ') v.erase(0, 1);
            return v;
        };
        if (line.front() == ':') {
            cur.comments.push_back(line.substr(1));
            have = true;
            continue;
        }
        auto colon = line.find(':');
        std::string field = line.substr(0, colon);
        if (field == "id") {
            if (have && (!cur.data.empty() || !cur.id.empty())) flush();
            cur.id = field_value(colon);
        } else if (field == "event") {
            cur.event = field_value(colon);
        } else if (field == "data") {
            cur.data = field_value(colon);
            cur.raw_data_line = line;
        }
        have = true;
    }
    flush();
    return out;
}

// Dotted key paths in document order ("output.choices[].message.content").
inline void KeyPaths(const ojson& j, const std::string& prefix, std::vector<std::string>* out) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            std::string p = prefix.empty() ? it.key() : prefix + "." + it.key();
            out->push_back(p);
            KeyPaths(it.value(), p, out);
        }
    } else if (j.is_array() && !j.empty()) {
        KeyPaths(j.front(), prefix + "[]", out);
    }
}

inline std::vector<std::string> KeyPaths(const ojson& j) {
    std::vector<std::string> out;
    KeyPaths(j, "", &out);
    return out;
}

// Same keys in the same order at the object's top level and, recursively, inside.
inline std::vector<std::string> SortedKeyPaths(const ojson& j) {
    auto v = KeyPaths(j);
    std::sort(v.begin(), v.end());
    return v;
}

}  // namespace hub::sim::test
