#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

constexpr std::string_view kSelect =
    "SELECT id, user_id, credential_id, public_key, alg, sign_count, name, transports,"
    " created_at, last_used_at FROM passkeys";

Passkey ReadPasskey(const Stmt& s) {
    Passkey p;
    p.id = s.Text(0);
    p.user_id = s.Text(1);
    p.credential_id = s.Blob(2);
    p.public_key = s.Blob(3);
    p.alg = static_cast<int>(s.Int(4));
    p.sign_count = s.Int(5);
    p.name = s.Text(6);
    p.transports = s.Text(7);
    p.created_at = s.Int(8);
    p.last_used_at = s.OptInt(9);
    return p;
}

class SqlPasskeyStore final : public PasskeyStore {
public:
    explicit SqlPasskeyStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<Passkey> Create(Passkey p) override {
        FillTime(p.created_at, ctx_.clock.NowMs());
        FillId(p.id, p.created_at);
        return ctx_.db.Write([&](Connection& c) -> core::Result<Passkey> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("INSERT INTO passkeys (id, user_id, credential_id,"
                                              " public_key, alg, sign_count, name, transports,"
                                              " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                                              " ?8, ?9)"));
            st.BindAll(p.id, p.user_id, nullptr, nullptr, p.alg, p.sign_count, p.name,
                       p.transports, p.created_at);
            st.BindBlob(3, p.credential_id).BindBlob(4, p.public_key);
            auto r = st.Run();
            if (!r.ok()) {
                return RefineConflict(r.error(), {{"passkeys.credential_id", "passkey_exists",
                                                   "This passkey is already registered."}});
            }
            return p;
        });
    }

    core::Result<std::vector<Passkey>> ListByUser(std::string_view user_id) override {
        static const std::string sql =
            std::string(kSelect) + " WHERE user_id = ? ORDER BY created_at, id";
        std::vector<Param> params{std::string(user_id)};
        return ctx_.db.Read([&](Connection& c) {
            return QueryRows<Passkey>(c, sql, params, ReadPasskey);
        });
    }

    core::Result<Passkey> Get(std::string_view user_id, std::string_view id) override {
        static const std::string sql = std::string(kSelect) + " WHERE id = ? AND user_id = ?";
        std::vector<Param> params{std::string(id), std::string(user_id)};
        return One(sql, params);
    }

    core::Result<Passkey> GetByCredentialId(std::string_view credential_id) override {
        static const std::string sql = std::string(kSelect) + " WHERE credential_id = ?1";
        std::string cred(credential_id);
        return ctx_.db.Read([&](Connection& c) -> core::Result<Passkey> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            st.BindBlob(1, cred);
            HUB_SQL_ASSIGN(bool row, st.Step());
            if (!row) return NotFound("passkey");
            return ReadPasskey(st);
        });
    }

    core::Result<Passkey> Rename(std::string_view user_id, std::string_view id,
                                 std::string name) override {
        std::string uid(user_id), pid(id);
        auto r = ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("UPDATE passkeys SET name = ?1 WHERE id = ?2 AND user_id = ?3"));
            HUB_SQL_TRY(st.BindAll(name, pid, uid).Run());
            if (c.Changes() == 0) return NotFound("passkey");
            return core::Ok();
        });
        if (!r.ok()) return r.error();
        return Get(uid, pid);
    }

    core::Result<void> Delete(std::string_view user_id, std::string_view id) override {
        std::string uid(user_id), pid(id);
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("DELETE FROM passkeys WHERE id = ?1 AND user_id = ?2"));
            HUB_SQL_TRY(st.BindAll(pid, uid).Run());
            if (c.Changes() == 0) return NotFound("passkey");
            return core::Ok();
        });
    }

    core::Result<void> RecordUse(std::string_view id, std::int64_t seen_count,
                                 std::int64_t new_count, std::int64_t at_ms) override {
        std::string pid(id);
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE passkeys SET sign_count = ?1, last_used_at = ?2"
                                              " WHERE id = ?3 AND sign_count = ?4"));
            HUB_SQL_TRY(st.BindAll(new_count, at_ms, pid, seen_count).Run());
            if (c.Changes() == 0) {
                return core::Error::Make(core::ErrorCode::kConflict, "sign_count_changed",
                                         "The passkey was used meanwhile; try again.");
            }
            return core::Ok();
        });
    }

    core::Result<void> CreateChallenge(WebAuthnChallenge ch) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("INSERT INTO webauthn_challenges (challenge_hash,"
                                              " purpose, user_id, created_at, expires_at)"
                                              " VALUES (?1, ?2, ?3, ?4, ?5)"));
            HUB_SQL_TRY(st.BindAll(ch.challenge_hash, ch.purpose, ch.user_id, ch.created_at,
                                   ch.expires_at)
                            .Run());
            return core::Ok();
        });
    }

    core::Result<WebAuthnChallenge> ConsumeChallenge(std::string_view challenge_hash,
                                                     std::string_view purpose,
                                                     std::int64_t now_ms) override {
        std::string hash(challenge_hash), kind(purpose);
        return ctx_.db.Write([&](Connection& c) -> core::Result<WebAuthnChallenge> {
            // A conditional UPDATE: two requests racing with the same challenge cannot both
            // win; the row stays the winner's until the transaction ends.
            HUB_SQL_ASSIGN(Stmt use,
                           c.Prepare("UPDATE webauthn_challenges SET used_at = ?1"
                                     " WHERE challenge_hash = ?2 AND purpose = ?3"
                                     " AND used_at IS NULL AND expires_at > ?1"));
            HUB_SQL_TRY(use.BindAll(now_ms, hash, kind).Run());
            if (c.Changes() == 0) return NotFound("challenge");
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("SELECT challenge_hash, purpose, user_id, created_at,"
                                     " expires_at, used_at FROM webauthn_challenges"
                                     " WHERE challenge_hash = ?1 AND purpose = ?2"));
            st.BindAll(hash, kind);
            HUB_SQL_ASSIGN(bool row, st.Step());
            if (!row) return NotFound("challenge");
            WebAuthnChallenge ch;
            ch.challenge_hash = st.Text(0);
            ch.purpose = st.Text(1);
            ch.user_id = st.OptText(2);
            ch.created_at = st.Int(3);
            ch.expires_at = st.Int(4);
            ch.used_at = st.OptInt(5);
            HUB_SQL_TRY(st.Run());
            return ch;
        });
    }

    core::Result<std::int64_t> PruneChallenges(std::int64_t before_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<std::int64_t> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("DELETE FROM webauthn_challenges WHERE expires_at < ?1"));
            HUB_SQL_TRY(st.BindAll(before_ms).Run());
            return c.Changes();
        });
    }

private:
    core::Result<Passkey> One(const std::string& sql, const std::vector<Param>& params) {
        return ctx_.db.Read([&](Connection& c) -> core::Result<Passkey> {
            HUB_SQL_ASSIGN(std::vector<Passkey> rows, QueryRows<Passkey>(c, sql, params, ReadPasskey));
            if (rows.empty()) return NotFound("passkey");
            return std::move(rows.front());
        });
    }

    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<PasskeyStore> MakePasskeyStore(RepoContext ctx) {
    return std::make_unique<SqlPasskeyStore>(ctx);
}

}  // namespace hub::store::sql
