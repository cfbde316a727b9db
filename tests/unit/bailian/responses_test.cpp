#include "bailian/responses.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "bailian/task.hpp"
#include "unit/bailian/conformance.hpp"

namespace hub::bailian {
namespace {

using testing::ConformanceFiles;
using testing::ReadConformance;

ChatResult MustParse(ApiStyle style, const std::string& file) {
    auto r = ParseChatResponse(style, ReadConformance(file));
    EXPECT_TRUE(r.ok()) << file << ": " << (r.ok() ? "" : r.error().detail);
    return r.ok() ? r.value() : ChatResult{};
}

TaskInfo MustParseTask(const std::string& file) {
    auto r = ParseTaskResponse(ReadConformance(file));
    EXPECT_TRUE(r.ok()) << file << ": " << (r.ok() ? "" : r.error().detail);
    return r.ok() ? r.value() : TaskInfo{};
}

// How each conformance JSON body is read. A new file must be added here.
enum class Kind { kRequest, kCompatChat, kNativeChat, kError, kTask };

const std::map<std::string, Kind>& KnownBodies() {
    static const std::map<std::string, Kind> m{
        {"app_completion_nonstream.json", Kind::kNativeChat},
        {"app_completion_request.json", Kind::kRequest},
        {"app_workflow_nonstream.json", Kind::kNativeChat},
        {"compat_error_invalid_api_key.json", Kind::kError},
        {"compat_files_upload_error.json", Kind::kError},
        {"compat_nonstream_ok.json", Kind::kCompatChat},
        {"error_invalid_api_key_native.json", Kind::kError},
        {"error_invalid_parameter_native.json", Kind::kError},
        {"multimodal_vl_nonstream.json", Kind::kNativeChat},
        {"multimodal_vl_request.json", Kind::kRequest},
        {"native_json_mode_nonstream.json", Kind::kNativeChat},
        {"native_logprobs_nonstream.json", Kind::kNativeChat},
        {"native_message_nonstream_ok.json", Kind::kNativeChat},
        {"native_message_request.json", Kind::kRequest},
        {"native_reasoning_nonstream_length.json", Kind::kNativeChat},
        {"native_text_nonstream_ok.json", Kind::kNativeChat},
        {"native_tools_nonstream_toolcall.json", Kind::kNativeChat},
        {"native_tools_request.json", Kind::kRequest},
        {"task_cancel_not_pending_error.json", Kind::kError},
        {"task_expired_unknown.json", Kind::kTask},
        {"task_running.json", Kind::kTask},
        {"task_unknown.json", Kind::kTask},
        {"wanx_t2i_v2_task_succeeded.json", Kind::kTask},
        {"wanx_task_failed.json", Kind::kTask},
        {"wanx_task_partial_failure.json", Kind::kTask},
        {"wanx_v1_submit_pending.json", Kind::kTask},
        {"wanx_v1_submit_request.json", Kind::kRequest},
        {"wanx_v1_task_succeeded.json", Kind::kTask},
    };
    return m;
}

TEST(Responses, EveryConformanceJsonBodyParses) {
    const auto files = ConformanceFiles(".json");
    ASSERT_GE(files.size(), 28u);
    for (const auto& name : files) {
        SCOPED_TRACE(name);
        const std::string body = ReadConformance(name);
        auto j = nlohmann::json::parse(body, nullptr, false);
        ASSERT_FALSE(j.is_discarded());
        ASSERT_TRUE(j.is_object());
        auto it = KnownBodies().find(name);
        ASSERT_NE(it, KnownBodies().end()) << "new conformance file: add it to KnownBodies()";
        switch (it->second) {
            case Kind::kRequest:
                EXPECT_TRUE(j.contains("input"));
                break;
            case Kind::kCompatChat:
                EXPECT_TRUE(ParseChatResponse(ApiStyle::kCompatible, body).ok());
                break;
            case Kind::kNativeChat: {
                auto r = ParseChatResponse(ApiStyle::kNative, body);
                ASSERT_TRUE(r.ok()) << r.error().detail;
                EXPECT_FALSE(r->request_id.empty());
                EXPECT_TRUE(r->finish_reason == "stop" || r->finish_reason == "length");
                break;
            }
            case Kind::kError: {
                UpstreamError e = ParseErrorBody(400, body);
                EXPECT_FALSE(e.message.empty());
                EXPECT_FALSE(ParseChatResponse(ApiStyle::kNative, body).ok());
                EXPECT_FALSE(ParseChatResponse(ApiStyle::kCompatible, body).ok());
                break;
            }
            case Kind::kTask: {
                auto t = ParseTaskResponse(body);
                ASSERT_TRUE(t.ok()) << t.error().detail;
                EXPECT_FALSE(t->task_id.empty());
                EXPECT_FALSE(t->request_id.empty());
                EXPECT_EQ(TaskStatusName(t->status), t->status_text);
                break;
            }
        }
    }
}

// ---- non-stream chat ----

TEST(Responses, CompatibleNonStream) {
    ChatResult r = MustParse(ApiStyle::kCompatible, "compat_nonstream_ok.json");
    EXPECT_EQ(r.content.rfind("\xE4\xBD\xA0\xE5\xA5\xBD", 0), 0u);  // 你好
    EXPECT_EQ(r.finish_reason, "stop");
    EXPECT_EQ(r.usage, (Usage{11, 65, 76, 0, 0, 0}));
    EXPECT_EQ(r.model, "qwen-plus");
    EXPECT_EQ(r.response_id, "chatcmpl-63414f89-e97d-9449-8f3c-1e72cf1f6e40");
    EXPECT_EQ(r.request_id, "");  // compatible bodies have none: use x-request-id
    EXPECT_TRUE(r.tool_calls.is_null());
    EXPECT_EQ(r.reasoning, "");
}

TEST(Responses, NativeTextFormat) {
    ChatResult r = MustParse(ApiStyle::kNative, "native_text_nonstream_ok.json");
    EXPECT_EQ(r.content.rfind("1+1", 0), 0u);
    EXPECT_EQ(r.finish_reason, "stop");
    EXPECT_EQ(r.usage, (Usage{16, 14, 30, 0, 0, 0}));
    EXPECT_EQ(r.request_id, "7e3d5586-cb70-98ce-97bf-8a2ac0091c3f");
}

TEST(Responses, NativeMessageFormatPrettyPrinted) {
    ChatResult r = MustParse(ApiStyle::kNative, "native_message_nonstream_ok.json");
    EXPECT_EQ(r.content.rfind("1+1 ", 0), 0u);
    EXPECT_EQ(r.usage, (Usage{8, 39, 47, 0, 0, 0}));
    EXPECT_EQ(r.request_id, "e764bfe3-c0b7-97a0-ae57-cd99e1580960");
}

TEST(Responses, NativeReasoningCutByLength) {
    ChatResult r = MustParse(ApiStyle::kNative, "native_reasoning_nonstream_length.json");
    EXPECT_EQ(r.finish_reason, "length");
    EXPECT_EQ(r.content, "");
    EXPECT_FALSE(r.reasoning.empty());
    EXPECT_EQ(r.usage, (Usage{12, 21, 33, 20, 0, 0}));
}

TEST(Responses, NativeToolCall) {
    ChatResult r = MustParse(ApiStyle::kNative, "native_tools_nonstream_toolcall.json");
    EXPECT_EQ(r.finish_reason, "stop");  // this capture says stop, not tool_calls
    EXPECT_EQ(r.content, "");
    ASSERT_TRUE(r.tool_calls.is_array());
    ASSERT_EQ(r.tool_calls.size(), 1u);
    EXPECT_EQ(r.tool_calls[0]["id"], "call_cec4c19d27624537b583af");
    EXPECT_EQ(r.tool_calls[0]["function"]["name"], "get_current_weather");
    auto args = nlohmann::json::parse(r.tool_calls[0]["function"]["arguments"].get<std::string>());
    EXPECT_TRUE(args.contains("location"));
}

TEST(Responses, NativeJsonModeAndLogprobs) {
    ChatResult j = MustParse(ApiStyle::kNative, "native_json_mode_nonstream.json");
    EXPECT_EQ(nlohmann::json::parse(j.content)["result"], 2);
    ChatResult l = MustParse(ApiStyle::kNative, "native_logprobs_nonstream.json");
    EXPECT_EQ(l.content, "2");
    EXPECT_EQ(l.usage.cached_tokens, 0);
    EXPECT_EQ(l.usage.total_tokens, 21);
}

TEST(Responses, NativeVlContentArray) {
    ChatResult r = MustParse(ApiStyle::kNative, "multimodal_vl_nonstream.json");
    EXPECT_EQ(r.content, "\xE6\xB5\xB7\xE6\xBB\xA9\xE3\x80\x82");  // 海滩。
    EXPECT_EQ(r.usage.total_tokens, 3616);  // computed: the body has no total_tokens
    EXPECT_EQ(r.usage.image_tokens, 3577);
}

TEST(Responses, ApplicationCompletion) {
    ChatResult r = MustParse(ApiStyle::kNative, "app_completion_nonstream.json");
    EXPECT_FALSE(r.content.empty());
    EXPECT_EQ(r.finish_reason, "stop");
    EXPECT_GT(r.usage.input_tokens, 0);  // summed over usage.models[]
    ChatResult w = MustParse(ApiStyle::kNative, "app_workflow_nonstream.json");
    EXPECT_EQ(w.content, "code");
    EXPECT_EQ(w.usage, Usage{});  // "usage":{}
}

TEST(Responses, ChatResponseErrors) {
    auto not_json = ParseChatResponse(ApiStyle::kNative, "<html>502 Bad Gateway</html>");
    ASSERT_FALSE(not_json.ok());
    EXPECT_EQ(not_json.error().code, core::ErrorCode::kUpstream);
    EXPECT_NE(not_json.error().detail.find("502 Bad Gateway"), std::string::npos);
    EXPECT_FALSE(ParseChatResponse(ApiStyle::kCompatible, "{\"choices\":[]}").ok());
    EXPECT_FALSE(ParseChatResponse(ApiStyle::kNative, "{\"output\":{}}").ok());
    EXPECT_FALSE(ParseChatResponse(ApiStyle::kNative, "[]").ok());
    auto err =
        ParseChatResponse(ApiStyle::kNative, ReadConformance("error_invalid_api_key_native.json"));
    ASSERT_FALSE(err.ok());
    EXPECT_NE(err.error().detail.find("InvalidApiKey"), std::string::npos);
}

TEST(Responses, CompatibleContentNullAndPartsArray) {
    auto r = ParseChatResponse(
        ApiStyle::kCompatible,
        R"({"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1",
        "type":"function","index":0,"function":{"name":"f","arguments":"{}"}}]},
        "finish_reason":"tool_calls","index":0}],"usage":{"prompt_tokens":1,"completion_tokens":2,
        "total_tokens":3}})");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->content, "");
    EXPECT_EQ(r->finish_reason, "tool_calls");
    EXPECT_EQ(r->tool_calls.size(), 1u);
    auto parts = ParseChatResponse(ApiStyle::kCompatible,
                                   R"({"choices":[{"message":{"content":[{"type":"text","text":"a"},
                                              {"type":"text","text":"b"}]}}]})");
    ASSERT_TRUE(parts.ok());
    EXPECT_EQ(parts->content, "ab");
}

