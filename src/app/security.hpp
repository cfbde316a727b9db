#pragma once
// Builds the security collaborators from config and the database: the JWT key ring (in the
// database, sealed under the master key, shared by every hub; generated on first start, or
// imported from a data directory's jwt-keys.json of an older version), password hasher, role permissions from the database,
// the revocation cache and the rate limiter. Also the bootstrap of the first admin.
#include <memory>
#include <optional>

#include "app/config.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/rbac.hpp"
#include "auth/session_tokens.hpp"
#include "core/clock.hpp"
#include "crypto/master_key.hpp"
#include "limit/token_bucket.hpp"
#include "store/store.hpp"

namespace hub::app {

struct Security {
    // `token_lifetime`: the longest an access token lives (ttl + verification leeway); a
    // revocation is remembered that long.
    Security(const core::Clock& c, std::chrono::seconds lifetime);
    const core::Clock& clock;
    auth::KeyRing keyring;
    std::int64_t keyring_version = 0;  // the database row's version the ring was read at
    std::optional<auth::JwtCodec> jwt;
    std::optional<auth::PasswordHasher> hasher;
    auth::RoleTable roles;  // live: services::Roles swaps it after every role write
    std::chrono::seconds token_lifetime;
    auth::RevocationCache revocations;
    limit::LocalLimiter limiter;  // login, registration and model-call buckets (monotonic time)
};

const core::Clock& SystemClockInstance();
// <data dir>/jwt-keys.json: where versions before the shared ring kept it (imported once).
std::string KeyRingPath(const Config& cfg);
// Writes a secret file readable by its owner only, atomically (temp file + rename).
core::Result<void> WritePrivateFile(const std::string& path, const std::string& content);

// `master` null: no key ring and no JWT codec (commands that sign nothing, e.g. create-user).
core::Result<std::unique_ptr<Security>> LoadSecurity(const Config& cfg, store::Store& store,
                                                    const crypto::MasterKey* master);

// Reads the ring again when the database holds a newer version (a `jwt rotate`, possibly on
// another machine): true when it changed. Blocking: run it off the io threads.
core::Result<bool> RefreshKeyRing(store::Store& store, const crypto::MasterKey& master,
                                  Security& sec);
// A new signing key (expired ones pruned; `pruned` says how many), stored for every hub.
core::Result<std::string> RotateKeyRing(store::Store& store, const crypto::MasterKey& master,
                                        Security& sec, std::size_t* pruned);

// Fills the revocation cache from the database: sessions revoked within an access token's
// lifetime and disabled accounts, so that a restart does not bring their tokens back.
core::Result<void> RestoreRevocations(store::Store& store, Security& sec);

// With BAILIAN_HUB_BOOTSTRAP_ADMIN=1 (set by `make run`) and no user at all, creates the
// user "admin" with a generated password printed once to the console.
int BootstrapAdminIfEmpty(const Config& cfg, store::Store& store, Security& sec);

}  // namespace hub::app
