#include "app/security.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "crypto/crypto.hpp"
#include "limit/monotonic_clock.hpp"
#include "obs/logging.hpp"
#include "services/accounts.hpp"
#include "services/roles.hpp"

namespace hub::app {

namespace fs = std::filesystem;

namespace {
// Buckets refill by elapsed time: a wall clock set forward must not fill them.
const core::Clock& MonotonicClockInstance() {
    static const limit::MonotonicClock clock;
    return clock;
}
}  // namespace

Security::Security(const core::Clock& c, std::chrono::seconds lifetime)
    : clock(c),
      token_lifetime(lifetime),
      revocations(c, lifetime),
      limiter(MonotonicClockInstance(),
              limit::LocalLimiterOptions{limit::BucketConfig::PerMinute(120, 60), 100'000, 16}) {}

const core::Clock& SystemClockInstance() {
    static const core::SystemClock clock;
    return clock;
}

std::string KeyRingPath(const Config& cfg) { return cfg.data_dir + "/jwt-keys.json"; }

namespace {

core::Error SetupError(std::string msg) {
    return core::Error::Make(core::ErrorCode::kInternal, "setup_failed", std::move(msg));
}

constexpr std::string_view kRingAssociatedData = "bailian-hub jwt key ring v1";

auth::KeyRingOptions RingOptions(const Config& cfg) {
    auth::KeyRingOptions opts;
    opts.max_token_ttl = std::chrono::seconds(std::max<std::int64_t>(cfg.access_ttl_s, 3600));
    return opts;
}

core::Result<std::string> OpenRing(const crypto::MasterKey& master,
                                   const store::SealedKeyRing& stored) {
    auto json = master.Decrypt(stored.sealed, kRingAssociatedData);
    if (!json.ok()) {
        return SetupError(
            "the master key does not match the one that sealed the JWT key ring in the database: "
            "every hub of one database needs the same BAILIAN_HUB_MASTER_KEY");
    }
    return std::move(json.value());
}

// A ring kept before the database held it: <data dir>/jwt-keys.json (imported once, so tokens
// signed before an upgrade stay valid).
core::Result<std::optional<std::string>> ReadLegacyRingFile(const Config& cfg) {
    std::string path = KeyRingPath(cfg);
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::optional<std::string>();
    auto st = fs::status(path, ec);
    if ((st.permissions() & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none)
        return SetupError(path + " must be readable by its owner only (chmod 600)");
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return std::optional<std::string>(ss.str());
}

// The database's ring; on the first start, the legacy file's or a new one, stored for every
// hub. Two hubs starting together on an empty database: the second reads the first's.
core::Result<void> LoadOrCreateRing(const Config& cfg, const core::Clock& clock,
                                    store::Store& store, const crypto::MasterKey& master,
                                    Security& sec) {
    auto opts = RingOptions(cfg);
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto stored = store.SigningKeys().Get();
        if (!stored.ok()) return SetupError("cannot read the JWT key ring: " + stored.error().public_message);
        if (stored->has_value()) {
            auto json = OpenRing(master, **stored);
            if (!json.ok()) return json.error();
            auto ring = auth::KeyRing::Deserialize(*json, opts);
            if (!ring.ok()) return SetupError("the JWT key ring in the database: " + ring.error().public_message);
            sec.keyring = std::move(ring.value());
            sec.keyring_version = (*stored)->version;
            return core::Ok();
        }
        auto legacy = ReadLegacyRingFile(cfg);
        if (!legacy.ok()) return legacy.error();
        auth::KeyRing ring(opts);
        if (legacy->has_value()) {
            auto loaded = auth::KeyRing::Deserialize(**legacy, opts);
            if (!loaded.ok()) return SetupError(KeyRingPath(cfg) + ": " + loaded.error().public_message);
            ring = std::move(loaded.value());
        } else if (auto kid = ring.Rotate(clock.Now()); !kid.ok()) {
            return SetupError("cannot generate a signing key");
        }
        auto sealed = master.Encrypt(ring.Serialize().Reveal(), kRingAssociatedData);
        if (!sealed.ok()) return SetupError("cannot seal the JWT key ring");
        auto created = store.SigningKeys().CreateFirst(*sealed, clock.NowMs());
        if (!created.ok()) return SetupError("cannot store the JWT key ring: " + created.error().public_message);
        if (!*created) continue;  // another hub stored one first: use theirs
        if (legacy->has_value()) {
            obs::Info("jwt_keys_imported", {{"from", KeyRingPath(cfg)},
                                            {"hint", "the database holds the key ring now; the file is no longer read"}});
        } else {
            obs::Info("jwt_key_generated", {{"kid", ring.ActiveKid().value_or("")}});
        }
        sec.keyring = std::move(ring);
        sec.keyring_version = 1;
        return core::Ok();
    }
    return SetupError("the JWT key ring was created and then vanished from the database");
}

}  // namespace

core::Result<void> WritePrivateFile(const std::string& path, const std::string& content) {
    std::string tmp = path + ".tmp";
    ::umask(077);  // the file is created 0600 before any byte is written
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return SetupError("cannot write " + tmp);
        out << content;
        if (!out.flush()) return SetupError("cannot write " + tmp);
    }
    std::error_code ec;
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                    ec);
    fs::rename(tmp, path, ec);
    if (ec) return SetupError("cannot replace " + path + ": " + ec.message());
    return core::Ok();
}

core::Result<std::unique_ptr<Security>> LoadSecurity(const Config& cfg, store::Store& store,
                                                    const crypto::MasterKey* master) {
    const core::Clock& clock = SystemClockInstance();
    auto sec = std::make_unique<Security>(
        clock, std::chrono::seconds(cfg.access_ttl_s) + auth::kDefaultJwtLeeway);
    if (master != nullptr) {
        if (auto ring = LoadOrCreateRing(cfg, clock, store, *master, *sec); !ring.ok())
            return ring.error();
        auth::JwtOptions jo;
        jo.issuer = cfg.jwt_issuer;
        jo.audience = cfg.jwt_issuer;
        jo.ttl = std::chrono::seconds(cfg.access_ttl_s);
        auto codec = auth::JwtCodec::Create(sec->keyring, jo);
        if (!codec.ok()) return SetupError("jwt: " + codec.error().public_message);
        sec->jwt.emplace(std::move(codec.value()));
    }
    auto hasher = auth::PasswordHasher::Create(cfg.bcrypt_cost);
    if (!hasher.ok()) return SetupError("bcrypt: " + hasher.error().public_message);
    sec->hasher.emplace(std::move(hasher.value()));
    auto roles = store.Roles().List();
    if (!roles.ok()) return SetupError("cannot read roles: " + roles.error().public_message);
    auto perms = services::BuildRolePermissions(*roles);
    if (!perms.ok()) return SetupError("roles: " + perms.error().public_message);
    sec->roles.Replace(std::move(perms.value()));
    return sec;
}

core::Result<bool> RefreshKeyRing(store::Store& store, const crypto::MasterKey& master,
                                  Security& sec) {
    auto version = store.SigningKeys().Version();
    if (!version.ok()) return version.error();
    if (*version <= sec.keyring_version) return false;
    auto stored = store.SigningKeys().Get();
    if (!stored.ok()) return stored.error();
    if (!stored->has_value()) return false;
    auto json = OpenRing(master, **stored);
    if (!json.ok()) return json.error();
    if (auto r = sec.keyring.Reload(*json); !r.ok()) return r.error();
    sec.keyring_version = (*stored)->version;
    return true;
}

core::Result<std::string> RotateKeyRing(store::Store& store, const crypto::MasterKey& master,
                                        Security& sec, std::size_t* pruned) {
    auto now = std::chrono::system_clock::now();
    *pruned = sec.keyring.Prune(now).size();
    auto kid = sec.keyring.Rotate(now);
    if (!kid.ok()) return kid.error();
    auto sealed = master.Encrypt(sec.keyring.Serialize().Reveal(), kRingAssociatedData);
    if (!sealed.ok()) return SetupError("cannot seal the JWT key ring");
    auto replaced = store.SigningKeys().Replace(*sealed, sec.keyring_version, sec.clock.NowMs());
    if (!replaced.ok()) return replaced.error();
    if (!*replaced) return SetupError("another rotation changed the key ring meanwhile; run it again");
    ++sec.keyring_version;
    return kid;
}

core::Result<void> RestoreRevocations(store::Store& store, Security& sec) {
    std::int64_t since_ms =
        sec.clock.NowMs() -
        std::chrono::duration_cast<std::chrono::milliseconds>(sec.token_lifetime).count();
    auto revoked = store.Sessions().ListRevokedSince(since_ms);
    if (!revoked.ok()) return revoked.error();
    for (const auto& id : *revoked) sec.revocations.RevokeSession(id);
    // Deleted users: their rows are gone, so their still-unexpired access tokens are refused
    // by the audit trail of the deletion.
    for (const char* action : {"user.deleted", "admin.user_deleted"}) {
        store::AuditFilter f;
        f.action = action;
        f.from_ms = since_ms;
        store::PageRequest page;
        page.limit = store::kMaxPageSize;
        for (;;) {
            auto rows = store.Audit().List(f, page);
            if (!rows.ok()) return rows.error();
            for (const auto& e : rows->items) {
                if (e.target.rfind("user:", 0) == 0) sec.revocations.DisableUser(e.target.substr(5));
            }
            if (!rows->next_cursor) break;
            page.cursor = *rows->next_cursor;
        }
    }
    store::UserQuery q;
    q.status = store::UserStatus::kDisabled;
    q.page.limit = store::kMaxPageSize;
    for (;;) {
        auto page = store.Users().List(q);
        if (!page.ok()) return page.error();
        for (const auto& u : page->items) sec.revocations.DisableUser(u.id);
        if (!page->next_cursor) break;
        q.page.cursor = *page->next_cursor;
    }
    return core::Ok();
}

int BootstrapAdminIfEmpty(const Config& cfg, store::Store& store, Security& sec) {
    const char* flag = std::getenv("BAILIAN_HUB_BOOTSTRAP_ADMIN");
    if (!flag || std::string(flag) != "1") return 0;
    store::UserQuery q;
    q.page.limit = 1;
    auto any = store.Users().List(q);
    if (!any.ok() || !any->items.empty()) return 0;
    std::string password = crypto::RandomToken(18);
    services::RegisterInput in{"admin", "admin@localhost.localdomain", password, "Administrator"};
    auto u = services::Accounts::CreateUserBlocking(store, *sec.hasher, sec.clock, in,
                                                    std::string(store::kRoleAdmin));
    if (!u.ok()) {
        std::cerr << "bailian-hub: cannot create the first admin: " << u.error().public_message
                  << "\n";
        return 1;
    }
    (void)cfg;
    std::cerr << "\n=====================================================================\n"
              << " First start: created the administrator account (shown only once)\n"
              << "   username: admin\n"
              << "   password: " << password << "\n"
              << " Sign in and change it under Settings.\n"
              << "=====================================================================\n\n";
    return 0;
}

}  // namespace hub::app
