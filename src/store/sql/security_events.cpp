#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

constexpr std::string_view kSelect =
    "SELECT id, kind, severity, user_id, api_key_id, ip, detail, action, locked_until,"
    " created_at FROM security_events";
constexpr std::string_view kCursorKind = "security_events";

SecurityEvent ReadEvent(const Stmt& s) {
    SecurityEvent e;
    e.id = s.Text(0);
    e.kind = s.Text(1);
    e.severity = s.Text(2);
    e.user_id = s.OptText(3);
    e.api_key_id = s.OptText(4);
    e.ip = s.Text(5);
    e.detail = s.Text(6);
    e.action = s.Text(7);
    e.locked_until = s.OptInt(8);
    e.created_at = s.Int(9);
    return e;
}

class SqlSecurityEventStore final : public SecurityEventStore {
public:
    explicit SqlSecurityEventStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<SecurityEvent> Append(SecurityEvent e) override {
        FillTime(e.created_at, ctx_.clock.NowMs());
        FillId(e.id, e.created_at);
        return ctx_.db.Write([&](Connection& c) -> core::Result<SecurityEvent> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("INSERT INTO security_events (id, kind, severity,"
                                              " user_id, api_key_id, ip, detail, action,"
                                              " locked_until, created_at)"
                                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
            HUB_SQL_TRY(st.BindAll(e.id, e.kind, e.severity, e.user_id, e.api_key_id, e.ip,
                                   e.detail, e.action, e.locked_until, e.created_at)
                            .Run());
            return e;
        });
    }

    core::Result<SecurityEvent> Get(std::string_view id) override {
        std::string sql = std::string(kSelect) + " WHERE id = ?1";
        return ctx_.db.Read([&](Connection& c) -> core::Result<SecurityEvent> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            HUB_SQL_ASSIGN(bool found, st.BindAll(id).Step());
            if (!found) return NotFound("security_event");
            return ReadEvent(st);
        });
    }

    core::Result<Page<SecurityEvent>> List(const SecurityEventFilter& f,
                                           const PageRequest& page) override {
        int limit = ClampLimit(page.limit);
        Where w;
        if (f.kind) w.And("kind = ?", *f.kind);
        if (f.user_id) w.And("user_id = ?", *f.user_id);
        HUB_SQL_TRY(AddCursorBefore(w, "(created_at, id)", kCursorKind, page.cursor, 1));
        w.params().emplace_back(std::int64_t{limit} + 1);
        std::string sql =
            std::string(kSelect) + w.sql() + " ORDER BY created_at DESC, id DESC LIMIT ?";
        return ctx_.db.Read([&](Connection& c) -> core::Result<Page<SecurityEvent>> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            st.BindParams(w.params());
            std::vector<SecurityEvent> rows;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                rows.push_back(ReadEvent(st));
            }
            return MakePage(std::move(rows), limit, kCursorKind, [](const SecurityEvent& e) {
                return CursorKey{{e.created_at}, e.id};
            });
        });
    }

    core::Result<SecurityEvent> EndLock(std::string_view id, std::int64_t at_ms) override {
        std::string sql = std::string(kSelect) + " WHERE id = ?1";
        return ctx_.db.Write([&](Connection& c) -> core::Result<SecurityEvent> {
            HUB_SQL_ASSIGN(Stmt up, c.Prepare("UPDATE security_events SET locked_until = ?2"
                                              " WHERE id = ?1 AND locked_until > ?2"));
            HUB_SQL_TRY(up.BindAll(id, at_ms).Run());
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            HUB_SQL_ASSIGN(bool found, st.BindAll(id).Step());
            if (!found) return NotFound("security_event");
            return ReadEvent(st);
        });
    }

    core::Result<void> Lock(const SecurityLock& l) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(Upsert(ctx_.mysql(),
                                                     "INSERT INTO security_locks (subject, until,"
                                                     " event_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                                                     "subject",
                                                     "until = excluded.until,"
                                                     " event_id = excluded.event_id,"
                                                     " created_at = excluded.created_at")));
            HUB_SQL_TRY(st.BindAll(l.subject, l.until, l.event_id, l.created_at).Run());
            return core::Ok();
        });
    }

    core::Result<void> Unlock(std::string_view subject) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("DELETE FROM security_locks WHERE subject = ?1"));
            HUB_SQL_TRY(st.BindAll(subject).Run());
            return core::Ok();
        });
    }

    core::Result<std::vector<SecurityLock>> ActiveLocks(std::int64_t now_ms) override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::vector<SecurityLock>> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT subject, until, event_id, created_at"
                                              " FROM security_locks WHERE until > ?1"));
            st.BindAll(now_ms);
            std::vector<SecurityLock> out;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                out.push_back(SecurityLock{st.Text(0), st.Int(1), st.Text(2), st.Int(3)});
            }
            return out;
        });
    }

private:
    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<SecurityEventStore> MakeSecurityEventStore(RepoContext ctx) {
    return std::make_unique<SqlSecurityEventStore>(ctx);
}

}  // namespace hub::store::sql
