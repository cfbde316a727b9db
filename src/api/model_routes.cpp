// /api/v1/models: the model catalog.
#include "api/chat_dto.hpp"
#include "api/deps.hpp"
#include "api/errors.hpp"
#include "api/guard.hpp"
#include "services/models.hpp"

namespace hub::api {

namespace {
std::string RenderModels(const services::Catalog& catalog) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& m : catalog.All())
        items.push_back(ModelJson(m, m.id == catalog.DefaultModel()));
    nlohmann::json body = {
        {"items", items}, {"next_cursor", nullptr}, {"default_model", catalog.DefaultModel()}};
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

void RegisterModelRoutes(http::Router& router, const ApiDeps& deps) {
    services::ModelDirectory& models = deps.models;
    router.Add("GET", "/api/v1/models",
               Require(deps.accounts, "",
                       [&models](http::Context&,
                                 const auth::Principal&) -> net::awaitable<http::Response> {
                           co_return http::Response::Json(200, models.ListBody(RenderModels));
                       }));
}

}  // namespace hub::api
