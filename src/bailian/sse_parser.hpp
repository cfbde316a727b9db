#pragma once
// Layer 1 of upstream streaming: an incremental Server-Sent Events parser.
//
// Pure: it is fed whatever bytes arrived (any chunking, even inside a line, a UTF-8 sequence or
// between CR and LF) and returns the complete raw events. It knows nothing about JSON.
//
// Besides the WHATWG rules (LF, CRLF and lone CR line ends; `:` comments; one optional space
// after the colon; multi-line `data`; `id`/`event` fields; blank line dispatches) it is
// tolerant in the ways DashScope needs:
//   * a `:HTTP_STATUS/NNN` comment (or a `status:NNN` field, as the Python SDK accepts) sets
//     the event's http_status;
//   * an `id:` line while the current event already has data starts a new event even without
//     a blank line (one real recording has no blank lines between events);
//   * Finish() at end of stream dispatches a last event that had data but no blank line.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace hub::bailian {

struct SseEvent {
    std::string id;                  // value of this event's `id:` field ("" when none)
    std::string event;               // value of `event:` ("" when none, i.e. "message")
    std::string data;                // `data:` lines joined with '\n'
    std::optional<int> http_status;  // from `:HTTP_STATUS/NNN` or `status:NNN`

    bool operator==(const SseEvent&) const = default;
};

struct SseParserLimits {
    // A line or an event larger than this is an upstream fault, not something to buffer.
    std::size_t max_event_bytes = 8 * 1024 * 1024;
};

class SseParser {
public:
    explicit SseParser(SseParserLimits limits = {}) : limits_(limits) {}

    // Parses `chunk` and returns the events completed by it (possibly none). After an error
    // (an over-long line or event) the parser stays failed and returns the same error.
    [[nodiscard]] core::Result<std::vector<SseEvent>> Feed(std::string_view chunk);

    // End of stream: treats an unterminated last line as complete and dispatches a pending
    // event that has data. The parser is reset afterwards.
    [[nodiscard]] std::vector<SseEvent> Finish();

    // Bytes held for an incomplete line / event (for tests and diagnostics).
    std::size_t buffered_bytes() const { return line_.size() + pending_.data.size(); }

private:
    void ProcessLine(std::string_view line, std::vector<SseEvent>& out);
    void Dispatch(std::vector<SseEvent>& out);
    core::Result<std::vector<SseEvent>> Fail();

    SseParserLimits limits_;
    std::string line_;        // current incomplete line
    SseEvent pending_;        // event being assembled
    bool has_data_ = false;   // pending_ saw at least one `data` line
    bool skip_lf_ = false;    // last byte was CR: a following LF belongs to the same line end
    bool first_line_ = true;  // strip a UTF-8 BOM from the very first line
    bool failed_ = false;
};

}  // namespace hub::bailian
