#pragma once
// Fault switches chosen per request. Sources, merged in this order: the X-Sim-Fault header,
// a model-name suffix ("qwen-plus@cut:3"), a "[sim:…]" directive in the prompt, and faults
// queued through POST /_sim/faults. Grammar of one switch: name[:arg], several joined by ','.
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hub::sim {

struct FaultSet {
    // Error answers (before any output).
    int status = 0;           // 401, 429, 500, 503 or 400 (arrearage) / 403 (denied)
    std::string status_name;  // the switch that chose it, e.g. "429", "arrearage"
    bool inspection = false;  // DataInspectionFailed before output (HTTP 400)
    int inspection_mid = -1;  // DataInspectionFailed after this many chunks (stream error event)
    // Transport faults.
    bool malformed = false;  // invalid JSON body / SSE data line
    int cut_after = -1;      // close the connection (RST) after N chunks
    int stall_ms = -1;       // send headers, then nothing for this long
    int stall_before_headers_ms = -1;
    int drip_ms = -1;        // write every few bytes with this pause between writes
    bool reset = false;      // reset the connection before answering
    bool utf8_split = false; // write a multi-byte character across two writes
    bool no_blank_lines = false;  // native SSE without blank lines between events (seen live)
    // Wanx tasks.
    bool task_failed = false;
    bool task_partial = false;

    bool Any() const;
    std::vector<std::string> names;  // the switches that were applied (for stats)
};

constexpr int kDefaultStallMs = 300'000;
constexpr int kDefaultDripMs = 200;

// Adds the switches of `spec` ("cut:3,drip"). Returns the unknown ones (empty when all parsed).
std::vector<std::string> ApplyFaultSpec(std::string_view spec, FaultSet* out);

// "[sim:…]" directives found in prompt text.
struct Directives {
    std::string faults;  // fault switches, ','-joined
    std::optional<int> tokens;            // content tokens to emit
    std::optional<int> reasoning_tokens;  // reasoning tokens to emit
    std::optional<double> tokens_per_second;
    std::optional<int> first_token_ms;
    std::optional<double> task_seconds;
};

// Reads every "[sim:KEY=VALUE]" and "[sim:FAULT]" in text. Keys: tokens, reasoning, tps,
// ttft, task-seconds, fault.
Directives ParseDirectives(std::string_view text);

// Faults armed through POST /_sim/faults: each applies to the next `count` requests whose path
// contains `path` (empty = any DashScope request). Thread-safe.
class FaultQueue {
public:
    struct Entry {
        std::string spec;
        std::string path;
        int remaining = 1;
    };
    void Push(Entry e);
    // Spec of the first armed entry matching path ("" when none); uses one of its count.
    std::string Take(const std::string& path);
    std::vector<Entry> List() const;
    void Clear();

private:
    mutable std::mutex mu_;
    std::deque<Entry> entries_;
};

}  // namespace hub::sim
