// The OpenAI-compatible surface: POST /v1/chat/completions (JSON or SSE chunks), GET /v1/models,
// GET /v1/models/{id}. A platform API key or a user JWT; errors in OpenAI's shape.
#include <chrono>

#include "crypto/crypto.hpp"

#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/image_dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "api/relay.hpp"
#include "api/sse.hpp"
#include "api/timing.hpp"
#include "services/api_keys.hpp"
#include "services/images.hpp"
#include "services/openai_compat.hpp"

namespace hub::api {

namespace {

http::Response OpenAiError(const core::Error& e,
                           const std::optional<std::string>& param = std::nullopt) {
    int status = StatusFor(e.code);
    auto r = JsonResponse(status, services::OpenAiErrorJson(e, status, param));
    if (e.retry_after_s > 0) r.headers.Set("Retry-After", std::to_string(e.retry_after_s));
    return r;
}

http::Response RenderOpenAiError(const core::Error& e, const http::Request&) {
    return OpenAiError(e);
}

// Writes OpenAI chunks to the client as upstream events arrive: the frames of one upstream
// read are collected and written together (Flush); the response starts with the first
// frames, so errors before any output can still be plain JSON errors.
class ChunkSink final : public bailian::EventSink {
public:
    ChunkSink(http::ResponseStream& stream, services::ChunkRenderer& renderer)
        : stream_(stream), renderer_(renderer) {}

