#include "services/upstream_keys.hpp"

#include <nlohmann/json.hpp>

#include "cache/topics.hpp"
#include "core/id.hpp"
#include "obs/logging.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

std::string Last4(std::string_view s) { return s.size() >= 8 ? std::string(s.substr(s.size() - 4)) : ""; }

bailian::UpstreamKey PoolKey(std::string id, const store::UpstreamKey& row, std::string secret) {
    bailian::UpstreamKey k;
    k.id = std::move(id);
    k.name = row.name;
    k.secret = core::Secret<std::string>(std::move(secret));
    k.weight = static_cast<int>(std::clamp<std::int64_t>(row.weight, 1, 1000));
    return k;
}

}  // namespace

UpstreamKeys::UpstreamKeys(store::Store& store, async::WorkerPool& db, bailian::KeyPool& pool,
                           const crypto::MasterKey& master, const core::Clock& clock)
    : store_(store), db_(db), pool_(pool), master_(master), clock_(clock) {}

std::string UpstreamKeys::PoolId(const store::UpstreamKey& row) {
    return row.id + "@" + std::to_string(row.rotated_at.value_or(row.created_at));
}

Result<void> UpstreamKeys::ValidateSecret(std::string_view s) {
    if (s.size() < 8 || s.size() > 256) {
        return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                           "secret must be a DashScope API key (8 to 256 characters).");
    }
    for (char c : s) {
        if (c <= ' ' || c == 0x7f || c == ',') {
            return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                               "secret must not contain spaces, commas or control characters.");
        }
    }
    return core::Ok();
}

Result<store::UpstreamKey> UpstreamKeys::CreateBlocking(store::Store& store,
                                                        const crypto::MasterKey& master,
                                                        const core::Clock& clock,
                                                        std::string name, std::string secret,
                                                        int weight) {
    if (auto v = ValidateSecret(secret); !v.ok()) return v.error();
    if (name.empty() || name.size() > 64) {
        return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                           "name must be 1 to 64 characters.");
    }
    if (weight < 1 || weight > 1000) {
        return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                           "weight must be between 1 and 1000.");
    }
    store::UpstreamKey row;
    row.id = core::NewId();
    row.name = std::move(name);
    row.last4 = Last4(secret);
    row.weight = weight;
    row.created_at = clock.NowMs();
    // The row id is the associated data: a ciphertext moved to another row does not decrypt.
    auto enc = master.Encrypt(secret, row.id);
    if (!enc.ok()) return enc.error();
    row.secret_enc = std::move(enc.value());
    return store.UpstreamKeys().Create(std::move(row));
}

Result<store::UpstreamKey> UpstreamKeys::RotateBlocking(store::Store& store,
                                                        const crypto::MasterKey& master,
                                                        std::string id, std::string secret) {
    if (auto v = ValidateSecret(secret); !v.ok()) return v.error();
    auto enc = master.Encrypt(secret, id);
    if (!enc.ok()) return enc.error();
    store::UpstreamKeyPatch patch;
    patch.secret = store::UpstreamKeySecret{std::move(enc.value()), Last4(secret)};
    patch.status = store::UpstreamKeyStatus::kActive;
    return store.UpstreamKeys().Update(id, patch);
}

