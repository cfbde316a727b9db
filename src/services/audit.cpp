#include "services/audit.hpp"

#include <nlohmann/json.hpp>

#include "core/id.hpp"
#include "obs/logging.hpp"
#include "store/store.hpp"

namespace hub::services {

void AppendAudit(store::Store& store, const core::Clock& clock, std::optional<std::string> actor,
                 std::string action, std::string target, const RequestMeta& meta,
                 std::string detail_json) {
    store::AuditEntry e;
    e.id = core::NewId();
    e.actor_user_id = std::move(actor);
    e.action = std::move(action);
    e.target = std::move(target);
    e.ip = meta.ip;
    e.request_id = meta.request_id;
    e.detail = std::move(detail_json);
    e.created_at = clock.NowMs();
    auto r = store.Audit().Append(std::move(e));
    if (!r.ok()) {
        obs::Error("audit_write_failed",
                   {{"request_id", meta.request_id}, {"detail", r.error().detail}});
        return;
    }
    if (auto* observer = store.Audit().observer()) observer->OnAudit(r.value());
}

}  // namespace hub::services
