#include "services/health.hpp"

#include "core/clock.hpp"
#include "services/leases.hpp"
#include "services/upstream_keys.hpp"

namespace hub::services {

net::awaitable<HealthReport> Health::Ready() {
    struct Probe {
        bool db_ok = false;
        std::string db_error;
        int current = 0, latest = 0;
        bool up_to_date = false;
    };
    Probe p = co_await db_.Run([this] {
        Probe r;
        auto ping = store_.Ping();
        r.db_ok = ping.ok();
        if (!ping.ok()) r.db_error = ping.error().public_message;
        auto st = store_.SchemaStatus();
        if (st.ok()) {
            r.current = st->current;
            r.latest = st->latest;
            r.up_to_date = st->UpToDate();
        }
        return r;
    });
    HealthReport rep;
    bool migrations_ok = p.db_ok && p.up_to_date;
    // Upstream keys: state per key (never the key); ready when at least one can take traffic.
    nlohmann::json upstream = {{"ok", true}, {"keys", nlohmann::json::array()}};
    if (keys_) {
        bool any = false;
        for (const auto& h : keys_->Health()) {
            if (h.retired) continue;
            bool usable = h.state != bailian::KeyState::kDisabled || !h.admin_disabled;
            any = any || usable;
            upstream["keys"].push_back({{"name", h.name},
                                        {"last4", h.last4},
                                        {"state", std::string(bailian::KeyStateName(h.state))},
                                        {"in_flight", h.in_flight}});
        }
        upstream["ok"] = any;
    }
    rep.ready = p.db_ok && migrations_ok && upstream["ok"].get<bool>();
    nlohmann::json db = {{"ok", p.db_ok}, {"dialect", std::string(store_.Dialect())}};
    if (!p.db_ok) db["error"] = p.db_error;
    // A read replica never makes the hub unready: without it heavy reads go to the primary.
    if (store::ReplicaState r = store_.Replica(); r.configured) {
        nlohmann::json replica = {{"ok", r.healthy},
                                  {"lag_ms", r.lag_ms},
                                  {"reads_replica", r.reads_replica},
                                  {"reads_primary", r.reads_primary}};
        if (!r.healthy) replica["reason"] = r.reason;
        db["replica"] = replica;
    }
    rep.body = {
        {"status", rep.ready ? "ready" : "not_ready"},
        {"demo_mode", demo_mode_},
        {"checks",
         {{"database", db},
          {"upstream", upstream},
          {"migrations", {{"ok", migrations_ok}, {"current", p.current}, {"latest", p.latest}}}}}};
    for (const auto& [name, probe] : extra_) rep.body["checks"][name] = probe();
    if (leases_) {
        nlohmann::json held = nlohmann::json::array();
        for (const auto& l : leases_->Held()) {
            held.push_back({{"name", l.name},
                            {"generation", l.generation},
                            {"since", core::FormatIsoMs(l.since_ms)}});
        }
        rep.body["leases"] = {{"instance", leases_->holder()},
                              {"ttl_ms", leases_->ttl().count()},
                              {"held", held}};
    }
    co_return rep;
}

}  // namespace hub::services
