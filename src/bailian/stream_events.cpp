#include "bailian/stream_events.hpp"

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>

#include "bailian/wire_json.hpp"

namespace hub::bailian {

namespace {

using wire::Find;
using wire::Json;
using wire::Str;

constexpr const char kInvalidData[] = "invalid_stream_data";

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// For incremental_output=false: `current` is the whole text so far; returns what is new.
// If `current` is a prefix of what was seen (e.g. a trailing empty event) nothing is new. If it
// diverges, the part after the common prefix (on a UTF-8 boundary) is returned.
std::string CumulativeDelta(std::string& so_far, std::string current) {
    if (current.size() <= so_far.size() && so_far.compare(0, current.size(), current) == 0) {
        return {};
    }
    std::size_t common = 0;
    const std::size_t n = std::min(so_far.size(), current.size());
    while (common < n && so_far[common] == current[common]) ++common;
    while (common > 0 && common < current.size() && IsContinuation(current[common])) --common;
    std::string delta = current.substr(common);
    so_far = std::move(current);
    return delta;
}

// A finish_reason that means "finished": a non-empty string other than "null".
std::optional<std::string> FinishReason(const Json* v) {
    if (v == nullptr || !v->is_string()) return std::nullopt;
    const auto& s = v->get_ref<const std::string&>();
    if (s.empty() || s == "null") return std::nullopt;
    return s;
}

// The choice with index 0 (n > 1 is not supported by the typed layer), or the first one.
const Json* FirstChoice(const Json* choices) {
    if (choices == nullptr || !choices->is_array() || choices->empty()) return nullptr;
    for (const Json& c : *choices) {
        if (wire::Int(c, "index") == 0) return &c;
    }
    return nullptr;
}


// The cheap reading of a compatible chunk: nlohmann's SAX parser (the same lexer and grammar
// as the DOM parse, so exactly the same inputs are valid JSON) with a handler that keeps only
// what OnCompatible uses and builds no DOM. It handles the usual chunk: an object whose
// "choices" is [] or one object with "index" 0 (or absent), "delta" an object or null whose
// "content" / "reasoning_content" are strings or null and "tool_calls" null, "finish_reason"
// any scalar, "usage" null, "request_id" a string or null. Anything else (an "error", "code"
// or "output" key, tool calls, a usage object, array content, several choices, "message"
// instead of "delta", a repeated key the scan reads, a root that is no object, invalid JSON)
// makes it give up, and the caller reads the chunk again with the DOM: by construction the
// two readings agree wherever the scan answers.
class CompatScan {
public:
    using Json = nlohmann::json;
    using string_t = Json::string_t;
    using binary_t = Json::binary_t;

    bool gave_up = false;
    bool has_choice = false;   // choices had one element
    bool choice_zero = true;   // ... and its index reads as 0
    bool has_content = false, has_reasoning = false, has_finish = false, has_rid = false;
    std::string content, reasoning, finish, request_id;

