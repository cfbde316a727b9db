// The API contract, served: GET /api/v1/openapi.json (docs/openapi.yaml as JSON, written into
// the web build by `npm run build`) and GET /api/docs (the web UI's API reference page).
#include "api/deps.hpp"
#include "api/errors.hpp"
#include "http/static_files.hpp"

namespace hub::api {
namespace {

http::Response NotBuilt(const http::Request& req) {
    return ErrorResponse(core::Error::Make(core::ErrorCode::kNotFound, "not_found",
                                           "The API reference is not part of this build.",
                                           "web build missing from the web root"),
                         req.request_id);
}

}  // namespace

void RegisterDocsRoutes(http::Router& router, const http::StaticFiles& web) {
    router.Add("GET", "/api/v1/openapi.json",
               [&web](http::Context& ctx) -> net::awaitable<http::Response> {
                   auto r = web.ServeNamed(ctx.req, "openapi.json");
                   if (!r) co_return NotBuilt(ctx.req);
                   r->headers.Set("Cache-Control", "no-cache");
                   co_return std::move(*r);
               });
    // A page of the single-page app under /api/: the static fallback keeps API paths out of
    // its index.html fallback, so this one is named here.
    router.Add("GET", "/api/docs", [&web](http::Context& ctx) -> net::awaitable<http::Response> {
        auto r = web.ServeNamed(ctx.req, "index.html");
        if (!r) co_return NotBuilt(ctx.req);
        co_return std::move(*r);
    });
}

}  // namespace hub::api
