#include "api/deps.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "obs/metrics.hpp"
#include "services/health.hpp"

namespace hub::api {

void RegisterOpsRoutes(http::Router& router, const ApiDeps& deps) {
    router.Add("GET", "/healthz", [](http::Context&) -> net::awaitable<http::Response> {
        co_return JsonResponse(200, {{"status", "ok"}});
    });
    services::Health* health = &deps.health;
    const AppInfo* info = &deps.info;
    router.Add("GET", "/readyz", [health, info](http::Context&) -> net::awaitable<http::Response> {
        auto rep = co_await health->Ready();
        rep.body["version"] = info->version;
        co_return JsonResponse(rep.ready ? 200 : 503, rep.body);
    });
}

void RegisterMetricsRoute(http::Router& router, const obs::Registry& metrics,
                          MetricsAuthorizer authorized) {
    router.Add("GET", "/metrics",
               [&metrics, authorized = std::move(authorized)](
                   http::Context& ctx) -> net::awaitable<http::Response> {
                   if (authorized) {
                       auto token = BearerToken(ctx.req);
                       if (!token || !authorized(*token)) {
                           auto r = ErrorResponse(
                               core::Error::Make(core::ErrorCode::kUnauthenticated,
                                                 "unauthenticated",
                                                 "The metrics token is required as a Bearer "
                                                 "token."),
                               ctx.req.request_id);
                           r.headers.Set("WWW-Authenticate", "Bearer");
                           co_return r;
                       }
                   }
                   http::Response r;
                   r.status = 200;
                   r.headers.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                   r.body = metrics.Render();
                   co_return r;
               });
}

}  // namespace hub::api
