#pragma once
// One unit of a streamed answer: the bytes of one SSE event and how many output tokens it
// carries (pacing waits tokens / tokens_per_second before sending it).
#include <string>
#include <string_view>

namespace hub::sim {

struct Frame {
    std::string data;
    int tokens = 0;
};

// A broken copy of an SSE event or JSON body: the JSON is cut short (for the `malformed`
// fault). SSE framing (leading field name, trailing blank line) is kept.
std::string MalformFrame(std::string_view frame);
std::string MalformBody(std::string_view body);

}  // namespace hub::sim
