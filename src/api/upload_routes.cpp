// POST /api/v1/files: a picture to attach to chat messages (multipart/form-data, field
// "file"). The body limit of this route is the upload limit (app/ sets it on the server), so a
// too-large file is refused with 413 before it is read whole. The picture is checked and
// re-encoded by services::Uploads; GET /api/v1/files/{id} (image_routes.cpp) serves it back
// to its owner.
#include "api/deps.hpp"
#include "api/dto.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "api/image_dto.hpp"
#include "http/multipart.hpp"
#include "services/uploads.hpp"

namespace hub::api {

void RegisterUploadRoutes(http::Router& router, const ApiDeps& deps) {
    services::Uploads& uploads = deps.uploads;
    router.Add(
        "POST", "/api/v1/files",
        Require(deps.accounts, std::string(auth::perm::kConversationsOwn),
                [&uploads](http::Context& ctx,
                           const auth::Principal& who) -> net::awaitable<http::Response> {
                    const std::string& rid = ctx.req.request_id;
                    auto parts = http::ParseFormData(ctx.req.headers.GetOr("Content-Type"),
                                                     ctx.req.body);
                    if (!parts.ok()) co_return ErrorResponse(parts.error(), rid);
                    const http::FormPart* file = nullptr;
                    for (const auto& p : *parts) {
                        if (p.name == "file") file = &p;
                    }
                    if (file == nullptr)
                        co_return ErrorResponse(FieldError("file", "is required."), rid);
                    std::string name = file->filename;
                    std::string bytes(file->body);
                    auto u = co_await uploads.Create(who.user_id, std::move(name), std::move(bytes));
                    if (!u.ok()) co_return ErrorResponse(u.error(), rid);
                    auto r = JsonResponse(201, UploadJson(*u));
                    r.headers.Set("Location", "/api/v1/files/" + u->id);
                    co_return r;
                }));
}

}  // namespace hub::api
