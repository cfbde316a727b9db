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

    store::Store& store_;
    async::WorkerPool& db_;
    bailian::KeyPool& pool_;
    const crypto::MasterKey& master_;
    const core::Clock& clock_;
    mutable std::mutex mu_;
    std::map<std::string, std::string> pool_ids_;  // row id -> current pool id
};

}  // namespace hub::services
