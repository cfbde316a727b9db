#include "bailian/stream_events.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "unit/bailian/conformance.hpp"

namespace hub::bailian {
namespace {

using testing::ReadConformance;

// What a consumer would build from the typed events.
struct Summary {
    std::string content;
    std::string reasoning;
    std::vector<ToolCallDelta> tool_calls;
    std::optional<Usage> usage;
    int usage_events = 0;
    std::string finish;
    std::optional<UpstreamError> error;
    int done = 0;
    bool event_after_end = false;
};

Summary Summarise(const std::vector<StreamEvent>& events) {
    Summary s;
    bool ended = false;
    for (const StreamEvent& ev : events) {
        if (ended) s.event_after_end = true;
        if (auto* c = std::get_if<ContentDelta>(&ev)) s.content += c->text;
        if (auto* r = std::get_if<ReasoningDelta>(&ev)) s.reasoning += r->text;
        if (auto* t = std::get_if<ToolCallDelta>(&ev)) s.tool_calls.push_back(*t);
        if (auto* u = std::get_if<Usage>(&ev)) {
            s.usage = *u;
            ++s.usage_events;
        }
        if (auto* f = std::get_if<Finish>(&ev)) s.finish = f->reason;
        if (auto* e = std::get_if<UpstreamError>(&ev)) {
            s.error = *e;
            ended = true;
        }
        if (std::holds_alternative<Done>(ev)) {
            ++s.done;
            ended = true;
        }
    }
    return s;
}

std::vector<StreamEvent> ReadAll(std::string_view body, StreamOptions options,
                                 std::size_t chunk = 0) {
    StreamReader reader(std::move(options));
    return testing::FeedAll(reader, body, chunk);
}

StreamOptions Native(bool incremental = true) {
    StreamOptions o;
    o.style = ApiStyle::kNative;
    o.incremental_output = incremental;
    return o;
}

StreamOptions Compatible() { return StreamOptions{}; }

Summary DecodeFile(const std::string& name, StreamOptions options) {
    const std::string body = ReadConformance(name);
    auto whole = ReadAll(body, options);
    EXPECT_EQ(ReadAll(body, options, 1), whole) << name << " differs in 1-byte chunks";
    EXPECT_EQ(ReadAll(body, options, 7), whole) << name << " differs in 7-byte chunks";
    return Summarise(whole);
}

// ---- conformance recordings ----

TEST(StreamEvents, CompatibleStreamWithUsage) {
    Summary s = DecodeFile("compat_stream_include_usage.sse", Compatible());
    EXPECT_EQ(s.content,
              "I am a large-scale language model from Alibaba Cloud, and my name is Qwen.");
    EXPECT_EQ(s.reasoning, "");
    EXPECT_EQ(s.finish, "stop");
    ASSERT_TRUE(s.usage);
    EXPECT_EQ(s.usage->input_tokens, 22);
    EXPECT_EQ(s.usage->output_tokens, 17);
    EXPECT_EQ(s.usage->total_tokens, 39);
    EXPECT_EQ(s.usage_events, 1);
    EXPECT_EQ(s.done, 1);
    EXPECT_FALSE(s.error);
    EXPECT_FALSE(s.event_after_end);
}

TEST(StreamEvents, CompatibleStreamEventOrder) {
    auto events = ReadAll(ReadConformance("compat_stream_include_usage.sse"), Compatible());
    ASSERT_GE(events.size(), 3u);
    // ... Finish, then the usage chunk (choices: []), then Done.
    EXPECT_TRUE(std::holds_alternative<Done>(events.back()));
    EXPECT_TRUE(std::holds_alternative<Usage>(events[events.size() - 2]));
    EXPECT_TRUE(std::holds_alternative<Finish>(events[events.size() - 3]));
}

TEST(StreamEvents, NativeTextStream) {
    Summary s = DecodeFile("native_text_stream_ok.sse", Native());
    EXPECT_EQ(s.content,
              "1+1\xE7\xAD\x89\xE4\xBA\x8E"
              "2\xE3\x80\x82");  // 1+1等于2。
    EXPECT_EQ(s.finish, "stop");
    ASSERT_TRUE(s.usage);
    EXPECT_EQ(*s.usage, (Usage{16, 6, 22, 0, 0, 0}));
    EXPECT_EQ(s.usage_events, 4);  // cumulative usage, emitted only when it changes
    EXPECT_EQ(s.done, 1);
    EXPECT_FALSE(s.error);
}

TEST(StreamEvents, NativeMessageStreamWithoutBlankLines) {
    Summary s = DecodeFile("native_message_stream_ok.sse", Native());
    EXPECT_EQ(s.content.rfind("1+1 \xE7\xAD\x89\xE4\xBA\x8E 2", 0), 0u) << s.content;
    EXPECT_EQ(s.finish, "stop");
    ASSERT_TRUE(s.usage);
    EXPECT_EQ(*s.usage, (Usage{8, 40, 48, 0, 0, 0}));
    EXPECT_EQ(s.done, 1);
}

TEST(StreamEvents, NativeReasoningStream) {
    Summary s = DecodeFile("native_reasoning_stream.sse", Native());
    EXPECT_FALSE(s.reasoning.empty());
    EXPECT_FALSE(s.content.empty());
    EXPECT_EQ(s.content.substr(s.content.size() - 7), "\xEF\xBC\x81\xF0\x9F\x98\x8A");  // ！😊
    EXPECT_EQ(s.finish, "stop");
    ASSERT_TRUE(s.usage);
    EXPECT_EQ(s.usage->reasoning_tokens, 10);
    EXPECT_EQ(s.usage->total_tokens, 69);
}

TEST(StreamEvents, NativeReasoningComesBeforeContent) {
    auto events = ReadAll(ReadConformance("native_reasoning_stream.sse"), Native());
    bool seen_content = false;
    for (const auto& e : events) {
        if (std::holds_alternative<ContentDelta>(e)) seen_content = true;
        if (std::holds_alternative<ReasoningDelta>(e)) {
            EXPECT_FALSE(seen_content);
        }
    }
    EXPECT_TRUE(seen_content);
}

TEST(StreamEvents, NativeVlStreamWithContentArrays) {
    Summary s = DecodeFile("multimodal_vl_stream.sse", Native());
    // 这是一个海滩，
    EXPECT_EQ(s.content.rfind("\xE8\xBF\x99\xE6\x98\xAF\xE4\xB8\x80\xE4\xB8\xAA\xE6\xB5\xB7\xE6"
                              "\xBB\xA9\xEF\xBC\x8C",
                              0),
              0u)
        << s.content;
    // The finishing event still carries text: 和其他访客。
    EXPECT_EQ(s.content.substr(s.content.size() - 18),
              "\xE5\x92\x8C\xE5\x85\xB6\xE4\xBB\x96\xE8\xAE\xBF\xE5\xAE\xA2\xE3\x80\x82");
    ASSERT_TRUE(s.usage);
    EXPECT_EQ(s.usage->input_tokens, 1283);
    EXPECT_EQ(s.usage->output_tokens, 85);
    EXPECT_EQ(s.usage->total_tokens, 1283 + 85);  // VL omits total_tokens
    EXPECT_EQ(s.usage->image_tokens, 1247);
    EXPECT_EQ(s.finish, "stop");
}

TEST(StreamEvents, NativeToolFollowupStream) {
    Summary s = DecodeFile("native_tools_followup_stream.sse", Native());
    EXPECT_FALSE(s.content.empty());
    EXPECT_TRUE(s.tool_calls.empty());
    ASSERT_TRUE(s.usage);
    EXPECT_EQ(*s.usage, (Usage{283, 53, 336, 0, 0, 0}));
    EXPECT_EQ(s.finish, "stop");
}

TEST(StreamEvents, ApplicationStream) {
    Summary s = DecodeFile("app_completion_stream.sse", Native());
    EXPECT_EQ(s.content.rfind("xUnit Test Patterns", 0), 0u) << s.content.substr(0, 40);
    ASSERT_TRUE(s.usage);
    EXPECT_EQ(s.usage->input_tokens, 2304);  // summed over usage.models[]
    EXPECT_EQ(s.usage->output_tokens, 244);
    EXPECT_EQ(s.finish, "stop");
    EXPECT_EQ(s.done, 1);
}

TEST(StreamEvents, NativeErrorEvent) {
    Summary s = DecodeFile("native_stream_error_event.sse", Native());
    ASSERT_TRUE(s.error);
    EXPECT_EQ(s.error->http_status, 400);
    EXPECT_EQ(s.error->code, "InvalidParameter");
    EXPECT_EQ(s.error->message,
              "Role must be user or assistant and Content length must be greater than 0");
    EXPECT_EQ(s.error->request_id, "7671ecd8-93cc-9ee9-bc89-739f0fd8b809");
    EXPECT_EQ(s.done, 0);
    EXPECT_TRUE(s.content.empty());
    EXPECT_FALSE(s.event_after_end);
}

TEST(StreamEvents, NativeRequestIdIsRemembered) {
    StreamReader r(Native());
    (void)r.Feed(ReadConformance("native_text_stream_ok.sse"));
    EXPECT_EQ(r.decoder().request_id(), "5b441aa7-0b9c-9fbc-ae0a-e2b212b71eac");
}

// ---- compatible mode, synthetic ----

TEST(StreamEvents, CompatibleReasoningThenContent) {
    const std::string body =
        "data: {\"choices\":[{\"delta\":{\"content\":null,\"role\":\"assistant\","
        "\"reasoning_content\":\"\"},\"index\":0,\"finish_reason\":null}],\"usage\":null}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":null,\"reasoning_content\":\"think\"},"
        "\"index\":0,\"finish_reason\":null}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"ans\",\"reasoning_content\":null},"
        "\"index\":0,\"finish_reason\":null}]}\n\n"
        "data: {\"choices\":[{\"finish_reason\":\"stop\",\"delta\":{\"content\":\"\"},"
        "\"index\":0}]}\n\n"
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":9,"
        "\"total_tokens\":14,\"completion_tokens_details\":{\"reasoning_tokens\":4},"
        "\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\n"
        "data: [DONE]\n\n";
    auto events = ReadAll(body, Compatible());
    ASSERT_EQ(events.size(), 5u);
    EXPECT_EQ(events[0], StreamEvent(ReasoningDelta{"think"}));
    EXPECT_EQ(events[1], StreamEvent(ContentDelta{"ans"}));
    EXPECT_EQ(events[2], StreamEvent(Finish{"stop"}));
    EXPECT_EQ(events[3], StreamEvent(Usage{5, 9, 14, 4, 2, 0}));
    EXPECT_EQ(events[4], StreamEvent(Done{}));
}

TEST(StreamEvents, CompatibleToolCallDeltas) {
    const std::string body =
        "data: {\"choices\":[{\"delta\":{\"content\":null,\"tool_calls\":[{\"index\":0,"
        "\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
        "\"arguments\":\"\"}}]},\"index\":0,\"finish_reason\":null}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
        "{\"arguments\":\"{\\\"city\\\":\"}}]},\"index\":0,\"finish_reason\":null}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
        "{\"arguments\":\"\\\"Hangzhou\\\"}\"}}]},\"index\":0,\"finish_reason\":null}]}\n\n"
        "data: {\"choices\":[{\"delta\":{},\"index\":0,\"finish_reason\":\"tool_calls\"}]}\n\n"
        "data: [DONE]\n\n";
    Summary s = Summarise(ReadAll(body, Compatible()));
    ASSERT_EQ(s.tool_calls.size(), 3u);
    EXPECT_EQ(s.tool_calls[0], (ToolCallDelta{0, "call_1", "function", "get_weather", ""}));
    std::string args;
    for (const auto& t : s.tool_calls) args += t.arguments;
    EXPECT_EQ(args, "{\"city\":\"Hangzhou\"}");
    EXPECT_EQ(s.finish, "tool_calls");
    EXPECT_EQ(s.done, 1);
}

TEST(StreamEvents, CompatibleMidStreamError) {
    const std::string body =
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"},\"index\":0,"
        "\"finish_reason\":null}]}\n\n"
        "data: {\"error\":{\"code\":\"data_inspection_failed\",\"param\":null,\"message\":"
        "\"Output data may contain inappropriate content.\",\"type\":\"data_inspection_failed\"}}"
        "\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"ignored\"},\"index\":0}]}\n\n";
    StreamOptions o = Compatible();
    o.request_id = "hdr-req-1";
    Summary s = Summarise(ReadAll(body, o));
    EXPECT_EQ(s.content, "Hel");
    ASSERT_TRUE(s.error);
    EXPECT_EQ(s.error->code, "data_inspection_failed");
    EXPECT_EQ(s.error->type, "data_inspection_failed");
    EXPECT_EQ(s.error->message, "Output data may contain inappropriate content.");
    EXPECT_EQ(s.error->param, "");
    EXPECT_EQ(s.error->http_status, 0);
    EXPECT_EQ(s.error->request_id, "hdr-req-1");  // from the header when the body has none
    EXPECT_FALSE(s.event_after_end);
}

TEST(StreamEvents, CompatibleKeyOrderAndOtherChoicesDoNotMatter) {
    const std::string body =
        "data: {\"id\":\"x\",\"choices\":[{\"index\":1,\"delta\":{\"content\":\"other\"}},"
        "{\"finish_reason\":null,\"delta\":{\"content\":\"mine\"},\"index\":0}]}\n\n"
        "data:[DONE]\n\n";
    Summary s = Summarise(ReadAll(body, Compatible()));
    EXPECT_EQ(s.content, "mine");
    EXPECT_EQ(s.done, 1);
}

TEST(StreamEvents, CompatibleWithoutDoneEndsAtClose) {
    const std::string body =
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"},\"index\":0,"
        "\"finish_reason\":\"stop\"}]}\n\n";
    auto events = ReadAll(body, Compatible());
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[2], StreamEvent(Done{}));  // finished, only the sentinel was missing
}

TEST(StreamEvents, StreamThatBreaksOffIsAnError) {
    const std::string body =
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"},\"index\":0,"
        "\"finish_reason\":null}]}\n\n";
    Summary s = Summarise(ReadAll(body, Compatible()));
    EXPECT_EQ(s.content, "a");
    ASSERT_TRUE(s.error);
    EXPECT_EQ(s.error->code, "incomplete_stream");

    const std::string native =
        "id:1\nevent:result\n:HTTP_STATUS/200\ndata:{\"output\":{\"finish_reason\":\"null\","
        "\"text\":\"x\"},\"request_id\":\"r-9\"}\n";
    Summary n = Summarise(ReadAll(native, Native()));
    ASSERT_TRUE(n.error);
    EXPECT_EQ(n.error->code, "incomplete_stream");
    EXPECT_EQ(n.error->request_id, "r-9");
}

TEST(StreamEvents, MalformedJsonIsAnError) {
    Summary s = Summarise(ReadAll("data: {not json\n\ndata: [DONE]\n\n", Compatible()));
    ASSERT_TRUE(s.error);
    EXPECT_EQ(s.error->code, "invalid_stream_data");
    EXPECT_EQ(s.done, 0);

    Summary n = Summarise(ReadAll("id:1\nevent:result\ndata:<html>\n\n", Native()));
    ASSERT_TRUE(n.error);
    EXPECT_EQ(n.error->code, "invalid_stream_data");
}

TEST(StreamEvents, OversizedEventBecomesAnError) {
    StreamReader r(Compatible(), SseParserLimits{32});
    Summary s = Summarise(r.Feed("data: " + std::string(100, 'x')));
    ASSERT_TRUE(s.error);
    EXPECT_EQ(s.error->code, "invalid_stream_data");
    EXPECT_TRUE(r.ended());
    EXPECT_TRUE(r.Feed("data: [DONE]\n\n").empty());
    EXPECT_TRUE(r.Finish().empty());
}

TEST(StreamEvents, NothingAfterDone) {
    StreamDecoder d(Compatible());
    SseEvent done;
    done.data = "[DONE]";
    ASSERT_EQ(d.OnEvent(done).size(), 1u);
    SseEvent more;
    more.data = "{\"choices\":[{\"delta\":{\"content\":\"late\"},\"index\":0}]}";
    EXPECT_TRUE(d.OnEvent(more).empty());
    EXPECT_TRUE(d.OnEnd().empty());
    EXPECT_TRUE(d.Abort(UpstreamError{}).empty());
}

// ---- native, synthetic ----

std::string NativeEvent(int id, const std::string& data, int status = 200,
                        const std::string& type = "result") {
    return "id:" + std::to_string(id) + "\nevent:" + type + "\n:HTTP_STATUS/" +
           std::to_string(status) + "\ndata:" + data + "\n\n";
}

std::string TextEvent(const std::string& text, const std::string& finish, int out_tokens) {
    return "{\"output\":{\"choices\":[{\"message\":{\"content\":\"" + text +
           "\",\"role\":\"assistant\"},\"finish_reason\":\"" + finish +
           "\"}]},\"usage\":{\"input_tokens\":3,\"output_tokens\":" + std::to_string(out_tokens) +
           "},\"request_id\":\"rid\"}";
}

TEST(StreamEvents, NativeNonIncrementalOutputBecomesDeltas) {
    const std::string body =
        NativeEvent(1, TextEvent("1", "null", 1)) + NativeEvent(2, TextEvent("1+", "null", 2)) +
        NativeEvent(3, TextEvent("1+1", "null", 3)) +
        NativeEvent(4, TextEvent("1+1=2", "null", 5)) + NativeEvent(5, TextEvent("", "stop", 5));
    auto events = ReadAll(body, Native(/*incremental=*/false));
    std::vector<std::string> deltas;
    for (const auto& e : events) {
        if (auto* c = std::get_if<ContentDelta>(&e)) deltas.push_back(c->text);
    }
    EXPECT_EQ(deltas, (std::vector<std::string>{"1", "+", "1", "=2"}));
    Summary s = Summarise(events);
    EXPECT_EQ(s.content, "1+1=2");
    EXPECT_EQ(s.finish, "stop");
    EXPECT_EQ(s.usage->total_tokens, 8);
    // The same body read as incremental would repeat the text.
    EXPECT_EQ(Summarise(ReadAll(body, Native(true))).content, "11+1+11+1=2");
}

TEST(StreamEvents, NativeNonIncrementalReasoningAndToolCalls) {
    auto ev = [](const std::string& reasoning, const std::string& content, const std::string& args,
                 const std::string& finish) {
        return "{\"output\":{\"choices\":[{\"message\":{\"content\":\"" + content +
               "\",\"reasoning_content\":\"" + reasoning +
               "\",\"tool_calls\":[{\"index\":0,\"id\":\"call_9\",\"type\":\"function\","
               "\"function\":{\"name\":\"f\",\"arguments\":\"" +
               args + "\"}}]},\"finish_reason\":\"" + finish + "\"}]}}";
    };
    const std::string body = NativeEvent(1, ev("th", "", "", "null")) +
                             NativeEvent(2, ev("think", "", "{\\\"a\\\"", "null")) +
                             NativeEvent(3, ev("think", "ok", "{\\\"a\\\":1}", "tool_calls"));
    Summary s = Summarise(ReadAll(body, Native(false)));
    EXPECT_EQ(s.reasoning, "think");
    EXPECT_EQ(s.content, "ok");
    ASSERT_EQ(s.tool_calls.size(), 3u);
    EXPECT_EQ(s.tool_calls[0], (ToolCallDelta{0, "call_9", "function", "f", ""}));
    EXPECT_EQ(s.tool_calls[1], (ToolCallDelta{0, "", "", "", "{\"a\""}));
    EXPECT_EQ(s.tool_calls[2], (ToolCallDelta{0, "", "", "", ":1}"}));
    EXPECT_EQ(s.finish, "tool_calls");
}

TEST(StreamEvents, NativeNonIncrementalDivergenceKeepsUtf8Whole) {
    // "héllo" then "hèllo": the texts differ inside the 2-byte character; the delta starts at
    // its first byte, never in the middle.
    const std::string body = NativeEvent(1, TextEvent("h\xC3\xA9llo", "null", 1)) +
                             NativeEvent(2, TextEvent("h\xC3\xA8llo!", "stop", 2));
    auto events = ReadAll(body, Native(false));
    std::vector<std::string> deltas;
    for (const auto& e : events) {
        if (auto* c = std::get_if<ContentDelta>(&e)) deltas.push_back(c->text);
    }
    EXPECT_EQ(deltas, (std::vector<std::string>{"h\xC3\xA9llo", "\xC3\xA8llo!"}));
}

TEST(StreamEvents, NativeTextFormatWithStringNullFinish) {
    const std::string body =
        NativeEvent(1, "{\"output\":{\"finish_reason\":\"null\",\"text\":\"a\"}}") +
        NativeEvent(2, "{\"output\":{\"finish_reason\":null,\"text\":\"b\"}}") +
        NativeEvent(3, "{\"output\":{\"finish_reason\":\"length\",\"text\":\"c\"}}");
    Summary s = Summarise(ReadAll(body, Native()));
    EXPECT_EQ(s.content, "abc");
    EXPECT_EQ(s.finish, "length");
    EXPECT_EQ(s.done, 1);
    EXPECT_FALSE(s.usage);
}

TEST(StreamEvents, NativeMidStreamErrorEvent) {
    const std::string body =
        NativeEvent(1, TextEvent("partial", "null", 1)) +
        NativeEvent(2,
                    "{\"code\":\"DataInspectionFailed\",\"message\":\"Output data may contain "
                    "inappropriate content.\",\"request_id\":\"rid-2\"}",
                    400, "error");
    Summary s = Summarise(ReadAll(body, Native()));
    EXPECT_EQ(s.content, "partial");
    ASSERT_TRUE(s.error);
    EXPECT_EQ(s.error->code, "DataInspectionFailed");
    EXPECT_EQ(s.error->http_status, 400);
    EXPECT_EQ(s.error->request_id, "rid-2");
}

TEST(StreamEvents, NativeErrorStatusWithoutErrorEventName) {
    const std::string body = NativeEvent(1,
                                         "{\"code\":\"Throttling.RateQuota\",\"message\":"
                                         "\"Requests rate limit exceeded\"}",
                                         429);
    StreamOptions o = Native();
    o.request_id = "from-header";
    Summary s = Summarise(ReadAll(body, o));
    ASSERT_TRUE(s.error);
    EXPECT_EQ(s.error->http_status, 429);
    EXPECT_EQ(s.error->code, "Throttling.RateQuota");
    EXPECT_EQ(s.error->request_id, "from-header");
}

TEST(StreamEvents, NativeErrorEventWithUnparseableData) {
    Summary s = Summarise(ReadAll(NativeEvent(1, "upstream exploded", 500, "error"), Native()));
    ASSERT_TRUE(s.error);
    EXPECT_EQ(s.error->http_status, 500);
    EXPECT_EQ(s.error->message, "upstream exploded");
}

TEST(StreamEvents, UsageEmittedOnlyWhenItChanges) {
    const std::string body =
        NativeEvent(1, TextEvent("a", "null", 1)) + NativeEvent(2, TextEvent("", "null", 1)) +
        NativeEvent(3, TextEvent("b", "null", 2)) + NativeEvent(4, TextEvent("", "stop", 2));
    Summary s = Summarise(ReadAll(body, Native()));
    EXPECT_EQ(s.usage_events, 2);
    EXPECT_EQ(s.content, "ab");
}

// Found by fuzz/stream_events: a count too large for int64 (a float in JSON) was converted
// with undefined behaviour; counts are bounded instead, and so are their sums.
TEST(StreamEvents, AbsurdUsageCountsAreBounded) {
    const std::string body =
        "id:1\nevent:result\n:HTTP_STATUS/200\n"
        "data:{\"output\":{\"finish_reason\":\"stop\",\"text\":\"x\"},\"usage\":{"
        "\"total_tokens\":18,\"input_tokens\":1" + std::string(110, '5') + ","
        "\"output_tokens\":-2},\"request_id\":\"r\"}\n\n";
    auto s = Summarise(ReadAll(body, Native()));
    ASSERT_TRUE(s.usage);
    EXPECT_EQ(s.usage->input_tokens, 0);  // not a usable number
    EXPECT_EQ(s.usage->output_tokens, 0);
    EXPECT_EQ(s.usage->total_tokens, 18);

    const std::string apps =
        "data:{\"output\":{\"finish_reason\":\"stop\",\"text\":\"x\"},\"usage\":{\"models\":["
        "{\"input_tokens\":9223372036854775807,\"output_tokens\":1e300},"
        "{\"input_tokens\":9223372036854775807,\"output_tokens\":5}]}}\n\n";
    auto a = Summarise(ReadAll(apps, Native()));
    ASSERT_TRUE(a.usage);
    EXPECT_EQ(a.usage->input_tokens, 1'000'000'000'000);
    EXPECT_EQ(a.usage->output_tokens, 5);
    EXPECT_EQ(a.usage->total_tokens, 1'000'000'000'005);
}

}  // namespace
}  // namespace hub::bailian
