// Upstream stream bodies through both decoding layers (SSE, then DashScope's event JSON), in
// every API style and output mode. The first input byte picks the mode and the chunk size.
// Compatible chunks are read twice, by the scanner and by the JSON DOM (the reference,
// StreamOptions::dom_reference), and the OpenAI frames rendered from the events twice, by
// concatenation and from a DOM (ChunkRenderer's dom_reference): any difference aborts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "bailian/stream_events.hpp"
#include "services/openai_compat.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    using namespace hub::bailian;
    StreamOptions options;
    options.style = (data[0] & 1) ? ApiStyle::kNative : ApiStyle::kCompatible;
    options.incremental_output = (data[0] & 2) == 0;
    options.request_id = "req-fuzz";
    StreamOptions reference = options;
    reference.dom_reference = true;
    std::size_t chunk = (data[0] >> 2) % 32 + 1;
    std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

    StreamReader reader(options, {.max_event_bytes = 4096});
    StreamReader ref_reader(reference, {.max_event_bytes = 4096});
    hub::services::ChunkRenderer fast("chatcmpl-fuzz", "qwen-plus", 1, (data[0] & 0x80) != 0);
    hub::services::ChunkRenderer dom("chatcmpl-fuzz", "qwen-plus", 1, (data[0] & 0x80) != 0,
                                     /*dom_reference=*/true);
    bool ended = false;
    auto check = [&](const std::vector<StreamEvent>& events,
                     const std::vector<StreamEvent>& ref_events) {
        // The scan and the DOM agree on every event.
        if (events != ref_events) __builtin_trap();
        if (reader.decoder().request_id() != ref_reader.decoder().request_id()) __builtin_trap();
        for (const auto& e : events) {
            // Nothing may follow the end of a stream (Done or an error).
            if (ended) __builtin_trap();
            if (std::holds_alternative<Done>(e) || std::holds_alternative<UpstreamError>(e)) {
                ended = true;
            }
            // Concatenated frames are the DOM's bytes.
            if (fast.OnEvent(e) != dom.OnEvent(e)) __builtin_trap();
        }
    };
    while (!bytes.empty()) {
        std::size_t n = std::min(chunk, bytes.size());
        check(reader.Feed(bytes.substr(0, n)), ref_reader.Feed(bytes.substr(0, n)));
        bytes.remove_prefix(n);
    }
    check(reader.Finish(), ref_reader.Finish());
    // Every stream ends, one way or the other.
    if (!ended || !reader.ended()) __builtin_trap();
    Usage usage{1, 2, 3, 0, 0, 0};
    if (fast.Finish(usage, "stop") != dom.Finish(usage, "stop")) __builtin_trap();
    return 0;
}