// ---- error bodies ----

TEST(Responses, NativeErrorBodies) {
    UpstreamError e =
        ParseErrorBody(401, ReadConformance("error_invalid_api_key_native.json"), "header-id");
    EXPECT_EQ(e.http_status, 401);
    EXPECT_EQ(e.code, "InvalidApiKey");
    EXPECT_EQ(e.message, "Invalid API-key provided.");
    EXPECT_EQ(e.request_id, "a1c0561c-1dfe-98a6-a62f-983577b8bc5e");  // the body wins
    EXPECT_EQ(e.type, "");

    UpstreamError p = ParseErrorBody(400, ReadConformance("error_invalid_parameter_native.json"));
    EXPECT_EQ(p.code, "InvalidParameter");
    UpstreamError c = ParseErrorBody(400, ReadConformance("task_cancel_not_pending_error.json"));
    EXPECT_EQ(c.code, "UnsupportedOperation");
    EXPECT_EQ(c.request_id, "4d496c94-1389-9ca9-a92a-3e732f675686");  // request_id came first
}

TEST(Responses, CompatibleErrorBodies) {
    UpstreamError e = ParseErrorBody(401, ReadConformance("compat_error_invalid_api_key.json"));
    EXPECT_EQ(e.code, "invalid_api_key");
    EXPECT_EQ(e.type, "invalid_request_error");
    EXPECT_EQ(e.param, "");
    EXPECT_EQ(e.request_id, "68684844-a3ed-4db6-9e59-7b94a4d1a32a");
    EXPECT_EQ(e.message.rfind("Incorrect API key provided.", 0), 0u);

    UpstreamError f =
        ParseErrorBody(400, ReadConformance("compat_files_upload_error.json"), "hdr-1");
    EXPECT_EQ(f.code, "");  // code null
    EXPECT_EQ(f.param, "purpose");
    EXPECT_EQ(f.message, "'purpose' must be 'file-extract'");
    EXPECT_EQ(f.request_id, "hdr-1");  // no request_id in the body
}

