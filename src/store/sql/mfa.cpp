#include "core/id.hpp"
#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

core::Error Conflict(std::string_view api_code, std::string_view message) {
    return core::Error::Make(core::ErrorCode::kConflict, std::string(api_code),
                             std::string(message));
}

class SqlMfaStore final : public MfaStore {
public:
    explicit SqlMfaStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<MfaState> Get(std::string_view user_id) override {
        return ctx_.db.Read([&](Connection& c) { return Load(c, user_id); });
    }

    core::Result<void> SetPending(std::string_view user_id, std::string_view secret_enc,
                                  std::int64_t now_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(MfaState s, Load(c, user_id));
            if (s.secret_enc) return Conflict("mfa_already_enabled", "TOTP is already on.");
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare(Upsert(ctx_.mysql(),
                                            "INSERT INTO user_mfa (user_id, pending_secret_enc,"
                                            " pending_created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                                            "user_id",
                                            "pending_secret_enc = excluded.pending_secret_enc,"
                                            " pending_created_at = excluded.pending_created_at,"
                                            " updated_at = excluded.updated_at")));
            st.Bind(1, user_id).BindBlob(2, secret_enc).Bind(3, now_ms);
            return st.Run();
        });
    }

    core::Result<void> Confirm(std::string_view user_id, std::int64_t step,
                               const std::vector<std::string>& code_hashes,
                               std::int64_t now_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(MfaState s, Load(c, user_id));
            if (s.secret_enc) return Conflict("mfa_already_enabled", "TOTP is already on.");
            if (!s.pending_secret_enc)
                return Conflict("no_pending_enrollment", "Start the TOTP enrollment first.");
            HUB_SQL_ASSIGN(Stmt u, c.Prepare("UPDATE users SET mfa_secret_enc = ?2, updated_at = ?3"
                                             " WHERE id = ?1"));
            HUB_SQL_TRY(u.Bind(1, user_id).BindBlob(2, *s.pending_secret_enc).Bind(3, now_ms).Run());
            HUB_SQL_ASSIGN(Stmt m, c.Prepare("UPDATE user_mfa SET pending_secret_enc = NULL,"
                                             " pending_created_at = NULL, enrolled_at = ?2,"
                                             " last_step = ?3, updated_at = ?2 WHERE user_id = ?1"));
            HUB_SQL_TRY(m.BindAll(user_id, now_ms, step).Run());
            return WriteCodes(c, user_id, code_hashes, now_ms);
        });
    }

    core::Result<bool> AdvanceStep(std::string_view user_id, std::int64_t step) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<bool> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE user_mfa SET last_step = ?2"
                                              " WHERE user_id = ?1 AND last_step < ?2"));
            HUB_SQL_TRY(st.BindAll(user_id, step).Run());
            return c.Changes() > 0;
        });
    }

    core::Result<bool> UseRecoveryCode(std::string_view user_id, std::string_view code_hash,
                                       std::int64_t now_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<bool> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE mfa_recovery_codes SET used_at = ?3"
                                              " WHERE user_id = ?1 AND code_hash = ?2"
                                              " AND used_at IS NULL"));
            HUB_SQL_TRY(st.BindAll(user_id, code_hash, now_ms).Run());
            return c.Changes() > 0;
        });
    }

    core::Result<void> ReplaceRecoveryCodes(std::string_view user_id,
                                            const std::vector<std::string>& code_hashes,
                                            std::int64_t now_ms) override {
        return ctx_.db.Write(
            [&](Connection& c) { return WriteCodes(c, user_id, code_hashes, now_ms); });
    }

    core::Result<void> Disable(std::string_view user_id) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt u, c.Prepare("UPDATE users SET mfa_secret_enc = NULL WHERE id = ?1"));
            HUB_SQL_TRY(u.BindAll(user_id).Run());
            if (c.Changes() == 0) return NotFound("user");
            for (const char* sql : {"DELETE FROM user_mfa WHERE user_id = ?1",
                                    "DELETE FROM mfa_recovery_codes WHERE user_id = ?1",
                                    "DELETE FROM mfa_tokens WHERE user_id = ?1"}) {
                HUB_SQL_ASSIGN(Stmt d, c.Prepare(sql));
                HUB_SQL_TRY(d.BindAll(user_id).Run());
            }
            return core::Ok();
        });
    }

    core::Result<void> CreateToken(const MfaToken& t) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("INSERT INTO mfa_tokens (token_hash, user_id, purpose,"
                                              " created_at, expires_at, failures) VALUES (?1, ?2,"
                                              " ?3, ?4, ?5, 0)"));
            return st.BindAll(t.token_hash, t.user_id, t.purpose, t.created_at, t.expires_at).Run();
        });
    }

    core::Result<MfaToken> GetToken(std::string_view token_hash) override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<MfaToken> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT token_hash, user_id, purpose, created_at,"
                                              " expires_at, used_at, failures FROM mfa_tokens"
                                              " WHERE token_hash = ?1"));
            st.BindAll(token_hash);
            HUB_SQL_ASSIGN(bool row, st.Step());
            if (!row) return NotFound("mfa_token");
            MfaToken t;
            t.token_hash = st.Text(0);
            t.user_id = st.Text(1);
            t.purpose = st.Text(2);
            t.created_at = st.Int(3);
            t.expires_at = st.Int(4);
            t.used_at = st.OptInt(5);
            t.failures = st.Int(6);
            return t;
        });
    }

    core::Result<bool> ConsumeToken(std::string_view token_hash, std::int64_t now_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<bool> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE mfa_tokens SET used_at = ?2"
                                              " WHERE token_hash = ?1 AND used_at IS NULL"
                                              " AND expires_at > ?2"));
            HUB_SQL_TRY(st.BindAll(token_hash, now_ms).Run());
            return c.Changes() > 0;
        });
    }

    core::Result<std::int64_t> AddTokenFailure(std::string_view token_hash) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<std::int64_t> {
            // The UPDATE holds the row until the transaction ends: the count read next is ours.
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE mfa_tokens SET failures = failures + 1"
                                              " WHERE token_hash = ?1"));
            HUB_SQL_TRY(st.BindAll(token_hash).Run());
            if (c.Changes() == 0) return NotFound("mfa_token");
            HUB_SQL_ASSIGN(Stmt read,
                           c.Prepare("SELECT failures FROM mfa_tokens WHERE token_hash = ?1"));
            HUB_SQL_ASSIGN(bool row, read.BindAll(token_hash).Step());
            if (!row) return NotFound("mfa_token");
            return read.Int(0);
        });
    }

    core::Result<std::int64_t> DeleteExpiredTokens(std::int64_t now_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<std::int64_t> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("DELETE FROM mfa_tokens WHERE expires_at < ?1"));
            HUB_SQL_TRY(st.BindAll(now_ms).Run());
            return c.Changes();
        });
    }

