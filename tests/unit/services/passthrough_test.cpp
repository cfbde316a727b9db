// The DashScope pass-through's pure parts: which paths are forwarded, which headers, the
// native error shape, and what the answer tap reads for accounting.
#include "services/passthrough.hpp"

#include <gtest/gtest.h>

namespace hub::services {
namespace {

using nlohmann::json;

TEST(PassthroughPaths, OnlyDocumentedPathsAreForwarded) {
    auto r =
        MatchPassthroughPath("POST", "/dashscope/api/v1/services/aigc/text-generation/generation");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->kind, PassKind::kChat);
    EXPECT_EQ(r->upstream_path, "/api/v1/services/aigc/text-generation/generation");
    EXPECT_EQ(r->endpoint, "/dashscope/api/v1/services/aigc/text-generation/generation");

    r = MatchPassthroughPath("POST",
                             "/dashscope/api/v1/services/aigc/multimodal-generation/generation");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->kind, PassKind::kMultimodal);
    r = MatchPassthroughPath("POST", "/dashscope/api/v1/services/aigc/text2image/image-synthesis");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->kind, PassKind::kImageSubmit);

    r = MatchPassthroughPath("GET", "/dashscope/api/v1/tasks/9e2b6ef6-285d-4efa-8651-4dbda7d571fa");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->kind, PassKind::kTaskGet);
    EXPECT_EQ(r->task_id, "9e2b6ef6-285d-4efa-8651-4dbda7d571fa");
    EXPECT_EQ(r->upstream_path, "/api/v1/tasks/9e2b6ef6-285d-4efa-8651-4dbda7d571fa");
    EXPECT_EQ(r->endpoint, "/dashscope/api/v1/tasks/{id}");
    r = MatchPassthroughPath("POST", "/dashscope/api/v1/tasks/abc/cancel");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->kind, PassKind::kTaskCancel);
    EXPECT_EQ(r->upstream_path, "/api/v1/tasks/abc/cancel");

    for (auto [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/dashscope/api/v1/services/aigc/text-generation/generation"},
             {"POST", "/dashscope/api/v1/services/aigc/text-generation/generation/"},
             {"POST", "/dashscope/api/v1/services/aigc/text-generation/../../../apps/x/completion"},
             {"POST", "/dashscope/api/v1/services/aigc/text-generation%2Fgeneration"},
             {"POST", "/dashscope/api/v1/services/aigc/unknown/generation"},
             {"POST", "/dashscope/api/v1/apps/123/completion"},
             {"POST", "/dashscope/compatible-mode/v1/chat/completions"},
             {"POST", "/api/v1/services/aigc/text-generation/generation"},
             {"POST", "/dashscope//api/v1/services/aigc/text-generation/generation"},
             {"GET", "/dashscope/api/v1/tasks/"},
             {"GET", "/dashscope/api/v1/tasks/a/b"},
             {"GET", "/dashscope/api/v1/tasks/..%2F"},
             {"GET", "/dashscope/api/v1/tasks/abc/cancel"},
             {"POST", "/dashscope/api/v1/tasks/abc"},
             {"GET", "/dashscope/api/v1/tasks/" + std::string(129, 'a')},
             {"GET", "/dashscope/api/v1/tasks?x=http://evil"},
         }) {
        EXPECT_FALSE(MatchPassthroughPath(method, path)) << method << " " << path;
    }
}

TEST(PassthroughHeaders, OnlyProtocolHeadersAreForwarded) {
    auto out = ForwardedHeaders({{"Authorization", "Bearer bh-secret"},
                                 {"x-api-key", "bh-secret"},
                                 {"Content-Type", "application/json; charset=utf-8"},
                                 {"X-DashScope-SSE", "enable"},
                                 {"X-DashScope-Async", "enable"},
                                 {"X-DashScope-WorkSpace", "llm-other"},
                                 {"Host", "evil.example"},
                                 {"Cookie", "bh_refresh=x"},
                                 {"Accept", "text/event-stream"}});
    std::vector<std::string> names;
    for (const auto& [k, v] : out) names.push_back(k);
    EXPECT_EQ(names, (std::vector<std::string>{"Content-Type", "X-DashScope-SSE",
                                               "X-DashScope-Async", "Accept"}));
}

