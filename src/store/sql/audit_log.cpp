#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

constexpr std::string_view kSelect =
    "SELECT id, actor_user_id, action, target, ip, request_id, detail, created_at FROM audit_log";
constexpr std::string_view kCursorKind = "audit_log";

AuditEntry ReadEntry(const Stmt& s) {
    AuditEntry e;
    e.id = s.Text(0);
    e.actor_user_id = s.OptText(1);
    e.action = s.Text(2);
    e.target = s.Text(3);
    e.ip = s.Text(4);
    e.request_id = s.Text(5);
    e.detail = s.Text(6);
    e.created_at = s.Int(7);
    return e;
}

class SqlAuditStore final : public AuditStore {
public:
    explicit SqlAuditStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<AuditEntry> Append(AuditEntry e) override {
        FillTime(e.created_at, ctx_.clock.NowMs());
        FillId(e.id, e.created_at);
        return ctx_.db.Write([&](Connection& c) -> core::Result<AuditEntry> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("INSERT INTO audit_log (id, actor_user_id, action, target,"
                                     " ip, request_id, detail, created_at)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
            HUB_SQL_TRY(st.BindAll(e.id, e.actor_user_id, e.action, e.target, e.ip, e.request_id,
                                   e.detail, e.created_at)
                            .Run());
            return e;
        });
    }

    core::Result<Page<AuditEntry>> List(const AuditFilter& f, const PageRequest& page) override {
        int limit = ClampLimit(page.limit);
        Where w;
        if (f.actor_user_id) w.And("actor_user_id = ?", *f.actor_user_id);
        if (f.action) w.And("action = ?", *f.action);
        if (f.target) w.And("target = ?", *f.target);
        if (f.from_ms) w.And("created_at >= ?", *f.from_ms);
        if (f.to_ms) w.And("created_at < ?", *f.to_ms);
        HUB_SQL_TRY(AddCursorBefore(w, "(created_at, id)", kCursorKind, page.cursor, 1));
        w.params().emplace_back(std::int64_t{limit} + 1);
        std::string sql =
            std::string(kSelect) + w.sql() + " ORDER BY created_at DESC, id DESC LIMIT ?";
        return ctx_.db.Read([&](Connection& c) -> core::Result<Page<AuditEntry>> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            st.BindParams(w.params());
            std::vector<AuditEntry> rows;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                rows.push_back(ReadEntry(st));
            }
            return MakePage(std::move(rows), limit, kCursorKind, [](const AuditEntry& e) {
                return CursorKey{{e.created_at}, e.id};
            });
        });
    }

    core::Result<std::map<std::string, std::int64_t>> LastActionOf(
        std::string_view action, const std::vector<std::string>& actor_ids) override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::map<std::string, std::int64_t>> {
            // audit_log_actor_idx: one short range per actor.
            std::map<std::string, std::int64_t> out;
            for (const auto& id : actor_ids) {
                HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT max(created_at) FROM audit_log"
                                                  " WHERE actor_user_id = ?1 AND action = ?2"));
                HUB_SQL_TRY(st.BindAll(id, action).Step());
                if (!st.IsNull(0)) out[id] = st.Int(0);
            }
            return out;
        });
    }

private:
    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<AuditStore> MakeAuditStore(RepoContext ctx) {
    return std::make_unique<SqlAuditStore>(ctx);
}

}  // namespace hub::store::sql