    bool null() { return Scalar(kNull); }
    bool boolean(bool) { return Scalar(kBool); }
    bool number_integer(Json::number_integer_t v) { return Number(v == 0, false); }
    bool number_unsigned(Json::number_unsigned_t v) { return Number(v == 0, false); }
    bool number_float(Json::number_float_t, const string_t&) { return Number(false, true); }
    bool binary(binary_t&) { return GiveUp(); }
    bool string(string_t& v) {
        if (skip_ > 0) return true;
        switch (Take()) {
            case kIgnore: return true;
            case kRid: has_rid = true; request_id.assign(v); return true;
            case kFinish: has_finish = true; finish.assign(v); return true;
            case kContent: has_content = true; content.assign(v); return true;
            case kReasoning: has_reasoning = true; reasoning.assign(v); return true;
            case kIndex: return true;  // wire::Int reads a string as 0
            default: return GiveUp();
        }
    }
    bool start_object(std::size_t) {
        if (skip_ > 0) return ++skip_, true;
        if (depth_ == 0) return Push(kRoot);
        if (Top() == kChoices) {
            if (has_choice) return GiveUp();  // n > 1
            has_choice = true;
            return Push(kChoice);
        }
        switch (Take()) {
            case kIgnore: case kIndex: case kFinish: return ++skip_, true;
            case kDelta: return Push(kDeltaObj);
            default: return GiveUp();
        }
    }
    bool start_array(std::size_t) {
        if (skip_ > 0) return ++skip_, true;
        if (depth_ == 0 || Top() == kChoices) return GiveUp();
        switch (Take()) {
            case kIgnore: case kIndex: case kFinish: return ++skip_, true;
            case kChoicesKey: return Push(kChoices);
            default: return GiveUp();
        }
    }
    bool end_object() { return End(); }
    bool end_array() { return End(); }
    bool key(string_t& k) {
        if (skip_ > 0) return true;
        slot_ = kIgnore;
        unsigned bit = 0;
        switch (Top()) {
            case kRoot:
                if (k == "choices") slot_ = kChoicesKey, bit = 1;
                else if (k == "usage") slot_ = kUsage, bit = 2;
                else if (k == "request_id") slot_ = kRid, bit = 4;
                else if (k == "error" || k == "code" || k == "output") return GiveUp();
                break;
            case kChoice:
                if (k == "index") slot_ = kIndex, bit = 8;
                else if (k == "delta") slot_ = kDelta, bit = 16;
                else if (k == "finish_reason") slot_ = kFinish, bit = 32;
                else if (k == "message") return GiveUp();
                break;
            case kDeltaObj:
                if (k == "content") slot_ = kContent, bit = 64;
                else if (k == "reasoning_content") slot_ = kReasoning, bit = 128;
                else if (k == "tool_calls") slot_ = kToolCalls, bit = 256;
                break;
            default:
                return GiveUp();
        }
        if (bit != 0) {
            if (seen_ & bit) return GiveUp();  // a repeated key: the DOM keeps the last one
            seen_ |= bit;
        }
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
        return GiveUp();
    }

private:
    enum Ctx : unsigned char { kRoot, kChoices, kChoice, kDeltaObj };
    enum Slot : unsigned char {
        kNone, kIgnore, kChoicesKey, kUsage, kRid, kIndex, kDelta, kFinish, kContent,
        kReasoning, kToolCalls
    };
    enum Kind { kNull, kBool };

    bool GiveUp() {
        gave_up = true;
        return false;
    }
    Ctx Top() const { return stack_[depth_ - 1]; }
    bool Push(Ctx c) {
        if (depth_ == 4) return GiveUp();
        stack_[depth_++] = c;
        slot_ = kNone;
        return true;
    }
    bool End() {
        if (skip_ > 0) return --skip_, true;
        --depth_;
        slot_ = kNone;
        return true;
    }
    Slot Take() {
        Slot s = slot_;
        slot_ = kNone;
        return s;
    }
    bool Scalar(Kind kind) {
        if (skip_ > 0) return true;
        if (depth_ == 0 || Top() == kChoices) return GiveUp();
        switch (Take()) {
            case kIgnore: case kIndex: case kFinish: return true;  // finish: not a string = none
            case kChoicesKey: case kUsage: case kDelta: case kContent: case kReasoning:
            case kToolCalls:
                return kind == kNull ? true : GiveUp();
            case kRid:
                return kind == kNull ? true : GiveUp();  // wire::Str prints a bool
            default: return GiveUp();
        }
    }
    bool Number(bool zero, bool is_float) {
        if (skip_ > 0) return true;
        if (depth_ == 0 || Top() == kChoices) return GiveUp();
        switch (Take()) {
            case kIgnore: case kFinish: return true;
            case kIndex:
                if (is_float) return GiveUp();
                choice_zero = zero;
                return true;
            default: return GiveUp();  // wire::Str prints numbers; usage/content: not the usual
        }
    }