TEST(PassthroughErrors, NativeShape) {
    using core::ErrorCode;
    json j = NativeErrorJson(core::Error::Make(ErrorCode::kUnauthenticated, "invalid_api_key",
                                               "The API key is invalid.", "detail"),
                             "rid");
    EXPECT_EQ(j, (json{{"request_id", "rid"},
                       {"code", "InvalidApiKey"},
                       {"message", "The API key is invalid."}}));
    EXPECT_EQ(NativeErrorCode(core::Error::Make(ErrorCode::kNotFound, "model_not_found", "")),
              "ModelNotFound");
    EXPECT_EQ(NativeErrorCode(core::Error::Make(ErrorCode::kNotFound, "task_not_found", "")),
              "NotFound");
    EXPECT_EQ(NativeErrorCode(core::Error::Make(ErrorCode::kForbidden, "model_not_allowed", "")),
              "AccessDenied");
    EXPECT_EQ(NativeErrorCode(core::Error::Make(ErrorCode::kRateLimited, "rate_limited", "")),
              "Throttling.RateQuota");
    EXPECT_EQ(NativeErrorCode(core::Error::Make(ErrorCode::kInvalidJson, "invalid_json", "")),
              "InvalidParameter");
    EXPECT_EQ(NativeErrorCode(core::Error::Make(ErrorCode::kUpstreamTimeout, "", "")),
              "RequestTimeOut");
}

const std::vector<std::pair<std::string, std::string>> kSseHead = {
    {"content-type", "text/event-stream;charset=UTF-8"}, {"x-request-id", "hdr-rid"}};
const std::vector<std::pair<std::string, std::string>> kJsonHead = {
    {"content-type", "application/json"}, {"x-request-id", "hdr-rid"}};

TEST(AnswerTap, NativeStreamUsageAndFirstToken) {
    AnswerTap tap(PassKind::kChat, /*incremental_output=*/true);
    tap.OnHead(200, kSseHead, 5);
    std::string e1 =
        "id:1\nevent:result\n:HTTP_STATUS/200\ndata:{\"output\":{\"choices\":[{\"message\":"
        "{\"content\":\"1\",\"role\":\"assistant\"},\"finish_reason\":\"null\"}]},\"usage\":"
        "{\"total_tokens\":9,\"input_tokens\":8,\"output_tokens\":1},\"request_id\":\"rid-1\"}\n\n";
    std::string e2 =
        "id:2\nevent:result\n:HTTP_STATUS/200\ndata:{\"output\":{\"choices\":[{\"message\":"
        "{\"content\":\"\",\"role\":\"assistant\"},\"finish_reason\":\"stop\"}]},\"usage\":"
        "{\"total_tokens\":10,\"input_tokens\":8,\"output_tokens\":2},\"request_id\":\"rid-1\"}"
        "\n\n";
    tap.OnBody(e1.substr(0, 30), 10);
    tap.OnBody(e1.substr(30), 12);
    tap.OnBody(e2, 20);
    tap.OnEnd();
    EXPECT_TRUE(tap.sse());
    EXPECT_EQ(tap.status(), 200);
    EXPECT_EQ(tap.first_token_ms(), 12);
    EXPECT_EQ(tap.usage().input_tokens, 8);
    EXPECT_EQ(tap.usage().output_tokens, 2);
    EXPECT_EQ(tap.request_id(), "rid-1");
    EXPECT_TRUE(tap.error_code().empty());
}

TEST(AnswerTap, NativeStreamErrorEvent) {
    AnswerTap tap(PassKind::kChat, true);
    tap.OnHead(200, kSseHead, 1);
    tap.OnBody(
        "id:1\nevent:error\n:HTTP_STATUS/400\ndata:{\"code\":\"InvalidParameter\",\"message\":"
        "\"Role must be user or assistant\",\"request_id\":\"rid-e\"}\n\n",
        2);
    tap.OnEnd();
    EXPECT_EQ(tap.error_code(), "InvalidParameter");
    EXPECT_EQ(tap.error_status(), 400);
    EXPECT_EQ(tap.first_token_ms(), -1);
}

