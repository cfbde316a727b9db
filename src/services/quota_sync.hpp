#pragma once
// A user's own limits (the quota an admin sets) as services::Limits holds them in memory, kept
// in line across hubs: when another hub reports the user changed (cache::topic::kUserChanged,
// published by auth::RevocationCache after every admin edit of the user and after an account
// deletion), the quota is read again from the database on the db pool. The event is kept, so a
// hub that was cut off catches up on reconnect. The hub that made the edit sets its own Limits
// directly (api/admin_routes.cpp).
#include <string>

#include "async/offload.hpp"
#include "cache/bus.hpp"
#include "core/result.hpp"
#include "services/limits.hpp"
#include "store/store.hpp"

namespace hub::services {

class QuotaSync {
public:
    QuotaSync(Limits& limits, store::Store& store, async::WorkerPool& db);
    // Once at start-up, before the bus starts.
    void Connect(cache::Bus& bus);
    void Apply(const cache::BusEvent& event);  // the bus handler (public for tests)
    // The user's quota as stored (none for a user that is gone). Blocking.
    core::Result<void> ReloadBlocking(const std::string& user_id);

private:
    Limits& limits_;
    store::Store& store_;
    async::WorkerPool& db_;
};

}  // namespace hub::services
