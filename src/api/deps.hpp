#pragma once
// What the route modules may use. Built by app/, handed to each Register*Routes function.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/router.hpp"

namespace hub::services {
class Health;
class Accounts;
class UpstreamKeys;
class ApiKeys;
class OpenAiCompat;
class Passthrough;
class Conversations;
class Chat;
class ModelDirectory;
class UsageRecorder;
class Images;
class Limits;
class DataRights;
struct ConversationExport;
class Uploads;
class Passkeys;
class Mfa;
class Sso;
class Roles;
class SecurityEvents;
}  // namespace hub::services

namespace hub::bailian {
class Client;
}

namespace hub::auth {
class KeyRing;
}

namespace hub::obs {
class Registry;
}

namespace hub::http {
class StaticFiles;
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
    // scheme://host[:port] clients reach the hub at (absolute URLs in /v1 answers); empty =
    // taken from the request's Host header.
    std::string public_url;
};

struct ApiDeps {
    const AppInfo& info;
    const WebConfig& web;
    services::Health& health;
    services::Accounts& accounts;
    const auth::KeyRing& keyring;
    bailian::Client& upstream;  // DashScope (or the simulator in demo mode)
    services::UpstreamKeys& upstream_keys;
    services::ApiKeys& api_keys;         // platform API keys (/api/v1/api-keys, compatible auth)
    services::OpenAiCompat& openai;      // /v1/...
    services::Passthrough& passthrough;  // /dashscope/api/v1/...
    services::Conversations& conversations;
    services::Chat& chat;
    services::ModelDirectory& models;  // the catalog (/api/v1/models)
    services::UsageRecorder& usage;    // api_calls: recording and the history reads
    services::Images& images;          // Wanx generations and the stored files
    services::Limits& limits;          // rate limits, budgets, overload (model calls)
    services::DataRights& data_rights;  // a user's data export, account deletion
    services::Uploads& uploads;        // pictures users upload (chat attachments)
    services::Passkeys& passkeys;      // WebAuthn credentials and passwordless sign-in
    services::Mfa& mfa;                // TOTP enrollment and the second sign-in step
    services::Sso& sso;                // single sign-on (OpenID Connect providers)
    services::Roles& roles;            // roles as data (/api/v1/admin/roles)
    services::SecurityEvents& security_events;  // /api/v1/admin/security-events
};

// The JSON export of one conversation (GET /conversations/{id}/export?format=json); a user's
// data export holds the same.
std::string ConversationExportJson(const services::ConversationExport& e);

void RegisterOpsRoutes(http::Router& router, const ApiDeps& deps);
// GET /metrics (Prometheus text). With `authorized`, only for requests whose Bearer token it
// accepts (401 otherwise); without, for anyone who can reach the listener.
using MetricsAuthorizer = std::function<bool(std::string_view bearer_token)>;
void RegisterMetricsRoute(http::Router& router, const obs::Registry& metrics,
                          MetricsAuthorizer authorized);
// GET /api/v1/openapi.json and GET /api/docs, read from the built web UI (404 when not built).
void RegisterDocsRoutes(http::Router& router, const http::StaticFiles& web);
void RegisterAuthRoutes(http::Router& router, const ApiDeps& deps);
void RegisterUserRoutes(http::Router& router, const ApiDeps& deps);
void RegisterAdminRoutes(http::Router& router, const ApiDeps& deps);
void RegisterUpstreamKeyRoutes(http::Router& router, const ApiDeps& deps);
void RegisterApiKeyRoutes(http::Router& router, const ApiDeps& deps);
void RegisterOpenAiRoutes(http::Router& router, const ApiDeps& deps);
void RegisterDashScopeRoutes(http::Router& router, const ApiDeps& deps);
void RegisterModelRoutes(http::Router& router, const ApiDeps& deps);
void RegisterConversationRoutes(http::Router& router, const ApiDeps& deps);
void RegisterMessageRoutes(http::Router& router, const ApiDeps& deps);
void RegisterHistoryRoutes(http::Router& router, const ApiDeps& deps);
void RegisterImageRoutes(http::Router& router, const ApiDeps& deps);
void RegisterDataRightsRoutes(http::Router& router, const ApiDeps& deps);
void RegisterUploadRoutes(http::Router& router, const ApiDeps& deps);
void RegisterPasskeyRoutes(http::Router& router, const ApiDeps& deps);
void RegisterMfaRoutes(http::Router& router, const ApiDeps& deps);
void RegisterSsoRoutes(http::Router& router, const ApiDeps& deps);
void RegisterRoleRoutes(http::Router& router, const ApiDeps& deps);
void RegisterSecurityEventRoutes(http::Router& router, const ApiDeps& deps);

// The one list of route modules, in registration order.
inline void RegisterAllRoutes(http::Router& router, const ApiDeps& deps) {
    RegisterOpsRoutes(router, deps);
    RegisterAuthRoutes(router, deps);
    RegisterUserRoutes(router, deps);
    RegisterAdminRoutes(router, deps);
    RegisterUpstreamKeyRoutes(router, deps);
    RegisterApiKeyRoutes(router, deps);
    RegisterOpenAiRoutes(router, deps);
    RegisterDashScopeRoutes(router, deps);
    RegisterModelRoutes(router, deps);
    RegisterConversationRoutes(router, deps);
    RegisterMessageRoutes(router, deps);
    RegisterHistoryRoutes(router, deps);
    RegisterImageRoutes(router, deps);
    RegisterDataRightsRoutes(router, deps);
    RegisterUploadRoutes(router, deps);
    RegisterPasskeyRoutes(router, deps);
    RegisterMfaRoutes(router, deps);
    RegisterSsoRoutes(router, deps);
    RegisterRoleRoutes(router, deps);
    RegisterSecurityEventRoutes(router, deps);
}

}  // namespace hub::api