Result<std::size_t> UpstreamKeys::LoadBlocking(const std::vector<std::string>& env_keys) {
    auto rows = store_.UpstreamKeys().List();
    if (!rows.ok()) return rows.error();
    std::vector<std::string> known_secrets;
    std::size_t loaded = 0;
    for (const auto& row : *rows) {
        auto secret = master_.Decrypt(row.secret_enc, row.id);
        if (!secret.ok()) {
            return Error::Make(ErrorCode::kInternal, "master_key_mismatch",
                               "upstream key '" + row.name +
                                   "' cannot be decrypted: the master key does not match the one "
                                   "this database was encrypted with");
        }
        known_secrets.push_back(secret.value());
        if (row.status != store::UpstreamKeyStatus::kActive) continue;
        std::string pid = PoolId(row);
        if (auto a = pool_.Add(PoolKey(pid, row, secret.value())); !a.ok()) return a.error();
        std::lock_guard lk(mu_);
        pool_ids_[row.id] = pid;
        ++loaded;
    }
    for (const auto& secret : env_keys) {
        if (secret.empty()) continue;
        if (std::find(known_secrets.begin(), known_secrets.end(), secret) != known_secrets.end())
            continue;
        auto row = CreateBlocking(store_, master_, clock_, "env-" + Last4(secret), secret, 1);
        for (int n = 2; !row.ok() && row.error().code == ErrorCode::kConflict && n < 100; ++n) {
            row = CreateBlocking(store_, master_, clock_,
                                 "env-" + Last4(secret) + "-" + std::to_string(n), secret, 1);
        }
        if (!row.ok()) {
            return Error::Make(ErrorCode::kInvalidArgument, "invalid_config",
                               "DASHSCOPE_API_KEY: " + row.error().public_message);
        }
        known_secrets.push_back(secret);
        std::string pid = PoolId(*row);
        if (auto a = pool_.Add(PoolKey(pid, *row, secret)); !a.ok()) return a.error();
        std::lock_guard lk(mu_);
        pool_ids_[row->id] = pid;
        ++loaded;
        obs::Info("upstream_key_imported", {{"id", row->id}, {"last4", row->last4}});
    }
    return loaded;
}

Result<void> UpstreamKeys::AddEphemeral(std::string name, std::string secret) {
    store::UpstreamKey row;
    row.id = "demo";
    row.name = std::move(name);
    row.created_at = 0;
    return pool_.Add(PoolKey("demo@0", row, std::move(secret)));
}

UpstreamKeyView UpstreamKeys::View(store::UpstreamKey row) const {
    row.secret_enc.clear();
    UpstreamKeyView v;
    std::string pid;
    {
        std::lock_guard lk(mu_);
        auto it = pool_ids_.find(row.id);
        if (it != pool_ids_.end()) pid = it->second;
    }
    if (!pid.empty()) {
        for (auto& h : pool_.Snapshot())
            if (h.id == pid) v.health = h;
    }
    v.row = std::move(row);
    return v;
}

void UpstreamKeys::Audit(const auth::Principal& who, std::string action, std::string target,
                         const RequestMeta& meta, std::string detail) {
    AppendAudit(store_, clock_, who.user_id, std::move(action), std::move(target), meta,
                std::move(detail));
}

net::awaitable<Result<std::vector<UpstreamKeyView>>> UpstreamKeys::List(auth::Principal who) {
    if (auto r = auth::Require(who, auth::perm::kKeysManage); !r.ok()) co_return r.error();
    auto rows = co_await db_.Run([this]() { return store_.UpstreamKeys().List(); });
    if (!rows.ok()) co_return rows.error();
    std::vector<UpstreamKeyView> out;
    for (auto& r : *rows) out.push_back(View(std::move(r)));
    co_return out;
}

net::awaitable<Result<UpstreamKeyView>> UpstreamKeys::Add(auth::Principal who, std::string name,
                                                          std::string secret, int weight,
                                                          RequestMeta meta) {
    if (auto r = auth::Require(who, auth::perm::kKeysManage); !r.ok()) co_return r.error();
    auto row = co_await db_.Run(
        [this](std::string n, std::string s, int w) {
            return CreateBlocking(store_, master_, clock_, std::move(n), std::move(s), w);
        },
        std::move(name), secret, weight);
    if (!row.ok()) co_return row.error();
    std::string pid = PoolId(*row);
    if (auto a = pool_.Add(PoolKey(pid, *row, secret)); !a.ok()) co_return a.error();
    {
        std::lock_guard lk(mu_);
        pool_ids_[row->id] = pid;
    }
    Publish();
    co_await db_.Run(
        [this](auth::Principal w, std::string id, std::string last4, RequestMeta m) {
            Audit(w, "admin.upstream_key_added", "upstream_key:" + id, m,
                  nlohmann::json({{"last4", last4}}).dump());
            return 0;
        },
        who, row->id, row->last4, meta);
    co_return View(std::move(row.value()));
}

