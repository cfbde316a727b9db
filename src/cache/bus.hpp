#pragma once
// Bus: what one hub tells the others when something every hub keeps in memory has changed — a
// session revoked, a user disabled, a platform key, the model catalog or a conversation's cached
// history. Implementations: LocalBus (one hub: there is nobody to tell) and RedisBus (pub/sub,
// cache/redis_bus.hpp).
//
// The publisher applies a change to its own memory itself, then publishes it: handlers receive
// only the events of other hubs. An event that must not be missed by a hub that was cut off
// (a revocation) is published with `keep_for`: it is also kept that long, and every hub replays
// the kept events when it (re)connects. So handlers may see an event more than once and must be
// idempotent.
#include <chrono>
#include <functional>
#include <string>

namespace hub::cache {

// Delivered to handlers by the bus itself after each (re)connect, once the kept events are
// replayed: events that were not kept may have been missed, so what they would have
// invalidated (cached keys, catalogs, histories) must be dropped or re-read.
inline constexpr const char* kBusResynced = "bus.resynced";

struct BusEvent {
    std::string topic;    // what changed, e.g. "session.revoked"
    std::string payload;  // which one: an id, or empty
    friend bool operator==(const BusEvent&, const BusEvent&) = default;
};

class Bus {
public:
    using Handler = std::function<void(const BusEvent&)>;
    virtual ~Bus() = default;

    // Sends `event` to the other hubs. Never blocks and never fails the caller: it is queued,
    // and what cannot be delivered now is caught up from the kept events (when `keep_for` > 0).
    virtual void Publish(const BusEvent& event,
                         std::chrono::milliseconds keep_for = std::chrono::milliseconds::zero()) = 0;

    // `handler` receives other hubs' events, and the kept ones again after each (re)connect.
    // Handlers are quick, thread-safe and idempotent; they run on an io thread, so work that
    // blocks (a database read) is posted elsewhere. Subscribe before the bus starts.
    virtual void Subscribe(Handler handler) = 0;
};

// One hub on its own: publishing tells nobody, and nothing ever arrives.
class LocalBus final : public Bus {
public:
    void Publish(const BusEvent&, std::chrono::milliseconds) override {}
    void Subscribe(Handler) override {}
};

}  // namespace hub::cache
