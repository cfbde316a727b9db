// /api/v1/images/generations: Wanx text-to-image for signed-in users (create → 202, list, get,
// delete, and an SSE stream of status changes), and /api/v1/files/{id}: the stored images,
// to their owner (JWT) or through a short-lived signed URL that works in <img src>; uploaded
// pictures (upload_routes.cpp) only to their owner's token.
#include <chrono>
#include <memory>

#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "api/image_dto.hpp"
#include "api/sse.hpp"
#include "obs/logging.hpp"
#include "services/images.hpp"
#include "services/uploads.hpp"

namespace hub::api {

namespace {

using Ms = std::chrono::milliseconds;

constexpr Ms kEventsHeartbeat{15'000};

// What a watcher of a generation cares about; a new value means a new event.
std::string StateKey(const store::ImageGeneration& g) {
    return std::string(store::ToString(g.status)) + "|" + std::to_string(g.images.size()) + "|" +
           g.task_id;
}

http::Response FileResponse(const http::Request& req, services::FileContent file, bool signed_url) {
    const std::string etag = "\"" + file.sha256 + "\"";
    http::Response r;
    if (req.headers.GetOr("If-None-Match") == etag) {
        r.status = 304;
    } else {
        r = http::Response::Text(200, std::move(file.bytes), file.content_type);
    }
    r.headers.Set("ETag", etag);
    // A signed URL is good for an hour; a JWT request must not be cached by anything shared.
    r.headers.Set("Cache-Control", signed_url ? "private, max-age=3600" : "private, max-age=300");
    bool download = req.Query("download").value_or("") == "1";
    r.headers.Set("Content-Disposition",
                  std::string(download ? "attachment" : "inline") + "; filename=\"" + file.name + "\"");
    r.headers.Set("X-Content-Type-Options", "nosniff");
    return r;
}

net::awaitable<http::Response> Events(services::Images& images, http::Context& ctx,
                                      std::string user_id) {
    const std::string id = ctx.req.Param("id");
    std::string last;
    bool started = false;
    // Subscribed before the first read, so no change between a read and the wait is missed.
    std::shared_ptr<services::Images::Watch> watch = co_await images.Subscribe(id);
    ctx.stream.OnClientGone([watch] { watch->Wake(); });
    for (;;) {
        auto g = co_await images.Get(user_id, id);
        if (!g.ok()) {
            if (!started) co_return ErrorResponse(g.error(), ctx.req.request_id);
            break;  // deleted meanwhile: the stream ends
        }
        if (!started) {
            if (!co_await ctx.stream.Begin(200, SseHeaders())) co_return http::Response{};
            started = true;
        }
        std::string key = StateKey(*g);
        if (key != last) {
            last = key;
            if (!co_await ctx.stream.Write(SseEvent("generation", GenerationJson(*g, images))))
                co_return http::Response{};
        }
        if (store::IsFinished(g->status)) break;
        bool changed = co_await watch->Wait(kEventsHeartbeat);
        if (ctx.stream.ClientGone()) co_return http::Response{};
        if (!changed && !co_await ctx.stream.Write(": ping\n\n")) co_return http::Response{};
    }
    co_await ctx.stream.End();
    co_return http::Response{};
}

}  // namespace

void RegisterImageRoutes(http::Router& router, const ApiDeps& deps) {
    services::Images& images = deps.images;
    const std::string perm(auth::perm::kImagesOwn);

    // Creating a generation calls a model: rate limits and budgets apply (Limited).
    router.Add("POST", "/api/v1/images/generations",
               Require(deps.accounts, perm,
                       Limited(deps.limits, [&images](http::Context& ctx,
                                 const auth::Principal& who) -> net::awaitable<http::Response> {
                           auto body = ParseJsonObject(ctx.req);
                           if (!body.ok()) co_return ErrorResponse(body.error(), ctx.req.request_id);
                           auto req = ImageRequestFromJson(*body);
                           if (!req.ok()) co_return ErrorResponse(req.error(), ctx.req.request_id);
                           const std::string model = req->model.empty()
                                                         ? images.config().default_model
                                                         : req->model;
                           const services::ModelInfo* info = images.catalog().Find(model);
                           if (auto ok = auth::RequireModel(who, auth::perm::kModelsImages,
                                                            info ? info->id : model);
                               !ok.ok())
                               co_return ErrorResponse(ok.error(), ctx.req.request_id);
                           auto g = co_await images.Create(who.user_id, std::nullopt,
                                                           std::move(req.value()), "images");
                           if (!g.ok()) co_return ErrorResponse(g.error(), ctx.req.request_id);
                           auto r = JsonResponse(202, GenerationJson(*g, images));
                           r.headers.Set("Location", "/api/v1/images/generations/" + g->id);
                           co_return r;
                       })));

    router.Add("GET", "/api/v1/images/generations",
               Require(deps.accounts, perm,
                       [&images](http::Context& ctx,
                                 const auth::Principal& who) -> net::awaitable<http::Response> {
                           auto page = PageFromQuery(ctx.req);
                           if (!page.ok()) co_return ErrorResponse(page.error(), ctx.req.request_id);
                           auto r = co_await images.List(who.user_id, std::move(page.value()));
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return JsonResponse(200, PageJson(*r, [&images](const auto& g) {
                                                      return GenerationJson(g, images);
                                                  }));
                       }));

    router.Add("GET", "/api/v1/images/generations/{id}",
               Require(deps.accounts, perm,
                       [&images](http::Context& ctx,
                                 const auth::Principal& who) -> net::awaitable<http::Response> {
                           auto g = co_await images.Get(who.user_id, ctx.req.Param("id"));
                           if (!g.ok()) co_return ErrorResponse(g.error(), ctx.req.request_id);
                           co_return JsonResponse(200, GenerationJson(*g, images));
                       }));

    router.Add("DELETE", "/api/v1/images/generations/{id}",
               Require(deps.accounts, perm,
                       [&images](http::Context& ctx,
                                 const auth::Principal& who) -> net::awaitable<http::Response> {
                           auto r = co_await images.Delete(who.user_id, ctx.req.Param("id"));
                           if (!r.ok()) co_return ErrorResponse(r.error(), ctx.req.request_id);
                           co_return http::Response::NoContent();
                       }));

    router.Add("GET", "/api/v1/images/generations/{id}/events",
               Require(deps.accounts, perm,
                       [&images](http::Context& ctx,
                                 const auth::Principal& who) -> net::awaitable<http::Response> {
                           co_return co_await Events(images, ctx, who.user_id);
                       }));

    // Files: a signed URL needs nothing else; without one, the owner's token.
    // Uploaded pictures (chat attachments) and generated images share the id space of
    // /api/v1/files: the uploads are looked at first.
    services::Uploads& uploads = deps.uploads;
    auto owner_file = std::make_shared<http::Handler>(Require(
        deps.accounts, perm,
        [&images, &uploads](http::Context& ctx,
                            const auth::Principal& who) -> net::awaitable<http::Response> {
            auto up = co_await uploads.ReadFile(who.user_id, ctx.req.Param("id"));
            if (up.ok()) co_return FileResponse(ctx.req, std::move(up.value()), false);
            if (up.error().code != core::ErrorCode::kNotFound)
                co_return ErrorResponse(up.error(), ctx.req.request_id);
            auto f = co_await images.ReadFile(who.user_id, ctx.req.Param("id"));
            if (!f.ok()) co_return ErrorResponse(f.error(), ctx.req.request_id);
            co_return FileResponse(ctx.req, std::move(f.value()), false);
        }));
    router.Add("GET", "/api/v1/files/{id}",
               [&images, owner_file](http::Context& ctx) -> net::awaitable<http::Response> {
                   auto sig = ctx.req.Query("sig");
                   if (!sig) co_return co_await (*owner_file)(ctx);
                   auto f = co_await images.ReadSignedFile(ctx.req.Param("id"),
                                                           ctx.req.Query("exp").value_or(""), *sig);
                   if (!f.ok()) co_return ErrorResponse(f.error(), ctx.req.request_id);
                   co_return FileResponse(ctx.req, std::move(f.value()), true);
               });
}

}  // namespace hub::api