TEST(Responses, LenientErrorBodies) {
    UpstreamError a = ParseErrorBody(429, R"({"error":{"message":"slow down"}})", "h");
    EXPECT_EQ(a.message, "slow down");
    EXPECT_EQ(a.code, "");
    EXPECT_EQ(a.request_id, "h");

    UpstreamError b = ParseErrorBody(500, R"({"error":"plain text error","request_id":"r"})");
    EXPECT_EQ(b.message, "plain text error");
    EXPECT_EQ(b.request_id, "r");

    UpstreamError c = ParseErrorBody(400, R"({"error":{"code":1234,"message":null}})");
    EXPECT_EQ(c.code, "1234");
    EXPECT_EQ(c.message, "");

    UpstreamError d = ParseErrorBody(502, "<html>\r\nBad Gateway</html>", "hdr");
    EXPECT_EQ(d.http_status, 502);
    EXPECT_EQ(d.code, "");
    EXPECT_EQ(d.message, "<html>  Bad Gateway</html>");  // control characters blanked
    EXPECT_EQ(d.request_id, "hdr");

    UpstreamError e = ParseErrorBody(503, "");
    EXPECT_EQ(e.http_status, 503);
    EXPECT_EQ(e.message, "");

    UpstreamError f = ParseErrorBody(500, R"({"request_id":"only-id"})");
    EXPECT_EQ(f.request_id, "only-id");

    UpstreamError g = ParseErrorBody(500, std::string(1000, 'x'));
    EXPECT_LE(g.message.size(), 203u);  // excerpt, not the whole body
}

