// /api/v1/models: the model catalog.
#include "api/chat_dto.hpp"
#include "api/deps.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "core/json_text.hpp"
#include "services/models.hpp"

namespace hub::api {

namespace {
// Everyone's list (cached), or only what `who` may call when their role narrows it.
std::string RenderModels(const services::Catalog& catalog, const auth::Principal* who = nullptr) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& m : catalog.All()) {
        if (who && (!who->Can(services::ModelFamilyPermission(m.kind)) ||
                    !who->models.Allows(m.id)))
            continue;
        items.push_back(ModelJson(m, m.id == catalog.DefaultModel()));
    }
    nlohmann::json body = {
        {"items", items}, {"next_cursor", nullptr}, {"default_model", catalog.DefaultModel()}};
    return core::DumpJson(body);
}
}  // namespace

void RegisterModelRoutes(http::Router& router, const ApiDeps& deps) {
    services::ModelDirectory& models = deps.models;
    router.Add("GET", "/api/v1/models",
               Require(deps.accounts, "",
                       [&models](http::Context&,
                                 const auth::Principal& who) -> net::awaitable<http::Response> {
                           bool narrowed = !who.models.empty() ||
                                           !who.Can(auth::perm::kModelsChat) ||
                                           !who.Can(auth::perm::kModelsImages);
                           if (narrowed)
                               co_return http::Response::Json(
                                   200, RenderModels(models.catalog(), &who));
                           co_return http::Response::Json(
                               200, models.ListBody([](const services::Catalog& c) {
                                   return RenderModels(c);
                               }));
                       }));
}

}  // namespace hub::api
