// Upstream stream bodies through both decoding layers (SSE, then DashScope's event JSON), in
// every API style and output mode. The first input byte picks the mode and the chunk size.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "bailian/stream_events.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    using namespace hub::bailian;
    StreamOptions options;
    options.style = (data[0] & 1) ? ApiStyle::kNative : ApiStyle::kCompatible;
    options.incremental_output = (data[0] & 2) == 0;
    options.request_id = "req-fuzz";
    std::size_t chunk = (data[0] >> 2) % 32 + 1;
    std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

    StreamReader reader(options, {.max_event_bytes = 4096});
    bool ended = false;
    auto check = [&ended](const std::vector<StreamEvent>& events) {
        for (const auto& e : events) {
            // Nothing may follow the end of a stream (Done or an error).
            if (ended) __builtin_trap();
            if (std::holds_alternative<Done>(e) || std::holds_alternative<UpstreamError>(e)) {
                ended = true;
            }
        }
    };
    while (!bytes.empty()) {
        std::size_t n = std::min(chunk, bytes.size());
        check(reader.Feed(bytes.substr(0, n)));
        bytes.remove_prefix(n);
    }
    check(reader.Finish());
    // Every stream ends, one way or the other.
    if (!ended || !reader.ended()) __builtin_trap();
    return 0;
}
