#include "services/api_keys.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "auth/password.hpp"
#include "cache/topics.hpp"
#include "core/id.hpp"
#include "crypto/crypto.hpp"
#include "obs/logging.hpp"
#include "services/limits.hpp"
#include "services/security_events.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

Error InvalidApiKey() {
    return Error::Make(ErrorCode::kUnauthenticated, "invalid_api_key",
                       "The API key is invalid, expired or revoked.");
}

bool UrlSafe(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

constexpr std::size_t kMaxNameBytes = 64;
constexpr std::size_t kMaxModels = 64;

}  // namespace

GeneratedApiKey GenerateApiKey() {
    std::string token = std::string(kApiKeyTokenPrefix) + crypto::RandomToken(kApiKeyRandomBytes);
    GeneratedApiKey k;
    k.hash = HashApiKey(token);
    k.prefix = ApiKeyDisplayPrefix(token);
    k.token = core::Secret<std::string>(std::move(token));
    return k;
}

bool LooksLikeApiKey(std::string_view token) {
    if (token.size() < kApiKeyTokenPrefix.size() + 40 || token.size() > 256) return false;
    if (token.substr(0, kApiKeyTokenPrefix.size()) != kApiKeyTokenPrefix) return false;
    token.remove_prefix(kApiKeyTokenPrefix.size());
    return std::all_of(token.begin(), token.end(), UrlSafe);
}

std::string HashApiKey(std::string_view token) { return crypto::Sha256Hex(token); }

std::string ApiKeyDisplayPrefix(std::string_view token) {
    return std::string(token.substr(0, kApiKeyDisplayPrefixLength));
}

bool Caller::MayUse(std::string_view catalog_id) const {
    if (!principal.models.Allows(catalog_id)) return false;  // the role's allow-list
    if (allowed_models.empty()) return true;
    return std::find(allowed_models.begin(), allowed_models.end(), catalog_id) !=
           allowed_models.end();
}

bool Caller::MayCall(const ModelInfo& model) const {
    return principal.Can(ModelFamilyPermission(model.kind)) && MayUse(model.id);
}

std::vector<std::string> ParseModelList(std::string_view json_text) {
    std::vector<std::string> out;
    auto j = nlohmann::json::parse(json_text, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& v : j)
        if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

ApiKeys::ApiKeys(store::Store& store, async::WorkerPool& db, const auth::RoleTable& roles,
                 const Catalog& catalog, const auth::RevocationCache& revocations,
                 const core::Clock& clock, ApiKeysConfig cfg)
    : store_(store), db_(db), roles_(roles), catalog_(catalog), revocations_(revocations),
      clock_(clock), cfg_(cfg) {}

void ApiKeys::Audit(const std::string& actor, std::string action, std::string target,
                    const RequestMeta& meta, std::string detail_json) {
    AppendAudit(store_, clock_, actor, std::move(action), std::move(target), meta,
                std::move(detail_json));
}

net::awaitable<Result<CreatedApiKey>> ApiKeys::Create(auth::Principal who, ApiKeyInput in,
                                                      RequestMeta meta) {
    if (auto r = auth::Require(who, auth::perm::kApiKeysOwn); !r.ok()) co_return r.error();
    if (who.IsApiKey()) {
        co_return Error::Make(ErrorCode::kForbidden, "forbidden",
                              "A platform API key cannot create keys; sign in.");
    }
    if (in.name.empty() || in.name.size() > kMaxNameBytes || !auth::IsValidUtf8(in.name)) {
        co_return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                              "name must be 1 to 64 bytes of valid UTF-8.");
    }
    std::int64_t now = clock_.NowMs();
    if (in.expires_at && *in.expires_at <= now) {
        co_return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                              "expires_at must lie in the future.");
    }
    if (in.models.size() > kMaxModels) {
        co_return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                              "models may list at most 64 models.");
    }
    std::vector<std::string> models;
    for (const auto& m : in.models) {
        const ModelInfo* info = catalog_.Find(m);
        if (!info) {
            co_return Error::Make(ErrorCode::kInvalidArgument, "unknown_model",
                                  "models: '" + m.substr(0, 64) + "' is not a model of this hub.");
        }
        if (!who.models.Allows(info->id)) co_return auth::ModelNotAllowed(info->id);
        if (std::find(models.begin(), models.end(), info->id) == models.end())
            models.push_back(info->id);
    }

    GeneratedApiKey gen = GenerateApiKey();
    store::ApiKey k;
    k.id = core::NewId();
    k.user_id = who.user_id;
    k.name = std::move(in.name);
    k.key_hash = gen.hash;
    k.prefix = gen.prefix;
    k.models = nlohmann::json(models).dump();
    k.expires_at = in.expires_at;
    k.created_at = now;
    auto created = co_await db_.Run(
        [this](store::ApiKey k, RequestMeta meta, std::size_t max_active) -> Result<store::ApiKey> {
            auto active = store_.ApiKeys().ListByUser(k.user_id, false);
            if (!active.ok()) return active.error();
            if (active->size() >= max_active) {
                return Error::Make(ErrorCode::kConflict, "too_many_api_keys",
                                   "You have too many API keys; revoke one first.");
            }
            auto r = store_.ApiKeys().Create(std::move(k));
            if (r.ok()) {
                nlohmann::json detail = {
                    {"name", r->name},
                    {"prefix", r->prefix},
                    {"expires_at", r->expires_at ? nlohmann::json(*r->expires_at) : nullptr},
                    {"models", nlohmann::json::parse(r->models, nullptr, false)}};
                Audit(r->user_id, "api_key.created", "api_key:" + r->id, meta, detail.dump());
            }
            return r;
        },
        std::move(k), meta, cfg_.max_active_keys_per_user);
    if (!created.ok()) co_return created.error();
    co_return CreatedApiKey{std::move(created.value()), std::move(gen.token)};
}