net::awaitable<Result<UpstreamKeyView>> UpstreamKeys::Rotate(auth::Principal who, std::string id,
                                                             std::string secret, RequestMeta meta) {
    if (auto r = auth::Require(who, auth::perm::kKeysManage); !r.ok()) co_return r.error();
    auto row = co_await db_.Run(
        [this](std::string i, std::string s) {
            return RotateBlocking(store_, master_, std::move(i), std::move(s));
        },
        id, secret);
    if (!row.ok()) co_return row.error();
    std::string pid = PoolId(*row);
    std::string old_pid;
    {
        std::lock_guard lk(mu_);
        old_pid = pool_ids_.count(id) ? pool_ids_[id] : "";
        pool_ids_[id] = pid;
    }
    // The new secret takes new requests at once; in-flight ones finish on the old one.
    auto r = old_pid.empty() ? pool_.Add(PoolKey(pid, *row, secret))
                             : pool_.Rotate(old_pid, PoolKey(pid, *row, secret));
    if (!r.ok()) co_return r.error();
    Publish();
    co_await db_.Run(
        [this](auth::Principal w, std::string i, std::string last4, RequestMeta m) {
            Audit(w, "admin.upstream_key_rotated", "upstream_key:" + i, m,
                  nlohmann::json({{"last4", last4}}).dump());
            return 0;
        },
        who, id, row->last4, meta);
    co_return View(std::move(row.value()));
}

net::awaitable<Result<UpstreamKeyView>> UpstreamKeys::Update(auth::Principal who, std::string id,
                                                             std::optional<bool> enabled,
                                                             std::optional<int> weight,
                                                             RequestMeta meta) {
    if (auto r = auth::Require(who, auth::perm::kKeysManage); !r.ok()) co_return r.error();
    if (weight && (*weight < 1 || *weight > 1000)) {
        co_return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                              "weight must be between 1 and 1000.");
    }
    store::UpstreamKeyPatch patch;
    if (enabled) patch.status = *enabled ? store::UpstreamKeyStatus::kActive
                                         : store::UpstreamKeyStatus::kDisabled;
    if (weight) patch.weight = *weight;
    auto row = co_await db_.Run(
        [this](std::string i, store::UpstreamKeyPatch p) { return store_.UpstreamKeys().Update(i, p); },
        id, patch);
    if (!row.ok()) co_return row.error();
    std::string pid;
    {
        std::lock_guard lk(mu_);
        if (pool_ids_.count(id)) pid = pool_ids_[id];
    }
    if (enabled && *enabled && pid.empty()) {
        // A key that was disabled at start-up is not in the pool yet: decrypt and add it.
        auto secret = master_.Decrypt(row->secret_enc, row->id);
        if (!secret.ok()) co_return secret.error();
        pid = PoolId(*row);
        if (auto a = pool_.Add(PoolKey(pid, *row, secret.value())); !a.ok()) co_return a.error();
        std::lock_guard lk(mu_);
        pool_ids_[id] = pid;
    } else if (!pid.empty()) {
        if (enabled) (void)(*enabled ? pool_.Enable(pid) : pool_.Disable(pid));
        if (weight) (void)pool_.SetWeight(pid, *weight);
    }
    Publish();
    nlohmann::json detail = nlohmann::json::object();
    if (enabled) detail["enabled"] = *enabled;
    if (weight) detail["weight"] = *weight;
    co_await db_.Run(
        [this](auth::Principal w, std::string i, std::string d, RequestMeta m) {
            Audit(w, "admin.upstream_key_updated", "upstream_key:" + i, m, d);
            return 0;
        },
        who, id, detail.dump(), meta);
    co_return View(std::move(row.value()));
}

net::awaitable<Result<void>> UpstreamKeys::Delete(auth::Principal who, std::string id,
                                                  RequestMeta meta) {
    if (auto r = auth::Require(who, auth::perm::kKeysManage); !r.ok()) co_return r.error();
    auto del = co_await db_.Run([this](std::string i) { return store_.UpstreamKeys().Delete(i); },
                                id);
    if (!del.ok()) co_return del.error();
    std::string pid;
    {
        std::lock_guard lk(mu_);
        if (pool_ids_.count(id)) pid = pool_ids_[id];
        pool_ids_.erase(id);
    }
    // Retire rather than drop: requests already using the key finish normally.
    if (!pid.empty()) (void)pool_.Retire(pid);
    Publish();
    co_await db_.Run(
        [this](auth::Principal w, std::string i, RequestMeta m) {
            Audit(w, "admin.upstream_key_deleted", "upstream_key:" + i, m, "{}");
            return 0;
        },
        who, id, meta);
    co_return core::Ok();
}

