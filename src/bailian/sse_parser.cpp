#include "bailian/sse_parser.hpp"

#include <charconv>
#include <utility>

namespace hub::bailian {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::string_view kStatusComment = "HTTP_STATUS/";

std::string_view StripOneSpace(std::string_view v) {
    if (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    return v;
}

// "200" -> 200; anything that is not a plausible HTTP status -> nullopt.
std::optional<int> ParseStatus(std::string_view v) {
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    int status = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), status);
    if (ec != std::errc() || ptr != v.data() + v.size() || status < 100 || status > 599) {
        return std::nullopt;
    }
    return status;
}

}  // namespace

core::Result<std::vector<SseEvent>> SseParser::Fail() {
    failed_ = true;
    return core::Error::Make(
        core::ErrorCode::kUpstream, "upstream_error", "The upstream stream was malformed.",
        "SSE line or event exceeds " + std::to_string(limits_.max_event_bytes) + " bytes");
}

core::Result<std::vector<SseEvent>> SseParser::Feed(std::string_view chunk) {
    if (failed_) return Fail();
    std::vector<SseEvent> out;
    while (!chunk.empty()) {
        if (skip_lf_) {
            skip_lf_ = false;
            if (chunk.front() == '\n') {
                chunk.remove_prefix(1);
                continue;
            }
        }
        const std::size_t end = chunk.find_first_of("\r\n");
        if (end == std::string_view::npos) {
            if (line_.size() + chunk.size() > limits_.max_event_bytes) return Fail();
            line_.append(chunk);
            break;
        }
        if (chunk[end] == '\r') skip_lf_ = true;
        if (line_.empty()) {
            ProcessLine(chunk.substr(0, end), out);  // common case: the whole line is here
        } else {
            if (line_.size() + end > limits_.max_event_bytes) return Fail();
            line_.append(chunk.substr(0, end));
            ProcessLine(line_, out);
            line_.clear();
        }
        if (pending_.data.size() > limits_.max_event_bytes) return Fail();
        chunk.remove_prefix(end + 1);
    }
    return out;
}

std::vector<SseEvent> SseParser::Finish() {
    std::vector<SseEvent> out;
    if (!failed_) {
        if (!line_.empty()) {
            std::string last = std::move(line_);
            ProcessLine(last, out);
        }
        if (has_data_) Dispatch(out);
    }
    *this = SseParser(limits_);
    return out;
}

void SseParser::Dispatch(std::vector<SseEvent>& out) {
    out.push_back(std::move(pending_));
    pending_ = SseEvent{};
    has_data_ = false;
}

void SseParser::ProcessLine(std::string_view line, std::vector<SseEvent>& out) {
    if (first_line_) {
        first_line_ = false;
        if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
    }
    if (line.empty()) {  // blank line: dispatch (an event without data is dropped, per spec)
        if (has_data_) {
            Dispatch(out);
        } else {
            pending_ = SseEvent{};
        }
        return;
    }
    if (line.front() == ':') {  // comment; DashScope puts the logical status here
        std::string_view text = StripOneSpace(line.substr(1));
        if (text.substr(0, kStatusComment.size()) == kStatusComment) {
            if (auto s = ParseStatus(text.substr(kStatusComment.size()))) pending_.http_status = s;
        }
        return;
    }
    const std::size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos
                                 ? std::string_view{}
                                 : StripOneSpace(line.substr(colon + 1));

    if (field == "data") {
        if (has_data_) pending_.data.push_back('\n');
        pending_.data.append(value);
        has_data_ = true;
    } else if (field == "id") {
        if (value.find('\0') != std::string_view::npos) return;  // spec: ignore such ids
        if (has_data_) Dispatch(out);  // a new id starts a new event, blank line or not
        pending_.id.assign(value);
    } else if (field == "event") {
        pending_.event.assign(value);
    } else if (field == "status") {
        if (auto s = ParseStatus(value)) pending_.http_status = s;
    }
    // `retry` and unknown fields are ignored.
}

}  // namespace hub::bailian
