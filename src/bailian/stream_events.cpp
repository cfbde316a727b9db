#include "bailian/stream_events.hpp"

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>

#include "bailian/wire_json.hpp"
#include "core/text.hpp"

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


// The cheap reading of a compatible chunk: a scanner over the bytes that validates them as
// nlohmann's parser does (RFC 8259: the same whitespace, literals, number grammar, strings
// with no raw control characters, strict UTF-8 and paired \u surrogates, nothing after the
// root) and keeps only what OnCompatible uses, with no DOM and no token copies. It reads the
// usual chunk: an object whose "choices" is [] or null or holds one object with "index" 0
// (or absent), "delta" an object or null whose "content" / "reasoning_content" are strings or
// null and "tool_calls" null, "finish_reason" any value, "usage" null, "request_id" a string
// or null; other keys are validated and skipped. Anything else (an "error", "code" or
// "output" key, tool calls, a usage object, array content, several choices, "message"
// instead of "delta", a repeated key it reads, a root that is no object, a number with a
// fraction, an exponent or more than 18 digits, nesting deeper than 64, invalid JSON) makes
// it give up, and the caller reads the chunk again with the DOM: where the scanner answers,
// the two readings agree (the unit tests and fuzz/stream_events.cpp check it).
class CompatScan {
public:
    explicit CompatScan(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

    // true: valid JSON of the usual shape, read; false: give up (nothing is to be used).
    bool Run() {
        Ws();
        if (!Eat('{') || !Members(kRoot)) return false;
        Ws();
        return p_ == end_;
    }

    bool has_choice = false;   // choices had one element
    bool choice_zero = true;   // ... and its index reads as 0
    bool has_content = false, has_reasoning = false, has_finish = false, has_rid = false;
    std::string content, reasoning, finish, request_id;

private:
    enum Ctx : unsigned char { kRoot, kChoice, kDeltaObj };
    enum Slot : unsigned char {
        kIgnore, kChoicesKey, kUsage, kRid, kIndex, kDelta, kFinish, kContent, kReasoning,
        kToolCalls
    };
    static constexpr int kMaxSkipDepth = 64;

    char Peek() const { return p_ < end_ ? *p_ : '\0'; }
    void Ws() {
        while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
    }
    bool Eat(char c) {
        if (p_ == end_ || *p_ != c) return false;
        ++p_;
        return true;
    }
    bool Word(std::string_view w) {
        if (static_cast<std::size_t>(end_ - p_) < w.size() || std::string_view(p_, w.size()) != w)
            return false;
        p_ += w.size();
        return true;
    }

    // The members of an object whose '{' was read, through its '}'.
    bool Members(Ctx ctx) {
        Ws();
        if (Eat('}')) return true;
        while (true) {
            Ws();
            std::string_view key;
            if (!Eat('"') || !String(&key, &key_buf_)) return false;
            Ws();
            if (!Eat(':')) return false;
            Ws();
            Slot slot = kIgnore;
            if (!SlotOf(ctx, key, &slot) || !Value(slot)) return false;
            Ws();
            if (Eat(',')) continue;
            return Eat('}');
        }
    }

    bool SlotOf(Ctx ctx, std::string_view k, Slot* slot) {
        unsigned bit = 0;
        switch (ctx) {
            case kRoot:
                if (k == "choices") *slot = kChoicesKey, bit = 1;
                else if (k == "usage") *slot = kUsage, bit = 2;
                else if (k == "request_id") *slot = kRid, bit = 4;
                else if (k == "error" || k == "code" || k == "output") return false;
                break;
            case kChoice:
                if (k == "index") *slot = kIndex, bit = 8;
                else if (k == "delta") *slot = kDelta, bit = 16;
                else if (k == "finish_reason") *slot = kFinish, bit = 32;
                else if (k == "message") return false;
                break;
            case kDeltaObj:
                if (k == "content") *slot = kContent, bit = 64;
                else if (k == "reasoning_content") *slot = kReasoning, bit = 128;
                else if (k == "tool_calls") *slot = kToolCalls, bit = 256;
                break;
        }
        if (bit != 0) {
            if (seen_ & bit) return false;  // a repeated key: the DOM keeps the last one
            seen_ |= bit;
        }
        return true;
    }

    // The value of a member whose role is `slot`, as the DOM reading would take it.
    bool Value(Slot slot) {
        switch (Peek()) {
            case '{':
                if (slot == kDelta) return ++p_, Members(kDeltaObj);
                return Ignorable(slot) && Skip();
            case '[':
                if (slot == kChoicesKey) return ++p_, Choices();
                return Ignorable(slot) && Skip();
            case '"': {
                ++p_;
                std::string_view text;
                if (!String(&text, &value_buf_)) return false;
                switch (slot) {
                    case kIgnore: case kIndex: return true;  // wire::Int reads a string as 0
                    case kRid: has_rid = true; request_id.assign(text); return true;
                    case kFinish: has_finish = true; finish.assign(text); return true;
                    case kContent: has_content = true; content.assign(text); return true;
                    case kReasoning: has_reasoning = true; reasoning.assign(text); return true;
                    default: return false;
                }
            }
            case 't': return Word("true") && Ignorable(slot);
            case 'f': return Word("false") && Ignorable(slot);  // wire::Str prints a bool
            case 'n': return Word("null");  // null is "absent" for every field read
            default: {
                bool zero = false;
                if (!Number(&zero)) return false;
                if (slot == kIndex) {
                    choice_zero = zero;
                    return true;
                }
                return slot == kIgnore || slot == kFinish;  // wire::Str prints numbers
            }
        }
    }
    // Values the reading ignores in this role (a finish_reason that is no string is none).
    static bool Ignorable(Slot slot) {
        return slot == kIgnore || slot == kIndex || slot == kFinish;
    }

    // The array of choices whose '[' was read: empty, or one object.
    bool Choices() {
        Ws();
        if (Eat(']')) return true;
        if (!Eat('{')) return false;
        has_choice = true;
        if (!Members(kChoice)) return false;
        Ws();
        return Eat(']');  // a second element (n > 1) is the DOM's
    }

    // An integer of at most 18 digits (no fraction or exponent); *zero when it is 0 or -0.
    bool Number(bool* zero) {
        Eat('-');
        const char* digits = p_;
        if (Eat('0')) {
            *zero = true;
        } else {
            if (p_ == end_ || *p_ < '1' || *p_ > '9') return false;
            while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
            *zero = false;
        }
        if (p_ - digits > 18) return false;
        const char c = Peek();
        return c != '.' && c != 'e' && c != 'E' && !(c >= '0' && c <= '9');
    }

    // Any value, validated and skipped, without recursion.
    bool Skip() {
        // One bit per open container: 1 = object (expects a key next), 0 = array.
        std::uint64_t kinds = 0;
        int depth = 0;
        while (true) {
            // A value.
            Ws();
            bool opened = false;
            switch (Peek()) {
                case '{':
                case '[': {
                    if (depth == kMaxSkipDepth) return false;
                    const bool object = *p_ == '{';
                    ++p_;
                    kinds = (kinds << 1) | (object ? 1u : 0u);
                    ++depth;
                    Ws();
                    if (Eat(object ? '}' : ']')) {
                        kinds >>= 1;
                        --depth;
                    } else {
                        opened = true;
                    }
                    break;
                }
                case '"': {
                    ++p_;
                    std::string_view ignored;
                    if (!String(&ignored, nullptr)) return false;
                    break;
                }
                case 't': if (!Word("true")) return false; break;
                case 'f': if (!Word("false")) return false; break;
                case 'n': if (!Word("null")) return false; break;
                default: {
                    bool zero;
                    if (!Number(&zero)) return false;
                }
            }
            if (opened && (kinds & 1)) {
                if (!Key()) return false;
                continue;
            }
            if (opened) continue;  // an array's first element
            // After a value: close what ends here, then a ',' before the next member.
            while (true) {
                if (depth == 0) return true;
                Ws();
                const bool object = kinds & 1;
                if (Eat(',')) {
                    if (object && !Key()) return false;
                    break;
                }
                if (!Eat(object ? '}' : ']')) return false;
                kinds >>= 1;
                --depth;
            }
        }
    }
    // A member's key and its ':'.
    bool Key() {
        Ws();
        std::string_view ignored;
        if (!Eat('"') || !String(&ignored, nullptr)) return false;
        Ws();
        return Eat(':');
    }

    // The rest of a string whose '"' was read, through its closing '"'. *text is the decoded
    // text: a view of the input when it holds no escape, else of `buf` (nullptr: validate
    // only).
    bool String(std::string_view* text, std::string* buf) {
        const char* run = p_;  // the start of the bytes not yet copied to buf
        bool escaped = false;
        while (p_ < end_) {
            const auto c = static_cast<unsigned char>(*p_);
            if (c == '"') {
                if (!escaped) {
                    *text = std::string_view(run, static_cast<std::size_t>(p_ - run));
                } else if (buf != nullptr) {
                    buf->append(run, p_);
                    *text = *buf;
                }
                ++p_;
                return true;
            }
            if (c < 0x20) return false;
            if (c < 0x80) {
                if (c != '\\') {
                    ++p_;
                    continue;
                }
                if (!escaped && buf != nullptr) buf->clear();
                escaped = true;
                if (buf != nullptr) buf->append(run, p_);
                ++p_;
                if (!Escape(buf)) return false;
                run = p_;
                continue;
            }
            if (!Utf8()) return false;
        }
        return false;  // unterminated
    }

    // One escape after its '\', appended to buf (when there is one) as UTF-8.
    bool Escape(std::string* buf) {
        if (p_ == end_) return false;
        char out;
        switch (*p_++) {
            case '"': out = '"'; break;
            case '\\': out = '\\'; break;
            case '/': out = '/'; break;
            case 'b': out = '\b'; break;
            case 'f': out = '\f'; break;
            case 'n': out = '\n'; break;
            case 'r': out = '\r'; break;
            case 't': out = '\t'; break;
            case 'u': {
                std::uint32_t cp = 0;
                if (!Hex4(&cp)) return false;
                if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a lone low surrogate
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    std::uint32_t low = 0;
                    if (!Word("\\u") || !Hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                if (buf != nullptr) AppendUtf8(*buf, cp);
                return true;
            }
            default: return false;
        }
        if (buf != nullptr) buf->push_back(out);
        return true;
    }
    bool Hex4(std::uint32_t* v) {
        if (end_ - p_ < 4) return false;
        for (int i = 0; i < 4; ++i) {
            const int h = core::HexValue(*p_++);
            if (h < 0) return false;
            *v = (*v << 4) | static_cast<std::uint32_t>(h);
        }
        return true;
    }
    static void AppendUtf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }
    // One multi-byte UTF-8 character at p_ (core::Utf8SequenceLength), stepped over.
    bool Utf8() {
        const std::size_t len =
            core::Utf8SequenceLength(std::string_view(p_, static_cast<std::size_t>(end_ - p_)));
        p_ += len;
        return len != 0;
    }

    const char* p_;
    const char* end_;
    unsigned seen_ = 0;  // keys already read (each at one level only)
    std::string key_buf_, value_buf_;  // decoded text of escaped keys and values
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
    CompatScan scan(data);
    if (!scan.Run()) return false;
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