private:
    static core::Result<MfaState> Load(Connection& c, std::string_view user_id) {
        HUB_SQL_ASSIGN(Stmt st,
                       c.Prepare("SELECT u.mfa_secret_enc, m.pending_secret_enc,"
                                 " m.pending_created_at, m.enrolled_at, COALESCE(m.last_step, -1),"
                                 " (SELECT COUNT(*) FROM mfa_recovery_codes r"
                                 "   WHERE r.user_id = u.id AND r.used_at IS NULL)"
                                 " FROM users u LEFT JOIN user_mfa m ON m.user_id = u.id"
                                 " WHERE u.id = ?1"));
        st.BindAll(user_id);
        HUB_SQL_ASSIGN(bool row, st.Step());
        if (!row) return NotFound("user");
        MfaState s;
        s.secret_enc = st.OptBlob(0);
        s.pending_secret_enc = st.OptBlob(1);
        s.pending_created_at = st.OptInt(2);
        s.enrolled_at = st.OptInt(3);
        s.last_step = st.Int(4);
        s.recovery_codes_left = st.Int(5);
        return s;
    }

    static core::Result<void> WriteCodes(Connection& c, std::string_view user_id,
                                         const std::vector<std::string>& hashes,
                                         std::int64_t now_ms) {
        HUB_SQL_ASSIGN(Stmt d, c.Prepare("DELETE FROM mfa_recovery_codes WHERE user_id = ?1"));
        HUB_SQL_TRY(d.BindAll(user_id).Run());
        for (const auto& h : hashes) {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("INSERT INTO mfa_recovery_codes (id, user_id,"
                                              " code_hash, created_at) VALUES (?1, ?2, ?3, ?4)"));
            HUB_SQL_TRY(st.BindAll(core::NewIdAt(now_ms), user_id, h, now_ms).Run());
        }
        return core::Ok();
    }

    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<MfaStore> MakeMfaStore(RepoContext ctx) {
    return std::make_unique<SqlMfaStore>(ctx);
}

}  // namespace hub::store::sql