// ---- async tasks ----

TEST(Tasks, SubmitAndPoll) {
    TaskInfo submit = MustParseTask("wanx_v1_submit_pending.json");
    EXPECT_EQ(submit.status, TaskStatus::kPending);
    EXPECT_EQ(submit.task_id, "9e2b6ef6-285d-4efa-8651-4dbda7d571fa");
    EXPECT_FALSE(IsTerminal(submit.status));

    TaskInfo running = MustParseTask("task_running.json");
    EXPECT_EQ(running.status, TaskStatus::kRunning);
    EXPECT_EQ(running.total, 4);
    EXPECT_EQ(running.submit_time, "2024-03-01 17:38:24.817");

    TaskInfo done = MustParseTask("wanx_v1_task_succeeded.json");
    EXPECT_EQ(done.status, TaskStatus::kSucceeded);
    EXPECT_TRUE(IsTerminal(done.status));
    ASSERT_EQ(done.results.size(), 4u);
    for (const auto& item : done.results) EXPECT_TRUE(item.ok());
    EXPECT_EQ(done.image_count, 4);
    EXPECT_EQ(done.succeeded, 4);

    TaskInfo v2 = MustParseTask("wanx_t2i_v2_task_succeeded.json");
    ASSERT_FALSE(v2.results.empty());
    EXPECT_FALSE(v2.results[0].actual_prompt.empty());
    EXPECT_FALSE(v2.results[0].orig_prompt.empty());
}

TEST(Tasks, FailuresAndUnknown) {
    TaskInfo failed = MustParseTask("wanx_task_failed.json");
    EXPECT_EQ(failed.status, TaskStatus::kFailed);
    EXPECT_EQ(failed.code, "InvalidParameter");
    EXPECT_EQ(failed.failed, 4);

    TaskInfo partial = MustParseTask("wanx_task_partial_failure.json");
    EXPECT_EQ(partial.status, TaskStatus::kSucceeded);
    ASSERT_EQ(partial.results.size(), 2u);
    EXPECT_TRUE(partial.results[0].ok());
    EXPECT_FALSE(partial.results[1].ok());
    EXPECT_EQ(partial.results[1].code, "InternalError.Timeout");
    EXPECT_EQ(partial.image_count, 1);

    EXPECT_EQ(MustParseTask("task_unknown.json").status, TaskStatus::kUnknown);
    EXPECT_EQ(MustParseTask("task_expired_unknown.json").status, TaskStatus::kUnknown);

    auto odd = ParseTaskResponse(R"({"output":{"task_id":"t","task_status":"WEIRD"}})");
    ASSERT_TRUE(odd.ok());
    EXPECT_EQ(odd->status, TaskStatus::kUnknown);
    EXPECT_EQ(odd->status_text, "WEIRD");

    EXPECT_FALSE(ParseTaskResponse(ReadConformance("task_cancel_not_pending_error.json")).ok());
    EXPECT_FALSE(ParseTaskResponse("nope").ok());
    EXPECT_FALSE(ParseTaskResponse(R"({"output":{}})").ok());
}

}  // namespace
}  // namespace hub::bailian
