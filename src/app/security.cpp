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

core::Result<auth::KeyRing> LoadOrCreateRing(const Config& cfg, const core::Clock& clock) {
    auth::KeyRingOptions opts;
    opts.max_token_ttl = std::chrono::seconds(std::max<std::int64_t>(cfg.access_ttl_s, 3600));
    std::string path = KeyRingPath(cfg);
    std::error_code ec;
    if (fs::exists(path, ec)) {
        auto st = fs::status(path, ec);
        if ((st.permissions() & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none)
            return SetupError(path + " must be readable by its owner only (chmod 600)");
        std::ifstream in(path, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        auto ring = auth::KeyRing::Deserialize(ss.str(), opts);
        if (!ring.ok()) return SetupError(path + ": " + ring.error().public_message);
        return std::move(ring.value());
    }
    auth::KeyRing ring(opts);
    auto kid = ring.Rotate(clock.Now());
    if (!kid.ok()) return SetupError("cannot generate a signing key");
    if (auto w = WritePrivateFile(path, ring.Serialize().Reveal()); !w.ok()) return w.error();
    obs::Info("jwt_key_generated", {{"kid", kid.value()}});
    return ring;
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

core::Result<std::unique_ptr<Security>> LoadSecurity(const Config& cfg, store::Store& store) {
    const core::Clock& clock = SystemClockInstance();
    auto sec = std::make_unique<Security>(
        clock, std::chrono::seconds(cfg.access_ttl_s) + auth::kDefaultJwtLeeway);
    auto ring = LoadOrCreateRing(cfg, clock);
    if (!ring.ok()) return ring.error();
    sec->keyring = std::move(ring.value());
    auth::JwtOptions jo;
    jo.issuer = cfg.jwt_issuer;
    jo.audience = cfg.jwt_issuer;
    jo.ttl = std::chrono::seconds(cfg.access_ttl_s);
    auto codec = auth::JwtCodec::Create(sec->keyring, jo);
    if (!codec.ok()) return SetupError("jwt: " + codec.error().public_message);
    sec->jwt.emplace(std::move(codec.value()));
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
