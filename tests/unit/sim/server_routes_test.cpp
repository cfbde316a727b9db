// The simulator's handlers driven without sockets: a fake ResponseStream records what would be
// sent. No pacing is configured, so nothing waits on a timer.
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "server_routes.hpp"
#include "unit/sim/sim_test_util.hpp"

namespace hub::sim {
namespace {

using test::ojson;
using test::ParseSse;

class FakeStream final : public http::ResponseStream {
public:
    net::awaitable<bool> Begin(int status, http::Headers headers) override {
        started = true;
        status_ = status;
        headers_ = std::move(headers);
        co_return !gone;
    }
    net::awaitable<bool> Write(std::string data) override {
        if (gone) co_return false;
        if (gone_after_writes >= 0 && static_cast<int>(writes.size()) >= gone_after_writes) {
            gone = true;
            co_return false;
        }
        writes.push_back(std::move(data));
        co_return true;
    }
    net::awaitable<void> End() override {
        ended = true;
        co_return;
    }
    void Abort() override {
        aborted = true;
        gone = true;
    }
    bool Started() const override { return started; }
    bool ClientGone() const override { return gone; }
    void OnClientGone(std::function<void()>) override {}

    std::string Body() const {
        std::string s;
        for (const auto& w : writes) s += w;
        return s;
    }

    bool started = false, ended = false, aborted = false, gone = false;
    int gone_after_writes = -1;
    int status_ = 0;
    http::Headers headers_;
    std::vector<std::string> writes;
};

struct Result {
    http::Response resp;
    FakeStream stream;
    std::string request_id;
};

class SimRoutes : public ::testing::Test {
protected:
    SimRoutes() : app_(Config(), clock_) { app_.SetPublicBaseUrl("http://sim"); }
    static SimConfig Config() {
        SimConfig c;
        c.keys = {"sk-good-key-1234"};
        c.rpm = 3;
        c.task_seconds = 4;
        return c;
    }

    template <class F>
    std::unique_ptr<Result> Run(std::string method, std::string path, std::string body,
                                std::vector<std::pair<std::string, std::string>> headers, F handler,
                                std::map<std::string, std::string> params = {},
                                int gone_after_writes = -1) {
        auto out = std::make_unique<Result>();
        http::Request req;
        req.method = std::move(method);
        req.path = std::move(path);
        req.target = req.path;
        req.body = std::move(body);
        req.params = std::move(params);
        req.headers.Set("Authorization", "Bearer sk-good-key-1234");
        for (auto& [k, v] : headers) req.headers.Set(k, v);
        out->stream.gone_after_writes = gone_after_writes;
        http::Context ctx{req, out->stream, {}, {}, {}};
        net::io_context io;
        bool done = false;
        net::co_spawn(io, handler(ctx), [&](std::exception_ptr e, http::Response r) {
            EXPECT_FALSE(e);
            out->resp = std::move(r);
            done = true;
        });
        io.run();
        EXPECT_TRUE(done);
        out->request_id = req.request_id;
        return out;
    }

    std::unique_ptr<Result> Compat(std::string body,
                                   std::vector<std::pair<std::string, std::string>> headers = {},
                                   int gone_after = -1) {
        return Run("POST", "/compatible-mode/v1/chat/completions", std::move(body), std::move(headers),
                   [this](http::Context& c) { return app_.Chat(c, 0); }, {}, gone_after);
    }
    std::unique_ptr<Result> Native(std::string body,
                                   std::vector<std::pair<std::string, std::string>> headers = {},
                                   int gone_after = -1) {
        return Run("POST", "/api/v1/services/aigc/text-generation/generation", std::move(body),
                   std::move(headers), [this](http::Context& c) { return app_.Chat(c, 1); }, {},
                   gone_after);
    }
    nlohmann::json Stats() {
        auto r = Run("GET", "/_sim/stats", "", {}, [this](http::Context& c) { return app_.ControlStats(c); });
        return nlohmann::json::parse(r->resp.body);
    }

