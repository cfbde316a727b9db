#pragma once
// Platform API keys: what external clients (openai SDKs, DashScope SDKs, curl) use instead of
// a user's JWT. A key is "bh-" + 43 url-safe random characters, shown once at creation and
// stored only as its SHA-256 (hex) with an 8-character prefix for display. Keys have a name,
// an optional expiry and an optional model allow-list, and remember when they were last used.
// Owner checks and the audit trail (api_key.created / api_key.revoked) live here.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "async/offload.hpp"
#include "auth/rbac.hpp"
#include "cache/bus.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "services/accounts.hpp"
#include "services/models.hpp"
#include "store/store.hpp"

namespace hub::services {

class SecurityLocks;

inline constexpr std::string_view kApiKeyTokenPrefix = "bh-";
inline constexpr std::size_t kApiKeyRandomBytes = 32;  // 43 base64url characters
inline constexpr std::size_t kApiKeyDisplayPrefixLength = 8;

// ---- pure helpers ----

struct GeneratedApiKey {
    core::Secret<std::string> token;  // the whole key, shown once
    std::string hash;                 // SHA-256 hex of the token: what is stored
    std::string prefix;               // the first 8 characters, for lists
};
GeneratedApiKey GenerateApiKey();
// "bh-" followed by at least 40 characters of [A-Za-z0-9_-]. Anything else is not a key (it
// may be a JWT).
bool LooksLikeApiKey(std::string_view token);
std::string HashApiKey(std::string_view token);
std::string ApiKeyDisplayPrefix(std::string_view token);

// Who is calling a compatible surface: a signed-in user (JWT) or a platform key.
struct Caller {
    auth::Principal principal;
    // The key's model allow-list (catalog ids); empty = any model. Always empty for JWTs.
    std::vector<std::string> allowed_models;
    // The key's own rate limits (services::Limits applies them on top of the user's).
    std::optional<std::int64_t> key_rpm;
    std::optional<std::int64_t> key_tpm;

    // `catalog_id` is the catalog's id of the requested model (aliases resolved): in the
    // key's list (when it has one) and in the role's allow-list.
    bool MayUse(std::string_view catalog_id) const;
    // MayUse, and the role has the model's family permission (models:chat for chat and
    // vision models, models:images for image models).
    bool MayCall(const ModelInfo& model) const;
    const std::optional<std::string>& api_key_id() const { return principal.api_key_id; }
};

struct ApiKeyInput {
    std::string name;                        // 1..64 bytes of UTF-8
    std::optional<std::int64_t> expires_at;  // epoch ms, must lie in the future
    std::vector<std::string> models;         // catalog ids; empty = any model
};

struct CreatedApiKey {
    store::ApiKey key;
    core::Secret<std::string> token;
};

struct ApiKeysConfig {
    std::size_t max_active_keys_per_user = 50;
    // last_used_at is written at most this often per key (no write on every call).
    std::int64_t touch_interval_ms = 60'000;
    // An authenticated key is remembered this long, so that a burst of calls costs one
    // database lookup. In this process revoking the key, disabling or changing its owner
    // takes effect at once, and on the other hubs as soon as the bus delivers (Connect); with
    // no bus between them, other hub processes notice within this time.
    std::int64_t auth_cache_ms = 10'000;
    std::size_t auth_cache_entries = 10'000;
};

// The model allow-list stored on a key (JSON text) -> ids; malformed text = no models.
std::vector<std::string> ParseModelList(std::string_view json_text);

class ApiKeys {
public:
    ApiKeys(store::Store& store, async::WorkerPool& db, const auth::RoleTable& roles,
            const Catalog& catalog, const auth::RevocationCache& revocations,
            const core::Clock& clock, ApiKeysConfig cfg = {});

    net::awaitable<core::Result<CreatedApiKey>> Create(auth::Principal who, ApiKeyInput in,
                                                       RequestMeta meta);
    // The user's keys that are not revoked (expired ones included), newest first.
    net::awaitable<core::Result<std::vector<store::ApiKey>>> List(auth::Principal who);
    // 404 when it is not the user's key; revoking twice is fine.
    net::awaitable<core::Result<void>> Revoke(auth::Principal who, std::string id,
                                              RequestMeta meta);

    // Sets (or with nullopt clears) the key's own requests / tokens per minute: 400 naming
    // the field for a value < 1 or > 10^9, 404 when it is not the user's key. Used from the
    // key's next call on.
    net::awaitable<core::Result<store::ApiKey>> SetLimits(auth::Principal who, std::string id,
                                                          std::optional<std::int64_t> rpm,
                                                          std::optional<std::int64_t> tpm,
                                                          RequestMeta meta);

    // A platform key -> the caller. Unknown, revoked or expired keys and keys of disabled
    // users are all 401 "invalid_api_key" with the same message. Looked up by hash.
    // The key's permissions and model allow-list are its owner's role's as the live role
    // table has them now (narrowed by the key's own model list), on every call. A key
    // suspended by a security event is 403 "api_key_suspended".
    net::awaitable<core::Result<Caller>> Authenticate(std::string token);
    // Locks set by security events (spend spikes suspend keys). Set once at start-up.
    void SetLocks(const SecurityLocks* locks) { locks_ = locks; }
    // Tells the other hubs when a key is revoked or edited (they drop the cached caller), and
    // listens to them. Once at start-up, before the bus starts. The owner being disabled or
    // re-roled reaches them through auth::RevocationCache (ChangedSince).
    void Connect(cache::Bus& bus);
    // The bus handler (public for tests): another hub's key event, or kBusResynced.
    void Apply(const cache::BusEvent& event);

private:
    struct Authenticated {
        Caller caller;
        std::int64_t valid_until_ms = 0;  // min(now + cache time, the key's expiry)
    };
    core::Result<Authenticated> AuthenticateBlocking(const std::string& hash);
    std::optional<Caller> Remembered(const std::string& hash);
    void Remember(const std::string& hash, const Authenticated& a, std::int64_t looked_up_at);
    void Forget(const std::string& key_id);  // here, and on the other hubs
    void ForgetLocal(const std::string& key_id);

    struct CachedCaller {
        Caller caller;
        std::int64_t looked_up_at = 0;  // when the lookup began (before the read)
        std::int64_t valid_until_ms = 0;
    };
    void Audit(const std::string& actor, std::string action, std::string target,
               const RequestMeta& meta, std::string detail_json);

    store::Store& store_;
    async::WorkerPool& db_;
    const auth::RoleTable& roles_;
    const SecurityLocks* locks_ = nullptr;
    const Catalog& catalog_;
    const auth::RevocationCache& revocations_;
    const core::Clock& clock_;
    ApiKeysConfig cfg_;
    cache::Bus* bus_ = nullptr;
    std::mutex cache_mu_;
    std::unordered_map<std::string, CachedCaller> cache_;  // by key hash
    // Keys revoked lately (id -> when): a lookup that began before the revocation must not
    // be remembered, even if it finishes after it.
    std::unordered_map<std::string, std::int64_t> revoked_at_;
};

}  // namespace hub::services