net::awaitable<Result<std::vector<store::ApiKey>>> ApiKeys::List(auth::Principal who) {
    if (auto r = auth::Require(who, auth::perm::kApiKeysOwn); !r.ok()) co_return r.error();
    co_return co_await db_.Run(
        [this](std::string uid) { return store_.ApiKeys().ListByUser(uid, false); }, who.user_id);
}

net::awaitable<Result<void>> ApiKeys::Revoke(auth::Principal who, std::string id,
                                             RequestMeta meta) {
    if (auto r = auth::Require(who, auth::perm::kApiKeysOwn); !r.ok()) co_return r.error();
    co_return co_await db_.Run(
        [this](std::string uid, std::string id, RequestMeta meta) -> Result<void> {
            auto key = store_.ApiKeys().Get(uid, id);
            if (!key.ok()) return key.error();
            auto r = store_.ApiKeys().Revoke(uid, id);
            if (r.ok()) Forget(id);
            if (r.ok() && !key->revoked_at) {
                Audit(uid, "api_key.revoked", "api_key:" + id, meta,
                      nlohmann::json({{"name", key->name}, {"prefix", key->prefix}}).dump());
            }
            return r;
        },
        who.user_id, std::move(id), meta);
}

net::awaitable<Result<store::ApiKey>> ApiKeys::SetLimits(auth::Principal who, std::string id,
                                                         std::optional<std::int64_t> rpm,
                                                         std::optional<std::int64_t> tpm,
                                                         RequestMeta meta) {
    if (auto r = auth::Require(who, auth::perm::kApiKeysOwn); !r.ok()) co_return r.error();
    if (auto v = ValidateKeyLimits(KeyLimits{rpm, tpm}); !v.ok()) co_return v.error();
    co_return co_await db_.Run(
        [this](std::string uid, std::string id, std::optional<std::int64_t> rpm,
               std::optional<std::int64_t> tpm, RequestMeta meta) -> Result<store::ApiKey> {
            auto key = store_.ApiKeys().SetLimits(uid, id, rpm, tpm);
            if (!key.ok()) return key.error();
            Forget(id);
            auto opt = [](const std::optional<std::int64_t>& v) {
                return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
            };
            Audit(uid, "api_key.limits_changed", "api_key:" + id, meta,
                  nlohmann::json({{"rpm", opt(rpm)}, {"tpm", opt(tpm)}}).dump());
            return key;
        },
        who.user_id, std::move(id), rpm, tpm, meta);
}

Result<ApiKeys::Authenticated> ApiKeys::AuthenticateBlocking(const std::string& hash) {
    auto key = store_.ApiKeys().GetByHash(hash);
    if (!key.ok()) {
        if (key.error().code == ErrorCode::kNotFound) return InvalidApiKey();
        return key.error();
    }
    std::int64_t now = clock_.NowMs();
    // The lookup was by hash; compare again without leaking timing (defence in depth).
    if (!crypto::ConstantTimeEquals(key->key_hash, hash) || !key->IsUsable(now))
        return InvalidApiKey();
    auto user = store_.Users().Get(key->user_id);
    if (!user.ok()) {
        if (user.error().code == ErrorCode::kNotFound) return InvalidApiKey();
        return user.error();
    }
    if (user->status != store::UserStatus::kActive) return InvalidApiKey();
    if (!key->last_used_at || now - *key->last_used_at >= cfg_.touch_interval_ms) {
        if (auto t = store_.ApiKeys().Touch(key->id, now); !t.ok()) {
            obs::Warn("api_key_touch_failed", {{"detail", t.error().detail}});
        }
    }
    Caller c;
    c.principal.user_id = user->id;
    c.principal.role = user->role;
    c.principal.api_key_id = key->id;
    // A key acts with its owner's role, minus managing keys (that needs a signed-in user);
    // Authenticate fills the permissions from the live role table on every call.
    c.allowed_models = ParseModelList(key->models);
    c.key_rpm = key->rpm;
    c.key_tpm = key->tpm;
    Authenticated a{std::move(c), now + cfg_.auth_cache_ms};
    if (key->expires_at) a.valid_until_ms = std::min(a.valid_until_ms, *key->expires_at);
    return a;
}