    core::ManualClock clock_{1'709'285'904'817};
    SimApp app_;
};

const char* kHello = R"({"model":"qwen-plus","messages":[{"role":"user","content":"hello"}]})";
const char* kHelloStream =
    R"({"model":"qwen-plus","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello"}]})";
const char* kNative =
    R"({"model":"qwen-plus","input":{"prompt":"hello"},"parameters":{"result_format":"message","incremental_output":true}})";

TEST_F(SimRoutes, CompatNonStream) {
    auto r = Compat(kHello);
    EXPECT_EQ(r->resp.status, 200);
    EXPECT_EQ(r->resp.headers.GetOr("Content-Type"), "application/json");
    EXPECT_EQ(r->resp.headers.GetOr("x-dashscope-call-gateway"), "true");
    auto j = nlohmann::json::parse(r->resp.body);
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(r->request_id.size(), 36u);  // what the server writes as X-Request-Id
}

TEST_F(SimRoutes, CompatStreamEndsWithDone) {
    auto r = Compat(kHelloStream);
    EXPECT_TRUE(r->stream.started);
    EXPECT_TRUE(r->stream.ended);
    EXPECT_EQ(r->stream.headers_.GetOr("Content-Type"), "text/event-stream;charset=UTF-8");
    auto events = ParseSse(r->stream.Body());
    EXPECT_EQ(events.back().data, "[DONE]");
    EXPECT_EQ(Stats()["streams"]["completed"], 1);
}

TEST_F(SimRoutes, NativeBodyRequestIdIsTheHeaderId) {
    auto r = Native(kNative);
    auto j = nlohmann::json::parse(r->resp.body);
    EXPECT_EQ(j["request_id"], r->request_id);
    auto s = Native(kNative, {{"X-DashScope-SSE", "enable"}});
    auto events = ParseSse(s->stream.Body());
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(nlohmann::json::parse(events[0].data)["request_id"], s->request_id);
    EXPECT_EQ(ojson::parse(events.back().data)["output"]["choices"][0]["finish_reason"], "stop");
}

TEST_F(SimRoutes, KeysAndThrottling) {
    auto bad = Compat(kHello, {{"Authorization", "Bearer sk-other"}});
    EXPECT_EQ(bad->resp.status, 401);
    EXPECT_EQ(nlohmann::json::parse(bad->resp.body)["error"]["code"], "invalid_api_key");
    auto missing = Native(kNative, {{"Authorization", ""}});
    EXPECT_EQ(missing->resp.status, 401);
    EXPECT_EQ(nlohmann::json::parse(missing->resp.body)["code"], "InvalidApiKey");
    for (int i = 0; i < 3; ++i) EXPECT_EQ(Compat(kHello)->resp.status, 200);
    auto limited = Native(kNative);
    EXPECT_EQ(limited->resp.status, 429);
    EXPECT_EQ(nlohmann::json::parse(limited->resp.body)["code"], "Throttling.RateQuota");
    clock_.Advance(std::chrono::seconds(61));
    EXPECT_EQ(Compat(kHello)->resp.status, 200);
}

TEST_F(SimRoutes, StatusFaultsFromHeaderModelAndPrompt) {
    EXPECT_EQ(Compat(kHello, {{"X-Sim-Fault", "500"}})->resp.status, 500);
    EXPECT_EQ(Compat(R"({"model":"qwen-plus@503","messages":[{"role":"user","content":"hi"}]})")->resp.status, 503);
    clock_.Advance(std::chrono::seconds(61));
    auto r = Native(R"({"model":"qwen-plus","input":{"prompt":"hi [sim:401]"}})");
    EXPECT_EQ(r->resp.status, 401);
    auto s = Stats();
    EXPECT_EQ(s["faults"]["500"], 1);
    EXPECT_EQ(s["faults"]["503"], 1);
}

TEST_F(SimRoutes, CutAbortsAfterNChunks) {
    auto r = Compat(kHelloStream, {{"X-Sim-Fault", "cut:2"}});
    EXPECT_TRUE(r->stream.aborted);
    EXPECT_FALSE(r->stream.ended);
    EXPECT_EQ(r->stream.writes.size(), 2u);
    EXPECT_EQ(Stats()["by_outcome"]["cut"], 1);
}

TEST_F(SimRoutes, ResetAbortsBeforeHeaders) {
    auto r = Compat(kHello, {{"X-Sim-Fault", "reset"}});
    EXPECT_TRUE(r->stream.aborted);
    EXPECT_FALSE(r->stream.started);
}

TEST_F(SimRoutes, ClientGoneIsRecordedAsCancelled) {
    auto r = Compat(kHelloStream, {}, 0);  // unpaced streams go out in one write
    EXPECT_FALSE(r->stream.ended);
    auto s = Stats();
    EXPECT_EQ(s["cancelled"], 1);
    EXPECT_EQ(s["cancelled_request_ids"][0], r->request_id);
}

TEST_F(SimRoutes, InspectionBeforeAndDuringTheStream) {
    auto before = Native(kNative, {{"X-Sim-Fault", "inspection"}});
    EXPECT_EQ(before->resp.status, 400);
    EXPECT_EQ(nlohmann::json::parse(before->resp.body)["code"], "DataInspectionFailed");
    auto mid = Native(kNative, {{"X-Sim-Fault", "inspection:2"}, {"X-DashScope-SSE", "enable"}});
    auto events = ParseSse(mid->stream.Body());
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[2].event, "error");
    EXPECT_EQ(events[2].comments[0], "HTTP_STATUS/400");
    EXPECT_EQ(events[2].id, "3");
    auto compat = Compat(kHelloStream, {{"X-Sim-Fault", "inspection:1"}});
    auto ce = ParseSse(compat->stream.Body());
    EXPECT_TRUE(nlohmann::json::parse(ce.back().data).contains("error"));
}

TEST_F(SimRoutes, NativeSseValidationErrorIsAnEventAtHttp200) {
    auto r = Native(R"({"model":"qwen-plus","input":{"prompt":"hi","messages":[]}})",
                    {{"Accept", "text/event-stream"}});
    EXPECT_EQ(r->stream.status_, 200);
    auto events = ParseSse(r->stream.Body());
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].event, "error");
    EXPECT_EQ(nlohmann::json::parse(events[0].data)["code"], "InvalidParameter");
}

