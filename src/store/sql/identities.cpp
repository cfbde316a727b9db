#include "store/identities.hpp"

#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

constexpr std::string_view kSelectIdentity =
    "SELECT id, user_id, provider, subject, email, created_at, last_login_at FROM user_identities";
constexpr std::string_view kSelectState =
    "SELECT state_hash, provider, nonce, code_verifier, created_at, expires_at, used_at"
    " FROM oidc_states WHERE state_hash = ?";
constexpr std::string_view kSelectTicket =
    "SELECT token_hash, kind, user_id, provider, subject, email, created_at, expires_at, used_at"
    " FROM sso_tickets WHERE token_hash = ? AND kind = ?";

std::string KindText(SsoTicketKind k) { return k == SsoTicketKind::kLink ? "link" : "ticket"; }

UserIdentity ReadIdentity(const Stmt& s) {
    UserIdentity i;
    i.id = s.Text(0);
    i.user_id = s.Text(1);
    i.provider = s.Text(2);
    i.subject = s.Text(3);
    i.email = s.Text(4);
    i.created_at = s.Int(5);
    i.last_login_at = s.OptInt(6);
    return i;
}

OidcState ReadState(const Stmt& s) {
    OidcState o;
    o.state_hash = s.Text(0);
    o.provider = s.Text(1);
    o.nonce = s.Text(2);
    o.code_verifier = s.Text(3);
    o.created_at = s.Int(4);
    o.expires_at = s.Int(5);
    o.used_at = s.OptInt(6);
    return o;
}

SsoTicket ReadTicket(const Stmt& s) {
    SsoTicket t;
    t.token_hash = s.Text(0);
    t.kind = s.TextView(1) == "link" ? SsoTicketKind::kLink : SsoTicketKind::kTicket;
    t.user_id = s.Text(2);
    t.provider = s.Text(3);
    t.subject = s.Text(4);
    t.email = s.Text(5);
    t.created_at = s.Int(6);
    t.expires_at = s.Int(7);
    t.used_at = s.OptInt(8);
    return t;
}

class SqlIdentityStore final : public IdentityStore {
public:
    explicit SqlIdentityStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<UserIdentity> Create(UserIdentity i) override {
        FillTime(i.created_at, ctx_.clock.NowMs());
        FillId(i.id, i.created_at);
        auto r = ctx_.db.Write([&](Connection& c) -> core::Result<UserIdentity> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("INSERT INTO user_identities (id, user_id, provider,"
                                              " subject, email, created_at, last_login_at)"
                                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
            HUB_SQL_TRY(st.BindAll(i.id, i.user_id, i.provider, i.subject, i.email, i.created_at,
                                   i.last_login_at)
                            .Run());
            return i;
        });
        if (!r.ok() && r.error().code == core::ErrorCode::kConflict) {
            return core::Error::Make(core::ErrorCode::kConflict, "identity_taken",
                                     "This sign-in is already linked to an account.");
        }
        return r;
    }

    core::Result<UserIdentity> FindBySubject(std::string_view provider,
                                             std::string_view subject) override {
        static const std::string sql =
            std::string(kSelectIdentity) + " WHERE provider = ? AND subject = ?";
        return ctx_.db.Read([&](Connection& c) -> core::Result<UserIdentity> {
            HUB_SQL_ASSIGN(auto rows, QueryRows<UserIdentity>(
                                          c, sql, {std::string(provider), std::string(subject)},
                                          ReadIdentity));
            if (rows.empty()) return NotFound("identity");
            return std::move(rows.front());
        });
    }

    core::Result<std::vector<UserIdentity>> ListByUser(std::string_view user_id) override {
        static const std::string sql =
            std::string(kSelectIdentity) + " WHERE user_id = ? ORDER BY created_at, id";
        return ctx_.db.Read([&](Connection& c) {
            return QueryRows<UserIdentity>(c, sql, {std::string(user_id)}, ReadIdentity);
        });
    }

