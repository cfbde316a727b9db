#pragma once
// Builds the security collaborators from config and the data dir: the JWT key ring
// (generated on first start, 0600), password hasher, role permissions from the database,
// the revocation cache and the rate limiter. Also the bootstrap of the first admin.
#include <memory>
#include <optional>

#include "app/config.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/rbac.hpp"
#include "auth/session_tokens.hpp"
#include "core/clock.hpp"
#include "limit/token_bucket.hpp"
#include "store/store.hpp"

namespace hub::app {

struct Security {
    // `token_lifetime`: the longest an access token lives (ttl + verification leeway); a
    // revocation is remembered that long.
    Security(const core::Clock& c, std::chrono::seconds lifetime);
    const core::Clock& clock;
    auth::KeyRing keyring;
    std::optional<auth::JwtCodec> jwt;
    std::optional<auth::PasswordHasher> hasher;
    auth::RoleTable roles;  // live: services::Roles swaps it after every role write
    std::chrono::seconds token_lifetime;
    auth::RevocationCache revocations;
    limit::LocalLimiter limiter;  // login, registration and model-call buckets (monotonic time)
};

const core::Clock& SystemClockInstance();
std::string KeyRingPath(const Config& cfg);
// Writes a secret file readable by its owner only, atomically (temp file + rename).
core::Result<void> WritePrivateFile(const std::string& path, const std::string& content);

core::Result<std::unique_ptr<Security>> LoadSecurity(const Config& cfg, store::Store& store);

// Fills the revocation cache from the database: sessions revoked within an access token's
// lifetime and disabled accounts, so that a restart does not bring their tokens back.
core::Result<void> RestoreRevocations(store::Store& store, Security& sec);

// With BAILIAN_HUB_BOOTSTRAP_ADMIN=1 (set by `make run`) and no user at all, creates the
// user "admin" with a generated password printed once to the console.
int BootstrapAdminIfEmpty(const Config& cfg, store::Store& store, Security& sec);

}  // namespace hub::app
