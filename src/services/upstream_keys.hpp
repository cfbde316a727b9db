#pragma once
// Upstream DashScope keys: encrypted at rest under the master key, loaded into the in-memory
// KeyPool at start, managed by admins (add, rotate without dropping work, enable/disable,
// delete) with every change audited. Secrets never leave this class except to the pool.
#include <optional>
#include <string>
#include <vector>

#include "async/offload.hpp"
#include "auth/rbac.hpp"
#include "bailian/key_pool.hpp"
#include "cache/bus.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "crypto/master_key.hpp"
#include "services/accounts.hpp"
#include "store/store.hpp"

namespace hub::services {

struct UpstreamKeyView {
    store::UpstreamKey row;  // secret_enc is cleared before it leaves the service
    std::optional<bailian::KeyHealth> health;
};

class UpstreamKeys {
public:
    UpstreamKeys(store::Store& store, async::WorkerPool& db, bailian::KeyPool& pool,
                 const crypto::MasterKey& master, const core::Clock& clock);

    // Start-up (blocking): decrypts every stored key into the pool — a key that does not
    // decrypt means a wrong master key, a clear error — then imports `env_keys` that are
    // not stored yet.
    core::Result<std::size_t> LoadBlocking(const std::vector<std::string>& env_keys);
    // Adds a key that lives only in memory (demo mode's simulator key).
    core::Result<void> AddEphemeral(std::string name, std::string secret);

    net::awaitable<core::Result<std::vector<UpstreamKeyView>>> List(auth::Principal who);
    net::awaitable<core::Result<UpstreamKeyView>> Add(auth::Principal who, std::string name,
                                                      std::string secret, int weight,
                                                      RequestMeta meta);
    net::awaitable<core::Result<UpstreamKeyView>> Rotate(auth::Principal who, std::string id,
                                                         std::string secret, RequestMeta meta);
    net::awaitable<core::Result<UpstreamKeyView>> Update(auth::Principal who, std::string id,
                                                         std::optional<bool> enabled,
                                                         std::optional<int> weight,
                                                         RequestMeta meta);
    net::awaitable<core::Result<void>> Delete(auth::Principal who, std::string id,
                                              RequestMeta meta);

    std::vector<bailian::KeyHealth> Health() const { return pool_.Snapshot(); }

    // Tells the other hubs after every add, rotation, update and delete; when another hub
    // changed the keys (or the bus resynced), brings this hub's pool in line with the database
    // on the db pool (SyncBlocking). Once at start-up, before the bus starts.
    void Connect(cache::Bus& bus);
    void Apply(const cache::BusEvent& event);  // the bus handler (public for tests)
    // The pool as the database has it: new and re-enabled keys added, rotated ones rotated
    // (in-flight calls finish on the old secret), disabled ones disabled, weights set, deleted
    // ones retired. Health (cooling, probing) of unchanged keys is left alone. Blocking.
    core::Result<void> SyncBlocking();

    // Blocking helpers shared with the command line.
    static core::Result<store::UpstreamKey> CreateBlocking(store::Store& store,
                                                           const crypto::MasterKey& master,
                                                           const core::Clock& clock,
                                                           std::string name, std::string secret,
                                                           int weight);
    static core::Result<store::UpstreamKey> RotateBlocking(store::Store& store,
                                                           const crypto::MasterKey& master,
                                                           std::string id, std::string secret);
    static core::Result<void> ValidateSecret(std::string_view secret);

private:
    // Pool ids carry a generation so a rotated key's replacement never clashes with the
    // retiring instance: "<row id>@<created_at or rotated_at>".
    static std::string PoolId(const store::UpstreamKey& row);
    UpstreamKeyView View(store::UpstreamKey row) const;
    void Audit(const auth::Principal& who, std::string action, std::string target,
               const RequestMeta& meta, std::string detail);
    void Publish();

    store::Store& store_;
    async::WorkerPool& db_;
    bailian::KeyPool& pool_;
    const crypto::MasterKey& master_;
    const core::Clock& clock_;
    cache::Bus* bus_ = nullptr;
    mutable std::mutex mu_;
    std::mutex sync_mu_;  // one SyncBlocking at a time
    std::map<std::string, std::string> pool_ids_;  // row id -> current pool id
};

}  // namespace hub::services
