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
