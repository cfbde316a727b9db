#include "services/quota_sync.hpp"

#include "cache/topics.hpp"
#include "obs/logging.hpp"

namespace hub::services {

QuotaSync::QuotaSync(Limits& limits, store::Store& store, async::WorkerPool& db)
    : limits_(limits), store_(store), db_(db) {}

void QuotaSync::Connect(cache::Bus& bus) {
    bus.Subscribe([this](const cache::BusEvent& e) { Apply(e); });
}

void QuotaSync::Apply(const cache::BusEvent& e) {
    if (e.topic != cache::topic::kUserChanged || e.payload.empty()) return;
    net::post(db_.pool(), [this, id = e.payload] {
        if (auto r = ReloadBlocking(id); !r.ok())
            obs::Warn("quota_reload_failed", {{"user_id", id}, {"detail", r.error().detail}});
    });
}

core::Result<void> QuotaSync::ReloadBlocking(const std::string& user_id) {
    auto user = store_.Users().Get(user_id);
    if (!user.ok()) {
        if (user.error().code != core::ErrorCode::kNotFound) return user.error();
        limits_.SetUserQuota(user_id, {});
        return core::Ok();
    }
    limits_.SetUserQuota(user_id, user->quota);
    return core::Ok();
}

}  // namespace hub::services
