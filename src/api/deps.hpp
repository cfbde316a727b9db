#pragma once
// What the route modules may use. Built by app/, handed to each Register*Routes function.
#include <string>
#include <vector>

#include "http/router.hpp"

namespace hub::services {
class Health;
class Accounts;
}  // namespace hub::services

namespace hub::auth {
class KeyRing;
}

namespace hub::api {

struct AppInfo {
    std::string version;
    bool demo_mode = false;
};

struct WebConfig {
    // Origins (scheme://host[:port]) allowed to use the refresh cookie besides the hub's own.
    std::vector<std::string> allowed_origins;
    bool secure_cookies = true;
};

struct ApiDeps {
    const AppInfo& info;
    const WebConfig& web;
    services::Health& health;
    services::Accounts& accounts;
    const auth::KeyRing& keyring;
};

void RegisterOpsRoutes(http::Router& router, const ApiDeps& deps);
void RegisterAuthRoutes(http::Router& router, const ApiDeps& deps);
void RegisterUserRoutes(http::Router& router, const ApiDeps& deps);
void RegisterAdminRoutes(http::Router& router, const ApiDeps& deps);

// The one list of route modules, in registration order.
inline void RegisterAllRoutes(http::Router& router, const ApiDeps& deps) {
    RegisterOpsRoutes(router, deps);
    RegisterAuthRoutes(router, deps);
    RegisterUserRoutes(router, deps);
    RegisterAdminRoutes(router, deps);
}

}  // namespace hub::api
