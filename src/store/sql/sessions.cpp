#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

constexpr std::string_view kSelect =
    "SELECT id, user_id, refresh_hash, family_id, user_agent, ip, created_at, expires_at,"
    " last_used_at, revoked_at FROM sessions";

Session ReadSession(const Stmt& s) {
    Session x;
    x.id = s.Text(0);
    x.user_id = s.Text(1);
    x.refresh_hash = s.Text(2);
    x.family_id = s.Text(3);
    x.user_agent = s.Text(4);
    x.ip = s.Text(5);
    x.created_at = s.Int(6);
    x.expires_at = s.Int(7);
    x.last_used_at = s.OptInt(8);
    x.revoked_at = s.OptInt(9);
    return x;
}

core::Result<Session> GetOneOn(Connection& c, std::string_view column, std::string_view value) {
    std::string sql = std::string(kSelect) + " WHERE " + std::string(column) + " = ?1";
    HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
    HUB_SQL_ASSIGN(bool row, st.BindAll(value).Step());
    if (!row) return NotFound("session");
    return ReadSession(st);
}

core::Result<void> InsertOn(Connection& c, const Session& s) {
    HUB_SQL_ASSIGN(Stmt st,
                   c.Prepare("INSERT INTO sessions (id, user_id, refresh_hash, family_id,"
                             " user_agent, ip, created_at, expires_at, last_used_at, revoked_at)"
                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
    return st
        .BindAll(s.id, s.user_id, s.refresh_hash, s.family_id, s.user_agent, s.ip, s.created_at,
                 s.expires_at, s.last_used_at, s.revoked_at)
        .Run();
}

core::Error SessionConflict(std::string_view code, std::string_view message) {
    return core::Error::Make(core::ErrorCode::kConflict, std::string(code), std::string(message));
}

class SqlSessionStore final : public SessionStore {
public:
    explicit SqlSessionStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<Session> Create(Session s) override {
        FillDefaults(s);
        return ctx_.db.Write([&](Connection& c) -> core::Result<Session> {
            HUB_SQL_TRY(InsertOn(c, s));
            return s;
        });
    }

    core::Result<Session> Get(std::string_view id) override {
        return ctx_.db.Read([&](Connection& c) { return GetOneOn(c, "id", id); });
    }

    core::Result<Session> GetByRefreshHash(std::string_view hash) override {
        return ctx_.db.Read([&](Connection& c) { return GetOneOn(c, "refresh_hash", hash); });
    }

    core::Result<Session> Rotate(std::string_view old_id, Session next) override {
        std::int64_t now = ctx_.clock.NowMs();
        return ctx_.db.Write([&](Connection& c) -> core::Result<Session> {
            HUB_SQL_ASSIGN(Session old, GetOneOn(c, "id", old_id));
            if (old.revoked_at) {
                return SessionConflict("session_revoked", "the session has been revoked");
            }
            if (old.expires_at <= now) {
                return SessionConflict("session_expired", "the session has expired");
            }
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE sessions SET revoked_at = ?2 WHERE id = ?1"));
            HUB_SQL_TRY(st.BindAll(old_id, now).Run());
            next.user_id = old.user_id;
            next.family_id = old.family_id;
            FillDefaults(next);
            HUB_SQL_TRY(InsertOn(c, next));
            return next;
        });
    }

    core::Result<void> Revoke(std::string_view user_id, std::string_view id) override {
        std::int64_t now = ctx_.clock.NowMs();
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE sessions SET revoked_at ="
                                              " coalesce(revoked_at, ?3)"
                                              " WHERE id = ?1 AND user_id = ?2"));
            HUB_SQL_TRY(st.BindAll(id, user_id, now).Run());
            if (c.Changes() == 0) return NotFound("session");
            return core::Ok();
        });
    }

    core::Result<std::int64_t> RevokeFamily(std::string_view family_id) override {
        std::int64_t now = ctx_.clock.NowMs();
        return ctx_.db.Write([&](Connection& c) -> core::Result<std::int64_t> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE sessions SET revoked_at = ?2"
                                              " WHERE family_id = ?1 AND revoked_at IS NULL"));
            HUB_SQL_TRY(st.BindAll(family_id, now).Run());
            return c.Changes();
        });
    }

    core::Result<std::int64_t> RevokeAllOfUser(std::string_view user_id,
                                               std::optional<std::string> keep_id) override {
        std::int64_t now = ctx_.clock.NowMs();
        return ctx_.db.Write([&](Connection& c) -> core::Result<std::int64_t> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE sessions SET revoked_at = ?2"
                                              " WHERE user_id = ?1 AND revoked_at IS NULL"
                                              " AND (?3 IS NULL OR id <> ?3)"));
            HUB_SQL_TRY(st.BindAll(user_id, now, keep_id).Run());
            return c.Changes();
        });
    }

    core::Result<std::vector<Session>> ListActive(std::string_view user_id) override {
        static const std::string sql =
            std::string(kSelect) +
            " WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2"
            " ORDER BY coalesce(last_used_at, created_at) DESC, id DESC";
        std::int64_t now = ctx_.clock.NowMs();
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::vector<Session>> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            st.BindAll(user_id, now);
            std::vector<Session> out;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                out.push_back(ReadSession(st));
            }
            return out;
        });
    }

    core::Result<void> Touch(std::string_view id, std::int64_t at_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE sessions SET last_used_at ="
                                              " CASE WHEN coalesce(last_used_at, 0) > ?2 THEN last_used_at ELSE ?2 END"
                                              " WHERE id = ?1"));
            HUB_SQL_TRY(st.BindAll(id, at_ms).Run());
            if (c.Changes() == 0) return NotFound("session");
            return core::Ok();
        });
    }

    core::Result<std::vector<std::string>> ListRevokedSince(std::int64_t since_ms) override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::vector<std::string>> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("SELECT id FROM sessions WHERE revoked_at >= ?1"));
            st.BindAll(since_ms);
            std::vector<std::string> ids;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                ids.push_back(st.Text(0));
            }
            return ids;
        });
    }

    core::Result<std::int64_t> DeleteExpired(std::int64_t before_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<std::int64_t> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("DELETE FROM sessions WHERE expires_at < ?1"));
            HUB_SQL_TRY(st.BindAll(before_ms).Run());
            return c.Changes();
        });
    }

private:
    void FillDefaults(Session& s) const {
        FillTime(s.created_at, ctx_.clock.NowMs());
        FillId(s.id, s.created_at);
        if (s.family_id.empty()) s.family_id = s.id;
    }

    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<SessionStore> MakeSessionStore(RepoContext ctx) {
    return std::make_unique<SqlSessionStore>(ctx);
}

}  // namespace hub::store::sql