std::optional<Caller> ApiKeys::Remembered(const std::string& hash) {
    std::int64_t now = clock_.NowMs();
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(hash);
    if (it == cache_.end()) return std::nullopt;
    const CachedCaller& c = it->second;
    const std::string& uid = c.caller.principal.user_id;
    if (now >= c.valid_until_ms || revocations_.IsUserDisabled(uid) ||
        revocations_.ChangedSince(uid, c.looked_up_at)) {
        cache_.erase(it);
        return std::nullopt;
    }
    return c.caller;
}

void ApiKeys::Remember(const std::string& hash, const Authenticated& a,
                       std::int64_t looked_up_at) {
    if (cfg_.auth_cache_ms <= 0 || cfg_.auth_cache_entries == 0) return;
    std::lock_guard lock(cache_mu_);
    if (auto r = revoked_at_.find(a.caller.api_key_id().value_or(""));
        r != revoked_at_.end() && r->second >= looked_up_at) {
        return;  // revoked while it was being looked up
    }
    if (cache_.size() >= cfg_.auth_cache_entries) cache_.clear();  // bounded; refilled on use
    cache_[hash] = CachedCaller{a.caller, looked_up_at, a.valid_until_ms};
}

void ApiKeys::Connect(cache::Bus& bus) {
    bus_ = &bus;
    bus.Subscribe([this](const cache::BusEvent& e) { Apply(e); });
}

void ApiKeys::Apply(const cache::BusEvent& e) {
    if (e.topic == cache::topic::kApiKeyChanged && !e.payload.empty()) {
        ForgetLocal(e.payload);
    } else if (e.topic == cache::kBusResynced) {
        // Kept events were replayed, but start clean anyway: every entry is one lookup away.
        std::lock_guard lock(cache_mu_);
        cache_.clear();
    }
}

void ApiKeys::Forget(const std::string& key_id) {
    ForgetLocal(key_id);
    // Kept as long as another hub may hold the caller in its cache.
    if (bus_ != nullptr) {
        bus_->Publish(cache::BusEvent{cache::topic::kApiKeyChanged, key_id},
                      std::chrono::milliseconds(std::max<std::int64_t>(cfg_.auth_cache_ms, 1)));
    }
}

void ApiKeys::ForgetLocal(const std::string& key_id) {
    std::int64_t now = clock_.NowMs();
    std::lock_guard lock(cache_mu_);
    std::erase_if(cache_, [&](const auto& kv) { return kv.second.caller.api_key_id() == key_id; });
    // Older notes can no longer matter: every lookup that began before them has finished
    // or will not be remembered for longer than the cache time anyway.
    std::erase_if(revoked_at_,
                  [&](const auto& kv) { return kv.second < now - 2 * cfg_.auth_cache_ms; });
    revoked_at_[key_id] = now;
}

net::awaitable<Result<Caller>> ApiKeys::Authenticate(std::string token) {
    if (!LooksLikeApiKey(token)) co_return InvalidApiKey();
    std::string hash = HashApiKey(token);
    std::optional<Caller> caller = Remembered(hash);
    if (!caller) {
        // Taken before the read: a change noted after this instant makes the entry stale.
        const std::int64_t looked_up_at = clock_.NowMs();
        auto a =
            co_await db_.Run([this](std::string h) { return AuthenticateBlocking(h); }, hash);
        if (!a.ok()) co_return a.error();
        Remember(hash, a.value(), looked_up_at);
        caller = std::move(a.value().caller);
    }
    // Never more than the owner's role has now (a role edit applies to the next call).
    auth::FillFromRole(caller->principal, *roles_.Snapshot());
    if (locks_ && caller->api_key_id() &&
        locks_->LockedUntil("api_key:" + *caller->api_key_id())) {
        co_return Error::Make(ErrorCode::kForbidden, "api_key_suspended",
                              "This API key is suspended after unusual spending; ask an "
                              "administrator to lift the suspension.");
    }
    co_return std::move(*caller);
}

}  // namespace hub::services
