#pragma once
// Leases: work that must run on exactly one hub at a time (the image-task poller, scheduled
// backups). One row per job name holds the holder (core::InstanceId of a hub), an expiry and a
// fencing generation that grows on every change of holder.
//
// Whose clock: expiries are compared with the database's clock, the one every hub sees (MySQL:
// the server's NOW(3); SQLite: the store's clock, there being one hub). Hubs' own clocks may
// differ; only the ttl, a duration, comes from the hub.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace hub::store {


struct Lease {
    std::string name;
    std::string holder;          // empty: released or never taken
    std::int64_t expires_at = 0;  // ms, database clock
    std::int64_t generation = 0;  // fencing token: grows on every change of holder
    std::int64_t now = 0;         // the database clock when this was read
};

// The outcome of TryAcquire: whether `holder` holds the lease now, and the lease as it is.
struct LeaseState {
    bool held = false;
    Lease lease;
};

class LeaseStore {
public:
    virtual ~LeaseStore() = default;

    // Takes `name` for `holder` until now + ttl_ms when it is free or expired, or renews it
    // when `holder` already holds it (its generation then stays). Atomic: of hubs racing for
    // it, exactly one wins. Not held is no error: `held` is false and `lease` names the holder.
    virtual core::Result<LeaseState> TryAcquire(std::string_view name, std::string_view holder,
                                                std::int64_t ttl_ms) = 0;
    // Gives the lease up at once (shutdown), when `holder` still holds it at `generation`:
    // true when this call released it.
    virtual core::Result<bool> Release(std::string_view name, std::string_view holder,
                                       std::int64_t generation) = 0;
    // The lease as it is (kNotFound "lease_not_found" when never taken).
    virtual core::Result<Lease> Get(std::string_view name) = 0;
    // Claims one run of a scheduled job (e.g. job "backups", slot = the slot's start time):
    // true for the first caller, false for every later one, whichever hub asks.
    virtual core::Result<bool> ClaimRun(std::string_view job, std::string_view slot,
                                        std::string_view holder) = 0;
};

}  // namespace hub::store
