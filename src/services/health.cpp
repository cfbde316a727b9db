#include "services/health.hpp"

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
    rep.ready = p.db_ok && migrations_ok;
    nlohmann::json db = {{"ok", p.db_ok}};
    if (!p.db_ok) db["error"] = p.db_error;
    rep.body = {
        {"status", rep.ready ? "ready" : "not_ready"},
        {"demo_mode", demo_mode_},
        {"checks",
         {{"database", db},
          {"migrations", {{"ok", migrations_ok}, {"current", p.current}, {"latest", p.latest}}}}}};
    co_return rep;
}

}  // namespace hub::services