    core::Result<void> TouchLogin(std::string_view id, std::int64_t at_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("UPDATE user_identities SET last_login_at = ?2 WHERE id = ?1"));
            return st.BindAll(std::string(id), at_ms).Run();
        });
    }

    core::Result<void> Delete(std::string_view user_id, std::string_view id,
                              bool refuse_if_last) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt count, c.Prepare("SELECT count(*), sum(id = ?2) FROM"
                                                 " user_identities WHERE user_id = ?1"));
            count.BindAll(std::string(user_id), std::string(id));
            HUB_SQL_ASSIGN(bool row, count.Step());
            std::int64_t total = row ? count.Int(0) : 0;
            std::int64_t mine = row ? count.OptInt(1).value_or(0) : 0;
            if (mine == 0) return NotFound("identity");
            if (refuse_if_last && total <= 1) {
                return core::Error::Make(
                    core::ErrorCode::kConflict, "last_sign_in_method",
                    "This is your only way to sign in: set a password or link another provider "
                    "first.");
            }
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("DELETE FROM user_identities WHERE id = ?1 AND user_id = ?2"));
            return st.BindAll(std::string(id), std::string(user_id)).Run();
        });
    }

    core::Result<void> CreateState(OidcState s) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("INSERT INTO oidc_states (state_hash, provider,"
                                              " nonce, code_verifier, created_at, expires_at)"
                                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
            return st.BindAll(s.state_hash, s.provider, s.nonce, s.code_verifier, s.created_at,
                              s.expires_at)
                .Run();
        });
    }

    core::Result<OidcState> ConsumeState(std::string_view state_hash,
                                         std::int64_t now_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<OidcState> {
            HUB_SQL_ASSIGN(auto rows, QueryRows<OidcState>(c, std::string(kSelectState),
                                                           {std::string(state_hash)}, ReadState));
            if (rows.empty()) return NotFound("state");
            if (!rows.front().used_at) {
                HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE oidc_states SET used_at = ?2"
                                                  " WHERE state_hash = ?1 AND used_at IS NULL"));
                HUB_SQL_TRY(st.BindAll(std::string(state_hash), now_ms).Run());
            }
            return std::move(rows.front());
        });
    }

    core::Result<void> CreateTicket(SsoTicket t) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("INSERT INTO sso_tickets (token_hash, kind, user_id, provider,"
                                     " subject, email, created_at, expires_at)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
            return st.BindAll(t.token_hash, KindText(t.kind), t.user_id, t.provider, t.subject,
                              t.email, t.created_at, t.expires_at)
                .Run();
        });
    }

    core::Result<SsoTicket> ConsumeTicket(std::string_view token_hash, SsoTicketKind kind,
                                          std::int64_t now_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<SsoTicket> {
            HUB_SQL_ASSIGN(auto rows,
                           QueryRows<SsoTicket>(c, std::string(kSelectTicket),
                                                {std::string(token_hash), KindText(kind)},
                                                ReadTicket));
            if (rows.empty()) return NotFound("ticket");
            if (!rows.front().used_at) {
                HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE sso_tickets SET used_at = ?2"
                                                  " WHERE token_hash = ?1 AND used_at IS NULL"));
                HUB_SQL_TRY(st.BindAll(std::string(token_hash), now_ms).Run());
            }
            return std::move(rows.front());
        });
    }

    core::Result<std::int64_t> DeleteExpired(std::int64_t before_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<std::int64_t> {
            HUB_SQL_ASSIGN(Stmt a, c.Prepare("DELETE FROM oidc_states WHERE expires_at < ?1"));
            HUB_SQL_TRY(a.BindAll(before_ms).Run());
            std::int64_t n = c.Changes();
            HUB_SQL_ASSIGN(Stmt b, c.Prepare("DELETE FROM sso_tickets WHERE expires_at < ?1"));
            HUB_SQL_TRY(b.BindAll(before_ms).Run());
            return n + c.Changes();
        });
    }

private:
    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<IdentityStore> MakeIdentityStore(RepoContext ctx) {
    return std::make_unique<SqlIdentityStore>(ctx);
}

}  // namespace hub::store::sql