void UpstreamKeys::Publish() {
    if (bus_ != nullptr) bus_->Publish(cache::BusEvent{cache::topic::kUpstreamKeysChanged, ""});
}

void UpstreamKeys::Connect(cache::Bus& bus) {
    bus_ = &bus;
    bus.Subscribe([this](const cache::BusEvent& e) { Apply(e); });
}

void UpstreamKeys::Apply(const cache::BusEvent& e) {
    if (e.topic != cache::topic::kUpstreamKeysChanged && e.topic != cache::kBusResynced) return;
    net::post(db_.pool(), [this] {
        if (auto r = SyncBlocking(); !r.ok())
            obs::Warn("upstream_keys_sync_failed", {{"detail", r.error().detail}});
    });
}

Result<void> UpstreamKeys::SyncBlocking() {
    std::lock_guard sync(sync_mu_);
    auto rows = store_.UpstreamKeys().List();
    if (!rows.ok()) return rows.error();
    std::map<std::string, bailian::KeyHealth> health;
    for (auto& h : pool_.Snapshot()) health[h.id] = h;
    std::map<std::string, std::string> known;
    {
        std::lock_guard lk(mu_);
        known = pool_ids_;
    }
    std::map<std::string, std::string> next;  // row id -> pool id, for the rows in the pool
    for (const auto& row : *rows) {
        auto old = known.find(row.id);
        const std::string old_pid = old == known.end() ? std::string() : old->second;
        const bool active = row.status == store::UpstreamKeyStatus::kActive;
        if (!active) {
            // Disabled: no traffic here either. A key never in this pool stays out of it.
            if (!old_pid.empty()) {
                auto h = health.find(old_pid);
                if (h != health.end() && !h->second.admin_disabled) (void)pool_.Disable(old_pid);
                next[row.id] = old_pid;
            }
            continue;
        }
        const std::string pid = PoolId(row);
        const int weight = static_cast<int>(std::clamp<std::int64_t>(row.weight, 1, 1000));
        if (old_pid == pid) {
            auto h = health.find(pid);
            if (h != health.end() && h->second.admin_disabled && !h->second.retired)
                (void)pool_.Enable(pid);
            if (h != health.end() && h->second.weight != weight) (void)pool_.SetWeight(pid, weight);
            next[row.id] = pid;
            continue;
        }
        // New here, or rotated elsewhere: the secret comes from the database.
        auto secret = master_.Decrypt(row.secret_enc, row.id);
        if (!secret.ok()) {
            obs::Warn("upstream_key_sync_skipped", {{"id", row.id}, {"reason", "decrypt_failed"}});
            if (!old_pid.empty()) next[row.id] = old_pid;
            continue;
        }
        auto added = old_pid.empty() ? pool_.Add(PoolKey(pid, row, secret.value()))
                                     : pool_.Rotate(old_pid, PoolKey(pid, row, secret.value()));
        if (!added.ok()) {
            obs::Warn("upstream_key_sync_skipped", {{"id", row.id}, {"detail", added.error().detail}});
            if (!old_pid.empty()) next[row.id] = old_pid;
            continue;
        }
        next[row.id] = pid;
    }
    // Deleted elsewhere: retired here (requests using them finish).
    for (const auto& [id, pid] : known) {
        if (!next.count(id)) (void)pool_.Retire(pid);
    }
    std::lock_guard lk(mu_);
    // A key this hub's admin added while the rows were read stays known.
    for (const auto& [id, pid] : pool_ids_) {
        if (!known.count(id) && !next.count(id)) next[id] = pid;
    }
    pool_ids_ = std::move(next);
    return core::Ok();
}

}  // namespace hub::services