TEST_F(SimRoutes, StreamOnlyModelsAndUnknownModels) {
    auto r = Compat(R"({"model":"qwq-plus","messages":[{"role":"user","content":"hi"}]})");
    EXPECT_EQ(r->resp.status, 400);
    EXPECT_NE(r->resp.body.find("only support stream mode"), std::string::npos);
    auto s = Compat(R"({"model":"qwq-plus","stream":true,"messages":[{"role":"user","content":"hi"}]})");
    EXPECT_TRUE(s->stream.ended);
    auto u = Native(R"({"model":"nope","input":{"prompt":"hi"}})");
    EXPECT_EQ(u->resp.status, 404);
    EXPECT_EQ(nlohmann::json::parse(u->resp.body)["code"], "ModelNotFound");
}

TEST_F(SimRoutes, MalformedBody) {
    auto r = Compat(kHello, {{"X-Sim-Fault", "malformed"}});
    EXPECT_EQ(r->resp.status, 200);
    EXPECT_TRUE(nlohmann::json::parse(r->resp.body, nullptr, false).is_discarded());
}

TEST_F(SimRoutes, WanxTaskLifecycle) {
    auto submit = [&](std::vector<std::pair<std::string, std::string>> h) {
        return Run("POST", "/api/v1/services/aigc/text2image/image-synthesis",
                   R"({"model":"wanx-v1","input":{"prompt":"a cat"},"parameters":{"n":2}})", std::move(h),
                   [this](http::Context& c) { return app_.ImageSubmit(c); });
    };
    auto no_async = submit({});
    EXPECT_EQ(no_async->resp.status, 403);
    EXPECT_EQ(nlohmann::json::parse(no_async->resp.body)["message"],
              "current user api does not support synchronous calls");
    auto ok = submit({{"X-DashScope-Async", "enable"}});
    ASSERT_EQ(ok->resp.status, 200);
    std::string id = nlohmann::json::parse(ok->resp.body)["output"]["task_id"];
    auto get = [&](std::string task) {
        auto r = Run("GET", "/api/v1/tasks/" + task, "", {},
                     [this](http::Context& c) { return app_.TaskGet(c); }, {{"id", task}});
        return nlohmann::json::parse(r->resp.body);
    };
    EXPECT_EQ(get(id)["output"]["task_status"], "PENDING");
    clock_.Advance(std::chrono::seconds(2));
    EXPECT_EQ(get(id)["output"]["task_status"], "RUNNING");
    auto cancel = Run("POST", "/api/v1/tasks/" + id + "/cancel", "", {},
                      [this](http::Context& c) { return app_.TaskCancel(c); }, {{"id", id}});
    EXPECT_EQ(cancel->resp.status, 400);
    EXPECT_EQ(nlohmann::json::parse(cancel->resp.body)["code"], "UnsupportedOperation");
    clock_.Advance(std::chrono::seconds(2));
    auto done = get(id);
    EXPECT_EQ(done["output"]["task_status"], "SUCCEEDED");
    std::string url = done["output"]["results"][1]["url"];
    EXPECT_EQ(url.rfind("http://sim/results/" + id + "/2.png", 0), 0u);
    auto file = Run("GET", "/results/" + id + "/2.png", "", {},
                    [this](http::Context& c) { return app_.ResultFile(c); },
                    {{"task", id}, {"file", "2.png"}});
    EXPECT_EQ(file->resp.status, 200);
    EXPECT_EQ(file->resp.headers.GetOr("Content-Type"), "image/png");
    EXPECT_EQ(file->resp.body.substr(1, 3), "PNG");
    auto missing = Run("GET", "/results/x/1.png", "", {},
                       [this](http::Context& c) { return app_.ResultFile(c); },
                       {{"task", "x"}, {"file", "1.png"}});
    EXPECT_EQ(missing->resp.status, 404);
    EXPECT_EQ(get("1111")["output"]["task_status"], "UNKNOWN");
}

