// /api/v1/conversations/{id}/messages: list, send (SSE or JSON), regenerate.
//
// SSE: `event: user_message` {"message"} once the question is stored, `event: delta`
// {"content"} or {"reasoning"} per piece, then `event: done` {"message","conversation"} or
// `event: error` {"error":{code,message,request_id},"message"}. A comment line keeps quiet
// streams alive. A client that goes away cancels the upstream call.
#include <chrono>
#include <memory>

#include "api/chat_dto.hpp"
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "api/sse.hpp"
#include "obs/logging.hpp"
#include "services/chat.hpp"
#include "services/conversations.hpp"
#include "services/uploads.hpp"

namespace hub::api {

namespace {

using Clock = std::chrono::steady_clock;

// Serialises writes to the response stream: the turn's events and the heartbeat run as two
// coroutines on the connection's strand, and only one write may be in flight at a time.
// Whoever finds the stream busy leaves its bytes for the writer in flight to send.
struct SseWriter {
    http::ResponseStream* stream = nullptr;
    net::steady_timer timer;  // heartbeat timer
    std::string pending;
    bool writing = false;
    bool stopped = false;
    Clock::time_point last_write = Clock::now();

    explicit SseWriter(net::any_io_executor ex) : timer(std::move(ex)) {}

    net::awaitable<bool> Send(std::string data) {
        pending += data;
        if (writing) co_return !stream->ClientGone();
        writing = true;
        bool ok = true;
        while (ok && !pending.empty()) {
            std::string chunk = std::move(pending);
            pending.clear();
            ok = co_await stream->Write(std::move(chunk));
        }
        writing = false;
        last_write = Clock::now();
        co_return ok;
    }

    // Waits until no write is in flight (the heartbeat may be mid-write).
    net::awaitable<void> Drain() {
        while (writing) {
            net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(2));
            boost::system::error_code ec;
            co_await t.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
        if (!pending.empty() && !stream->ClientGone()) co_await Send(std::string());
    }
};

net::awaitable<void> Heartbeat(std::shared_ptr<SseWriter> w, std::chrono::milliseconds every) {
    for (;;) {
        if (w->stopped) co_return;
        auto idle = Clock::now() - w->last_write;
        w->timer.expires_after(idle >= every ? every : every - idle);
        boost::system::error_code ec;
        co_await w->timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        if (w->stopped || w->stream->ClientGone()) co_return;
        if (Clock::now() - w->last_write >= every && !w->writing) {
            if (!co_await w->Send(": keep-alive\n\n")) co_return;
        }
    }
}

// The HTTP side of a chat turn: SSE when asked for, else nothing until the end.
class HttpTurn final : public services::TurnObserver {
public:
    HttpTurn(http::Context& ctx, bool stream, std::chrono::milliseconds heartbeat,
             std::shared_ptr<core::Cancel> cancel)
        : ctx_(ctx), stream_(stream), heartbeat_(heartbeat), cancel_(std::move(cancel)) {}

    net::awaitable<void> OnStarted(const store::Message& question) override {
        if (!stream_) co_return;
        http::Headers h = SseHeaders();
        writer_ = std::make_shared<SseWriter>(co_await net::this_coro::executor);
        writer_->stream = &ctx_.stream;
        // The callback may run after this handler is gone: it holds the Cancel itself.
        std::shared_ptr<core::Cancel> cancel = cancel_;
        ctx_.stream.OnClientGone([cancel] { cancel->Trigger(); });
        if (!co_await ctx_.stream.Begin(200, std::move(h))) {
            cancel_->Trigger();
            co_return;
        }
        auto ex = co_await net::this_coro::executor;
        std::string rid = ctx_.req.request_id;
        net::co_spawn(ex, Heartbeat(writer_, heartbeat_), [rid](std::exception_ptr e) {
            if (e) obs::Warn("sse_heartbeat_failed", {{"request_id", rid}});
        });
        nlohmann::json data = {{"message", MessageJson(question)}};
        std::string event = SseEvent("user_message", data);
        co_await writer_->Send(std::move(event));
    }

    net::awaitable<bool> OnDelta(std::string content, std::string reasoning) override {
        if (!stream_) co_return !cancel_->triggered();
        if (!writer_ || ctx_.stream.ClientGone()) co_return false;
        nlohmann::json data = nlohmann::json::object();
        if (!content.empty()) data["content"] = std::move(content);
        if (!reasoning.empty()) data["reasoning"] = std::move(reasoning);
        co_return co_await writer_->Send(SseEvent("delta", data));
    }

    // The last event, then the heartbeat stops; nothing touches the stream afterwards.
    net::awaitable<void> Finish(std::string last_event) {
        if (!writer_) co_return;
        writer_->stopped = true;
        writer_->timer.cancel();
        if (!ctx_.stream.ClientGone()) co_await writer_->Send(std::move(last_event));
        co_await writer_->Drain();
    }

    bool streaming() const { return writer_ != nullptr; }

