#include "api/deps.hpp"
#include "api/errors.hpp"
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

}  // namespace hub::api