    Ctx stack_[4] = {};
    int depth_ = 0;
    int skip_ = 0;  // depth inside a value the scan ignores
    Slot slot_ = kNone;
    unsigned seen_ = 0;  // keys already read (each at one level only)
};

}  // namespace

std::vector<StreamEvent> StreamDecoder::OnEvent(const SseEvent& event) {
    std::vector<StreamEvent> out;
    if (ended_) return out;
    if (options_.style == ApiStyle::kCompatible) {
        OnCompatible(event, out);
    } else {
        OnNative(event, out);
    }
    return out;
}

std::vector<StreamEvent> StreamDecoder::OnEnd() {
    std::vector<StreamEvent> out;
    if (ended_) return out;
    if (finished_) {
        ended_ = true;
        out.emplace_back(Done{});
        return out;
    }
    UpstreamError e;
    e.code = "incomplete_stream";
    e.message = "the upstream stream ended before it finished";
    EmitError(std::move(e), out);
    return out;
}

std::vector<StreamEvent> StreamDecoder::Abort(UpstreamError error) {
    std::vector<StreamEvent> out;
    if (!ended_) EmitError(std::move(error), out);
    return out;
}

void StreamDecoder::EmitError(UpstreamError error, std::vector<StreamEvent>& out) {
    if (error.request_id.empty()) error.request_id = request_id();
    ended_ = true;
    out.emplace_back(std::move(error));
}

void StreamDecoder::EmitUsage(const Usage& usage, std::vector<StreamEvent>& out) {
    if (last_usage_ && *last_usage_ == usage) return;
    last_usage_ = usage;
    out.emplace_back(usage);
}

void StreamDecoder::EmitToolCalls(const Json& tool_calls, std::vector<StreamEvent>& out) {
    if (!tool_calls.is_array()) return;
    const bool cumulative = options_.style == ApiStyle::kNative && !options_.incremental_output;
    int position = 0;
    for (const Json& item : tool_calls) {
        if (!item.is_object()) continue;
        ToolCallDelta d;
        d.index =
            Find(item, "index") != nullptr ? static_cast<int>(wire::Int(item, "index")) : position;
        ++position;
        d.id = Str(item, "id");
        d.type = Str(item, "type");
        if (const Json* fn = Find(item, "function")) {
            d.name = Str(*fn, "name");
            d.arguments = Str(*fn, "arguments");
        }
        if (cumulative) {  // every event repeats the whole call: keep only what is new
            ToolCallSoFar& so_far = tool_calls_so_far_[d.index];
            auto fresh = [](std::string& seen, std::string& now) {
                if (now.empty() || now == seen) {
                    now.clear();
                } else {
                    seen = now;
                }
            };
            fresh(so_far.id, d.id);
            fresh(so_far.type, d.type);
            fresh(so_far.name, d.name);
            d.arguments = CumulativeDelta(so_far.arguments, std::move(d.arguments));
        }
        if (d.id.empty() && d.type.empty() && d.name.empty() && d.arguments.empty()) continue;
        out.emplace_back(std::move(d));
    }
}

void StreamDecoder::OnCompatible(const SseEvent& event, std::vector<StreamEvent>& out) {
    const std::string_view data = Trim(event.data);
    if (data == "[DONE]") {
        ended_ = true;
        out.emplace_back(Done{});
        return;
    }
    if (!options_.dom_reference && event.event != "error" && ScanCompatible(data, out)) return;
    auto j = wire::ParseJson(data);
    UpstreamError err;
    err.http_status = event.http_status.value_or(0);
    if (!j) {
        err.code = kInvalidData;
        err.message = "unparseable stream chunk: " + wire::Excerpt(data);
        EmitError(std::move(err), out);
        return;
    }
    if (std::string rid = Str(*j, "request_id"); !rid.empty()) request_id_ = std::move(rid);
    if (wire::ExtractError(*j, err) || event.event == "error") {
        if (err.code.empty() && err.message.empty()) err.message = wire::Excerpt(data);
        EmitError(std::move(err), out);
        return;
    }
    std::optional<std::string> finish;
    if (const Json* choice = FirstChoice(Find(*j, "choices"))) {
        const Json* delta = Find(*choice, "delta");
        if (delta == nullptr) delta = Find(*choice, "message");  // lenient
        if (delta != nullptr) {
            if (std::string r = Str(*delta, "reasoning_content"); !r.empty()) {
                out.emplace_back(ReasoningDelta{std::move(r)});
            }
            if (std::string c = wire::ContentText(Find(*delta, "content")); !c.empty()) {
                out.emplace_back(ContentDelta{std::move(c)});
            }
            if (const Json* tc = Find(*delta, "tool_calls")) EmitToolCalls(*tc, out);
        }
        finish = FinishReason(Find(*choice, "finish_reason"));
    }
    if (auto usage = wire::ParseUsage(Find(*j, "usage"))) EmitUsage(*usage, out);
    if (finish && !finished_) {
        finished_ = true;
        out.emplace_back(Finish{std::move(*finish)});
    }
}

// The usual chunk without a DOM (CompatScan); false = not handled, nothing emitted.
bool StreamDecoder::ScanCompatible(std::string_view data, std::vector<StreamEvent>& out) {
    CompatScan scan;
    if (!nlohmann::json::sax_parse(data.begin(), data.end(), &scan) || scan.gave_up) return false;
    ++scanned_;
    if (scan.has_rid && !scan.request_id.empty()) request_id_ = std::move(scan.request_id);
    if (!scan.has_choice || !scan.choice_zero) return true;
    if (scan.has_reasoning && !scan.reasoning.empty())
        out.emplace_back(ReasoningDelta{std::move(scan.reasoning)});
    if (scan.has_content && !scan.content.empty())
        out.emplace_back(ContentDelta{std::move(scan.content)});
    if (scan.has_finish && !scan.finish.empty() && scan.finish != "null" && !finished_) {
        finished_ = true;
        out.emplace_back(Finish{std::move(scan.finish)});
    }
    return true;
}

void StreamDecoder::OnNative(const SseEvent& event, std::vector<StreamEvent>& out) {
    auto j = wire::ParseJson(event.data);
    if (j) {
        if (std::string rid = Str(*j, "request_id"); !rid.empty()) request_id_ = std::move(rid);
    }
    UpstreamError err;
    err.http_status = event.http_status.value_or(0);
    bool is_error = event.event == "error" || (event.http_status && *event.http_status >= 400);
    if (j && wire::ExtractError(*j, err)) is_error = true;
    if (is_error) {
        if (err.code.empty() && err.message.empty()) err.message = wire::Excerpt(event.data);
        EmitError(std::move(err), out);
        return;
    }
    if (!j) {
        err.code = kInvalidData;
        err.message = "unparseable stream event: " + wire::Excerpt(event.data);
        EmitError(std::move(err), out);
        return;
    }

    std::string content;
    std::string reasoning;
    const Json* tool_calls = nullptr;
    std::optional<std::string> finish;
    if (const Json* output = Find(*j, "output")) {
        if (const Json* choice = FirstChoice(Find(*output, "choices"))) {
            if (const Json* message = Find(*choice, "message")) {
                content = wire::ContentText(Find(*message, "content"));
                reasoning = Str(*message, "reasoning_content");
                tool_calls = Find(*message, "tool_calls");
            }
            finish = FinishReason(Find(*choice, "finish_reason"));
        } else {  // result_format=text and application calls
            content = wire::ContentText(Find(*output, "text"));
            finish = FinishReason(Find(*output, "finish_reason"));
        }
    }
    if (!options_.incremental_output) {
        reasoning = CumulativeDelta(reasoning_so_far_, std::move(reasoning));
        content = CumulativeDelta(content_so_far_, std::move(content));
    }
    if (!reasoning.empty()) out.emplace_back(ReasoningDelta{std::move(reasoning)});
    if (!content.empty()) out.emplace_back(ContentDelta{std::move(content)});
    if (tool_calls != nullptr) EmitToolCalls(*tool_calls, out);
    if (auto usage = wire::ParseUsage(Find(*j, "usage"))) EmitUsage(*usage, out);
    if (finish) {  // native streams end with the finishing event: there is no [DONE]
        finished_ = true;
        ended_ = true;
        out.emplace_back(Finish{std::move(*finish)});
        out.emplace_back(Done{});
    }
}

std::vector<StreamEvent> StreamReader::Feed(std::string_view bytes) {
    std::vector<StreamEvent> out;
    if (decoder_.ended()) return out;
    auto raw = parser_.Feed(bytes);
    if (!raw.ok()) {
        UpstreamError e;
        e.code = kInvalidData;
        e.message = raw.error().detail;
        return decoder_.Abort(std::move(e));
    }
    for (const SseEvent& ev : raw.value()) {
        auto typed = decoder_.OnEvent(ev);
        std::move(typed.begin(), typed.end(), std::back_inserter(out));
        if (decoder_.ended()) break;
    }
    return out;
}

std::vector<StreamEvent> StreamReader::Finish() {
    std::vector<StreamEvent> out;
    for (const SseEvent& ev : parser_.Finish()) {
        auto typed = decoder_.OnEvent(ev);
        std::move(typed.begin(), typed.end(), std::back_inserter(out));
    }
    auto end = decoder_.OnEnd();
    std::move(end.begin(), end.end(), std::back_inserter(out));
    return out;
}

}  // namespace hub::bailian
