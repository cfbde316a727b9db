#pragma once
// Layer 2 of upstream streaming: raw SSE events (sse_parser.hpp) -> typed chat stream events,
// for both DashScope API styles.
//
// Compatible mode: OpenAI chunks (delta.content / reasoning_content / tool_calls, finish_reason
// JSON null until the end, an optional usage chunk with "choices":[] after the finish chunk, a
// mid-stream {"error":{...}} data line, `data: [DONE]`).
// Native: output.choices[0].message (content string or VL array of {text}), or output.text for
// result_format=text and apps; finish_reason is the string "null" until the end; usage is
// cumulative on every event; `event:error` + `:HTTP_STATUS/4xx` for errors; no [DONE] (the
// stream ends after the finishing event). With incremental_output=false every native event
// repeats the whole text so far and the decoder turns it into deltas.
//
// Event order per upstream event: ReasoningDelta, ContentDelta, ToolCallDelta..., Usage,
// Finish, Done. Usage is "the totals so far"; the last one wins (it is emitted only when it
// changed). After Done or UpstreamError the decoder ignores everything.
#include <cstddef>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "bailian/sse_parser.hpp"
#include "bailian/types.hpp"

namespace hub::bailian {

struct ContentDelta {
    std::string text;
    bool operator==(const ContentDelta&) const = default;
};

struct ReasoningDelta {
    std::string text;
    bool operator==(const ReasoningDelta&) const = default;
};

// One OpenAI-style tool-call fragment. id/type/name are set on the first fragment of a call;
// `arguments` is a piece of the JSON arguments string, to be concatenated per index.
struct ToolCallDelta {
    int index = 0;
    std::string id;
    std::string type;
    std::string name;
    std::string arguments;
    bool operator==(const ToolCallDelta&) const = default;
};

struct Finish {
    std::string reason;  // "stop", "length", "tool_calls", ...
    bool operator==(const Finish&) const = default;
};

struct Done {
    bool operator==(const Done&) const = default;
};

using StreamEvent =
    std::variant<ContentDelta, ReasoningDelta, ToolCallDelta, Usage, Finish, UpstreamError, Done>;

struct StreamOptions {
    ApiStyle style = ApiStyle::kCompatible;
    // Native only: the value of parameters.incremental_output sent upstream. false = every
    // event repeats the whole text so far.
    bool incremental_output = true;
    // The x-request-id response header; used for errors when the event carries no request_id.
    std::string request_id;
    // Compatible mode reads the usual chunk (one choice with a string delta, a finish_reason,
    // no usage/error/tool calls) with a scanner that keeps only the fields it needs, and falls
    // back to the JSON DOM for everything else (see stream_events.cpp). true = always the DOM:
    // the reference the scan is tested against (unit test, fuzz/stream_events.cpp).
    bool dom_reference = false;
};

class StreamDecoder {
public:
    explicit StreamDecoder(StreamOptions options) : options_(std::move(options)) {}

    // Interprets one raw event. Malformed JSON becomes an UpstreamError (code
    // "invalid_stream_data") and ends the stream.
    std::vector<StreamEvent> OnEvent(const SseEvent& event);

    // The connection closed. Emits Done if the stream finished without a [DONE] sentinel
    // (native streams never send one), or an UpstreamError (code "incomplete_stream") if it
    // broke off before finishing. Nothing after Done / an error.
    std::vector<StreamEvent> OnEnd();

    // The caller found the stream unusable (e.g. broken SSE framing): emits `error` (with the
    // known request id filled in) and ends the stream. Nothing if it already ended.
    std::vector<StreamEvent> Abort(UpstreamError error);

    bool ended() const { return ended_; }        // Done or an error was emitted
    bool finished() const { return finished_; }  // a Finish was emitted
    std::size_t scanned() const { return scanned_; }  // compatible chunks read without a DOM
    // DashScope's request id: from the events (native), else the header given in options.
    const std::string& request_id() const {
        return request_id_.empty() ? options_.request_id : request_id_;
    }

private:
    void OnCompatible(const SseEvent& event, std::vector<StreamEvent>& out);
    bool ScanCompatible(std::string_view data, std::vector<StreamEvent>& out);
    void OnNative(const SseEvent& event, std::vector<StreamEvent>& out);
    void EmitError(UpstreamError error, std::vector<StreamEvent>& out);
    void EmitUsage(const Usage& usage, std::vector<StreamEvent>& out);
    void EmitToolCalls(const nlohmann::json& tool_calls, std::vector<StreamEvent>& out);

    struct ToolCallSoFar {
        std::string id, type, name, arguments;
    };

    StreamOptions options_;
    std::string request_id_;  // from the events (native request_id)
    std::optional<Usage> last_usage_;
    std::string content_so_far_;                      // incremental_output=false only
    std::string reasoning_so_far_;                    // incremental_output=false only
    std::map<int, ToolCallSoFar> tool_calls_so_far_;  // incremental_output=false only
    bool finished_ = false;
    bool ended_ = false;
    std::size_t scanned_ = 0;
};

// Both layers together, for the network client: feed the body bytes as they arrive, call
// Finish() when the connection closes. Never fails; problems become UpstreamError events.
class StreamReader {
public:
    explicit StreamReader(StreamOptions options, SseParserLimits limits = {})
        : parser_(limits), decoder_(std::move(options)) {}

    std::vector<StreamEvent> Feed(std::string_view bytes);
    std::vector<StreamEvent> Finish();

    bool ended() const { return decoder_.ended(); }
    const StreamDecoder& decoder() const { return decoder_; }

private:
    SseParser parser_;
    StreamDecoder decoder_;
};

}  // namespace hub::bailian