TEST(AnswerTap, NonStreamChatAndErrors) {
    AnswerTap tap(PassKind::kChat, false);
    tap.OnHead(200, kJsonHead, 1);
    tap.OnBody(
        R"({"output":{"finish_reason":"stop","text":"2"},"usage":{"total_tokens":30,"output_tokens":14,"input_tokens":16},"request_id":"body-rid"})",
        3);
    tap.OnEnd();
    EXPECT_FALSE(tap.sse());
    EXPECT_EQ(tap.usage().input_tokens, 16);
    EXPECT_EQ(tap.usage().output_tokens, 14);
    EXPECT_EQ(tap.request_id(), "body-rid");

    AnswerTap bad(PassKind::kChat, false);
    bad.OnHead(404, kJsonHead, 1);
    bad.OnBody(R"({"code":"ModelNotFound","message":"Model not exist.","request_id":"r404"})", 2);
    bad.OnEnd();
    EXPECT_EQ(bad.error_code(), "ModelNotFound");
    EXPECT_EQ(bad.request_id(), "r404");
}

TEST(AnswerTap, TaskSubmitAndPoll) {
    AnswerTap submit(PassKind::kImageSubmit, false);
    submit.OnHead(200, kJsonHead, 1);
    submit.OnBody(R"({"output":{"task_status":"PENDING","task_id":"task-1"},"request_id":"r1"})",
                  2);
    submit.OnEnd();
    EXPECT_EQ(submit.task_id(), "task-1");
    EXPECT_EQ(submit.task_status(), "PENDING");
    EXPECT_EQ(submit.image_count(), 0);

    AnswerTap done(PassKind::kTaskGet, false);
    done.OnHead(200, kJsonHead, 1);
    done.OnBody(
        R"({"request_id":"r2","output":{"task_id":"task-1","task_status":"SUCCEEDED","results":[{"url":"u"}]},"usage":{"image_count":2}})",
        2);
    done.OnEnd();
    EXPECT_EQ(done.task_status(), "SUCCEEDED");
    EXPECT_EQ(done.image_count(), 2);
    EXPECT_TRUE(done.error_code().empty());

    AnswerTap failed(PassKind::kTaskGet, false);
    failed.OnHead(200, kJsonHead, 1);
    failed.OnBody(
        R"({"request_id":"r3","output":{"task_id":"t","task_status":"FAILED","code":"InvalidParameter","message":"m"}})",
        2);
    failed.OnEnd();
    EXPECT_EQ(failed.error_code(), "InvalidParameter");
}

TEST(AnswerTap, CompatibleModeForOpenAiRelays) {
    AnswerTap tap(PassKind::kChat, true, bailian::ApiStyle::kCompatible);
    tap.OnHead(200, kSseHead, 1);
    tap.OnBody(
        "data: {\"choices\":[{\"delta\":{\"content\":\"\",\"role\":\"assistant\"},\"index\":0,"
        "\"finish_reason\":null}],\"object\":\"chat.completion.chunk\",\"id\":\"c\"}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"index\":0,\"finish_reason\":null}],"
        "\"object\":\"chat.completion.chunk\",\"id\":\"c\"}\n\n",
        7);
    tap.OnBody(
        "data: "
        "{\"choices\":[{\"delta\":{\"content\":\"\"},\"index\":0,\"finish_reason\":\"stop\"}],"
        "\"id\":\"c\"}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,"
        "\"completion_tokens\":4,\"total_tokens\":9},\"id\":\"c\"}\n\ndata: [DONE]\n\n",
        9);
    tap.OnEnd();
    EXPECT_EQ(tap.first_token_ms(), 7);
    EXPECT_EQ(tap.usage().input_tokens, 5);
    EXPECT_EQ(tap.usage().output_tokens, 4);
    EXPECT_TRUE(tap.error_code().empty());

    AnswerTap plain(PassKind::kChat, true, bailian::ApiStyle::kCompatible);
    plain.OnHead(200, kJsonHead, 1);
    plain.OnBody(
        R"({"choices":[{"message":{"role":"assistant","content":"a"},"finish_reason":"stop","index":0},{"message":{"role":"assistant","content":"b"},"finish_reason":"stop","index":1}],"object":"chat.completion","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5},"model":"qwen-plus","id":"chatcmpl-x"})",
        2);
    plain.OnEnd();
    EXPECT_EQ(plain.usage().output_tokens, 2);
    EXPECT_EQ(plain.request_id(), "hdr-rid");
}

}  // namespace
}  // namespace hub::services