    ~HttpTurn() override {
        if (writer_) {  // on every path, so the heartbeat never outlives the stream
            writer_->stopped = true;
            writer_->timer.cancel();
        }
    }

private:
    http::Context& ctx_;
    bool stream_;
    std::chrono::milliseconds heartbeat_;
    std::shared_ptr<core::Cancel> cancel_;
    std::shared_ptr<SseWriter> writer_;
};

bool WantsStream(const http::Request& req, const nlohmann::json& body) {
    auto it = body.find("stream");
    if (it != body.end() && it->is_boolean()) return it->get<bool>();
    auto accept = req.headers.GetOr("Accept");
    return accept.find("text/event-stream") != std::string::npos;
}

net::awaitable<http::Response> RunTurn(services::Chat& chat, http::Context& ctx,
                                       const auth::Principal& who, bool regenerate) {
    const std::string& rid = ctx.req.request_id;
    if (auto ok = auth::Require(who, auth::perm::kModelsChat); !ok.ok())
        co_return ErrorResponse(ok.error(), rid);
    auto body = ctx.req.body.empty() && regenerate
                    ? core::Result<nlohmann::json>(nlohmann::json::object())
                    : ParseJsonObject(ctx.req);
    if (!body.ok()) co_return ErrorResponse(body.error(), rid);
    auto fields = regenerate ? OnlyFields(*body, {"model", "stream", "parameters", "content"})
                             : OnlyFields(*body, {"content", "model", "stream", "parameters",
                                                  "attachments"});
    if (!fields.ok()) co_return ErrorResponse(fields.error(), rid);
    services::TurnRequest req;
    req.user_id = who.user_id;
    req.api_key_id = who.api_key_id;
    req.allowed_models = who.models;
    req.conversation_id = ctx.req.Param("id");
    req.request_id = rid;
    if (regenerate) {
        req.regenerate_id = ctx.req.Param("mid");
    } else {
        auto ids = services::ParseAttachmentIds(body->value("attachments", nlohmann::json()),
                                                chat.config().max_attachments);
        if (!ids.ok()) co_return ErrorResponse(ids.error(), rid);
        req.attachments = std::move(ids.value());
        // With pictures the text may be left out.
        auto text = OptString(*body, "content");
        if (!text.ok()) co_return ErrorResponse(text.error(), rid);
        if (!text.value() && req.attachments.empty())
            co_return ErrorResponse(FieldError("content", "is required."), rid);
        req.content = text.value().value_or("");
    }
    auto model = OptString(*body, "model");
    if (!model.ok()) co_return ErrorResponse(model.error(), rid);
    req.model = std::move(model.value());
    if (auto s = body->find("stream"); s != body->end() && !s->is_null() && !s->is_boolean())
        co_return ErrorResponse(FieldError("stream", "must be true or false."), rid);
    if (auto p = body->find("parameters"); p != body->end()) req.parameters = *p;
    bool stream = WantsStream(ctx.req, *body);
    req.stream = stream;

    auto cancel = std::make_shared<core::Cancel>();
    HttpTurn turn(ctx, stream, chat.config().heartbeat, cancel);
    auto result = co_await chat.Run(std::move(req), turn, *cancel);
    if (!result.ok()) co_return ErrorResponse(result.error(), rid);  // nothing was streamed
    const services::TurnResult& r = *result;
    if (turn.streaming()) {
        std::string last;
        if (r.error) {
            std::string code =
                r.error->api_code.empty() ? DefaultApiCode(r.error->code) : r.error->api_code;
            last = SseEvent(
                "error",
                {{"error",
                  {{"code", code},
                   {"message", r.error->public_message.empty() ? std::string("The answer failed.")
                                                               : r.error->public_message},
                   {"request_id", rid}}},
                 {"message", MessageJson(r.answer)}});
        } else {
            last = SseEvent("done", {{"message", MessageJson(r.answer)},
                                     {"conversation", ConversationJson(r.conversation)}});
        }
        co_await turn.Finish(std::move(last));
        co_return http::Response::NoContent();  // ignored: the stream was used
    }
    if (r.error) co_return ErrorResponse(*r.error, rid);
    co_return JsonResponse(regenerate ? 200 : 201,
                           {{"user_message", MessageJson(r.question)},
                            {"message", MessageJson(r.answer)},
                            {"conversation", ConversationJson(r.conversation)}});
}

}  // namespace

void RegisterMessageRoutes(http::Router& router, const ApiDeps& deps) {
    services::Conversations& convs = deps.conversations;
    services::Chat& chat = deps.chat;
    const std::string perm(auth::perm::kConversationsOwn);

    router.Add("GET", "/api/v1/conversations/{id}/messages",
               Require(deps.accounts, perm,
                       [&convs](http::Context& ctx,
                                const auth::Principal& who) -> net::awaitable<http::Response> {
                           auto page = PageFromQuery(ctx.req);
                           if (!page.ok())
                               co_return ErrorResponse(page.error(), ctx.req.request_id);
                           if (auto before = ctx.req.Query("before")) page->cursor = *before;
                           auto r = co_await convs.Messages(who.user_id, ctx.req.Param("id"),
                                                            std::move(page.value()));
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return JsonResponse(200, PageJson(*r, MessageJson));
                       }));

    router.Add("POST", "/api/v1/conversations/{id}/messages",
               Require(deps.accounts, perm,
                       Limited(deps.limits,
                               [&chat](http::Context& ctx, const auth::Principal& who)
                                   -> net::awaitable<http::Response> {
                                   co_return co_await RunTurn(chat, ctx, who, false);
                               })));

    router.Add("POST", "/api/v1/conversations/{id}/messages/{mid}/regenerate",
               Require(deps.accounts, perm,
                       Limited(deps.limits,
                               [&chat](http::Context& ctx, const auth::Principal& who)
                                   -> net::awaitable<http::Response> {
                                   co_return co_await RunTurn(chat, ctx, who, true);
                               })));
}

}  // namespace hub::api