TEST_F(SimRoutes, ControlApi) {
    Compat(kHello, {{"X-Custom", "v"}});
    auto list = Run("GET", "/_sim/requests", "", {},
                    [this](http::Context& c) { return app_.ControlRequests(c); });
    auto j = nlohmann::json::parse(list->resp.body)["requests"];
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0]["headers"]["authorization"], "Bearer ****1234");
    EXPECT_EQ(j[0]["body"]["messages"][0]["content"], "hello");
    EXPECT_EQ(j[0]["outcome"], "ok");

    auto arm = Run("POST", "/_sim/faults", R"({"fault":"429","count":1,"path":"/compatible-mode"})", {},
                   [this](http::Context& c) { return app_.ControlFaults(c); });
    EXPECT_EQ(arm->resp.status, 200);
    auto bad = Run("POST", "/_sim/faults", R"({"fault":"nonsense"})", {},
                   [this](http::Context& c) { return app_.ControlFaults(c); });
    EXPECT_EQ(bad->resp.status, 400);
    EXPECT_EQ(Native(kNative)->resp.status, 200);  // path does not match
    EXPECT_EQ(Compat(kHello)->resp.status, 429);
    clock_.Advance(std::chrono::seconds(61));
    EXPECT_EQ(Compat(kHello)->resp.status, 200);  // used up

    Run("POST", "/_sim/reset", "", {}, [this](http::Context& c) { return app_.ControlReset(c); });
    EXPECT_EQ(Stats()["requests"], 0);
}

TEST(SimServerError, RendersNativeShape) {
    auto r = SimApp::RenderServerError(
        core::Error::Make(core::ErrorCode::kNotFound, "not_found", "No such resource."), "rid");
    EXPECT_EQ(r.status, 404);
    auto j = nlohmann::json::parse(r.body);
    EXPECT_EQ(j["request_id"], "rid");
    EXPECT_TRUE(j.contains("code"));
    auto big = SimApp::RenderServerError(
        core::Error::Make(core::ErrorCode::kPayloadTooLarge, "x", "too big"), "rid");
    EXPECT_EQ(big.status, 413);
    EXPECT_EQ(nlohmann::json::parse(big.body)["code"], "BadRequest.TooLarge");
}

}  // namespace
}  // namespace hub::sim
