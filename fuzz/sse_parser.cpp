// Upstream SSE bytes through the incremental parser. The first input byte picks how the rest
// is cut into chunks; the events must not depend on the cutting.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "bailian/sse_parser.hpp"

namespace {

using hub::bailian::SseEvent;
using hub::bailian::SseParser;

// All events, or nothing when the parser failed (an over-long line or event).
bool ParseAll(std::string_view bytes, std::size_t chunk, std::vector<SseEvent>& out) {
    SseParser parser({.max_event_bytes = 4096});
    while (!bytes.empty()) {
        std::size_t n = std::min(chunk, bytes.size());
        auto events = parser.Feed(bytes.substr(0, n));
        if (!events.ok()) return false;
        out.insert(out.end(), events->begin(), events->end());
        bytes.remove_prefix(n);
    }
    auto last = parser.Finish();
    out.insert(out.end(), last.begin(), last.end());
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::size_t chunk = data[0] % 16 + 1;
    std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    std::vector<SseEvent> whole, cut;
    bool whole_ok = ParseAll(bytes, bytes.size() + 1, whole);
    bool cut_ok = ParseAll(bytes, chunk, cut);
    // A limit failure may come earlier or later with smaller chunks; only compare full parses.
    if (whole_ok && cut_ok && whole != cut) __builtin_trap();
    return 0;
}