    net::awaitable<bool> OnEvent(const bailian::StreamEvent& event) override {
        renderer_.Append(event, pending_);
        co_return !stream_.ClientGone();
    }
    bool HasPending() const override { return !pending_.empty(); }
    net::awaitable<bool> Flush() override {
        if (pending_.empty()) co_return !stream_.ClientGone();
        if (!stream_.Started() && !co_await stream_.Begin(200, SseHeaders())) co_return false;
        std::string frames;
        frames.swap(pending_);
        co_return co_await stream_.Write(std::move(frames));
    }

private:
    http::ResponseStream& stream_;
    services::ChunkRenderer& renderer_;
    std::string pending_;  // frames not written yet
};

// n > 1: DashScope's own OpenAI-shaped answer with n choices, relayed as is.
net::awaitable<http::Response> RelayedCompletions(services::OpenAiCompat& compat,
                                                  http::Context& ctx,
                                                  const services::Caller& caller,
                                                  services::CompatChatRequest& req) {
    RequestTimer timer(ctx);
    bailian::Cancel cancel;
    GoneHookReset reset{ctx.stream};
    ctx.stream.OnClientGone([&cancel] { cancel.Trigger(); });
    RelaySink sink(ctx.stream);
    auto run = co_await compat.CompleteRelayed(caller, std::move(req), sink, cancel);
    if (sink.streaming()) {
        if (!run.ok() || !run->outcome.ok || run->outcome.cancelled || ctx.stream.ClientGone())
            ctx.stream.Abort();
        else
            co_await ctx.stream.End();
        co_return http::Response{};
    }
    http::Response r;
    if (!run.ok()) {
        r = OpenAiError(run.error());
        timer.Stamp(r, 0);
    } else if (!sink.got_head() || !run->outcome.ok) {
        r = OpenAiError(run->outcome.error);
        timer.Stamp(r, run->upstream_ms);
    } else {
        r = sink.TakeResponse();
        timer.Stamp(r, run->upstream_ms);
    }
    co_return r;
}

// The request body parsed into `req`, or false with the error answer in `error` (stamped).
// Not a coroutine: the body's JSON tree is freed here, not kept in a coroutine frame for the
// whole stream.
bool ParseCompletion(const http::Request& req, const RequestTimer& timer,
                     services::CompatChatRequest& into, http::Response& error) {
    auto body = ParseJsonObject(req);
    if (!body.ok()) {
        error = OpenAiError(body.error());
        timer.Stamp(error, 0);
        return false;
    }
    std::string param;
    auto parsed = services::ParseChatCompletionRequest(*body, &param);
    if (!parsed.ok()) {
        error = OpenAiError(parsed.error(),
                            param.empty() ? std::nullopt : std::optional<std::string>(param));
        timer.Stamp(error, 0);
        return false;
    }
    into = std::move(parsed.value());
    into.chat.request_id = req.request_id;
    return true;
}

// The JSON error answer of a completion that failed before any output (refused, or its
// upstream call failed). Not a coroutine: nothing of it stays in a stream's frame.
http::Response FailedRun(const services::OpenAiCompat::Run& run, const RequestTimer& timer) {
    http::Response r = OpenAiError(run.outcome.error);
    timer.Stamp(r, run.upstream_ms);
    return r;
}

// A non-streamed answer: one chat.completion. Its own coroutine, so that its locals are not
// in the frame of every held stream.
net::awaitable<http::Response> WholeCompletion(services::OpenAiCompat& compat,
                                               const services::Caller& caller,
                                               services::CompatChatRequest& req,
                                               bailian::Cancel& cancel, const RequestTimer& timer,
                                               const std::string& id, const std::string& model,
                                               std::int64_t created) {
    services::OpenAiCompat::Run run;
    co_await compat.Complete(caller, req, nullptr, cancel, run);
    if (!run.outcome.ok) co_return FailedRun(run, timer);
    const auto& result = run.outcome.result;
    http::Response r = JsonResponse(
        200, services::CompletionJson(result, id, result.model.empty() ? model : result.model,
                                      created));
    timer.Stamp(r, run.upstream_ms);
    co_return r;
}

// `caller` lives in the auth guard's frame, which awaits this one.
net::awaitable<http::Response> ChatCompletions(services::OpenAiCompat& compat, http::Context& ctx,
                                               const services::Caller& caller) {
    RequestTimer timer(ctx);
    services::CompatChatRequest req;
    {
        http::Response error;
        if (!ParseCompletion(ctx.req, timer, req, error)) co_return error;
    }
    if (req.n > 1)
        co_return co_await RelayedCompletions(compat, ctx, caller, req);
    const bool stream = req.chat.stream;
    const std::string model = req.chat.model;
    const std::string id = services::NewCompletionId();
    const std::int64_t created = compat.NowSeconds();

    bailian::Cancel cancel;
    GoneHookReset reset{ctx.stream};
    ctx.stream.OnClientGone([&cancel] { cancel.Trigger(); });

    if (!stream) {
        co_return co_await WholeCompletion(compat, caller, req, cancel, timer, id, model,
                                           created);
    }

    services::ChunkRenderer renderer(id, model, created, req.include_usage);
    ChunkSink sink(ctx.stream, renderer);
    services::OpenAiCompat::Run run;
    co_await compat.Complete(caller, req, &sink, cancel, run);
    if (sink.HasPending()) (void)co_await sink.Flush();  // e.g. frames before a failed retry
    const auto& outcome = run.outcome;
    if (!ctx.stream.Started()) {
        // Nothing was streamed yet: an error can still be an ordinary JSON answer.
        if (!outcome.ok) co_return FailedRun(run, timer);
        if (!co_await ctx.stream.Begin(200, SseHeaders())) co_return http::Response{};
    }
    if (ctx.stream.ClientGone() || outcome.cancelled) {
        ctx.stream.Abort();
        co_return http::Response{};
    }
    std::string tail = outcome.ok
                           ? renderer.Finish(outcome.result.usage, outcome.result.finish_reason)
                           : renderer.Fail(outcome.error, StatusFor(outcome.error.code));
    if (co_await ctx.stream.Write(std::move(tail))) co_await ctx.stream.End();
    co_return http::Response{};
}

// POST /v1/images/generations: OpenAI's request shape in, a Wanx task run to its end, OpenAI's
// answer out ({created, data:[{url | b64_json, revised_prompt}]}). The generation is also on
// the caller's Images page; a wait past the limit answers 504 and the task goes on.
std::string PublicBase(const ApiDeps& deps, const http::Request& req) {
    if (!deps.web.public_url.empty()) return deps.web.public_url;
    return "http://" + req.headers.GetOr("Host", "127.0.0.1");
}

net::awaitable<http::Response> ImageGenerations(const ApiDeps& deps, http::Context& ctx,
                                                services::Caller caller) {
    RequestTimer timer(ctx);
    services::Images& images = deps.images;
    auto body = ParseJsonObject(ctx.req);
    if (!body.ok()) co_return OpenAiError(body.error());
    std::string format = "url";
    if (auto it = body->find("response_format"); it != body->end() && !it->is_null()) {
        if (!it->is_string() || (*it != "url" && *it != "b64_json"))
            co_return OpenAiError(FieldError("response_format", "must be url or b64_json."),
                                  std::string("response_format"));
        format = it->get<std::string>();
    }
    auto req = ImageRequestFromJson(*body, true);
    if (!req.ok()) co_return OpenAiError(req.error());
    std::string model = req->model.empty() ? images.config().default_model : req->model;
    const services::ModelInfo* info = images.catalog().Find(model);
    if (auto r = auth::Require(caller.principal, auth::perm::kModelsImages); !r.ok())
        co_return OpenAiError(r.error());
    if (info != nullptr && !caller.MayUse(info->id))
        co_return OpenAiError(auth::ModelNotAllowed(model), std::string("model"));
    auto created = co_await images.Create(caller.principal.user_id, caller.api_key_id(),
                                          std::move(req.value()), "/v1/images/generations");
    if (!created.ok()) co_return OpenAiError(created.error());
    const std::string id = created->id;
    auto watch = co_await images.Subscribe(id);
    ctx.stream.OnClientGone([watch] { watch->Wake(); });
    GoneHookReset reset{ctx.stream};
    const auto deadline = std::chrono::steady_clock::now() + images.config().openai_wait;
    for (;;) {
        auto g = co_await images.Get(caller.principal.user_id, id);
        if (!g.ok()) co_return OpenAiError(g.error());
        if (store::IsFinished(g->status)) {
            if (g->status != store::GenerationStatus::kSucceeded) {
                core::ErrorCode code = g->error_code == "content_filtered"
                                           ? core::ErrorCode::kInvalidArgument
                                           : core::ErrorCode::kUpstream;
                auto r = OpenAiError(core::Error::Make(code, g->error_code, g->error_message));
                timer.Stamp(r, 0);
                co_return r;
            }
            nlohmann::json data = nlohmann::json::array();
            for (const auto& x : g->images) {
                if (!x.ok) continue;
                nlohmann::json item;
                if (format == "b64_json") {
                    auto file = co_await images.ReadFile(caller.principal.user_id, x.id);
                    if (!file.ok()) continue;
                    item["b64_json"] = crypto::Base64Encode(file->bytes);
                } else {
                    item["url"] = PublicBase(deps, ctx.req) + images.SignedPath(x.id);
                }
                item["revised_prompt"] = x.actual_prompt.empty() ? g->prompt : x.actual_prompt;
                data.push_back(std::move(item));
            }
            auto r = JsonResponse(200, {{"created", g->created_at / 1000}, {"data", data}});
            timer.Stamp(r, 0);
            co_return r;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            co_return OpenAiError(core::Error::Make(
                core::ErrorCode::kUpstreamTimeout, "timeout",
                "The image is still being generated (generation " + id +
                    "); it will appear on the Images page."));
        }
        (void)co_await watch->Wait(left);
        if (ctx.stream.ClientGone()) co_return http::Response{};
    }
}

}  // namespace

void RegisterOpenAiRoutes(http::Router& router, const ApiDeps& deps) {
    services::Accounts& accounts = deps.accounts;
    services::ApiKeys& keys = deps.api_keys;
    services::OpenAiCompat& compat = deps.openai;

    router.Add("POST", "/v1/chat/completions",
               RequireModelCall(
                   accounts, keys, deps.limits,
                   // Not a coroutine itself: one frame less for every held stream.
                   [&compat](http::Context& ctx,
                             const services::Caller& caller) -> net::awaitable<http::Response> {
                       return ChatCompletions(compat, ctx, caller);
                   },
                   RenderOpenAiError));

    router.Add("POST", "/v1/images/generations",
               RequireModelCall(
                   accounts, keys, deps.limits,
                   [&deps](http::Context& ctx,
                           const services::Caller& caller) -> net::awaitable<http::Response> {
                       co_return co_await ImageGenerations(deps, ctx, caller);
                   },
                   RenderOpenAiError));

    router.Add("GET", "/v1/models",
               RequireKeyOrJwt(
                   accounts, keys, "",
                   [&compat](http::Context& ctx,
                             const services::Caller& caller) -> net::awaitable<http::Response> {
                       RequestTimer timer(ctx);
                       auto r =
                           JsonResponse(200, services::ModelListJson(compat.catalog(), caller));
                       timer.Stamp(r, 0);
                       co_return r;
                   },
                   RenderOpenAiError));

    router.Add("GET", "/v1/models/{id}",
               RequireKeyOrJwt(
                   accounts, keys, "",
                   [&compat](http::Context& ctx,
                             const services::Caller& caller) -> net::awaitable<http::Response> {
                       RequestTimer timer(ctx);
                       auto m = compat.FindModel(caller, ctx.req.Param("id"));
                       http::Response r = m.ok() ? JsonResponse(200, services::ModelObjectJson(**m))
                                                 : OpenAiError(m.error(), std::string("model"));
                       timer.Stamp(r, 0);
                       co_return r;
                   },
                   RenderOpenAiError));
}

}  // namespace hub::api
