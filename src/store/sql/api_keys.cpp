#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

constexpr std::string_view kSelect =
    "SELECT id, user_id, name, key_hash, prefix, scopes, expires_at, last_used_at, created_at,"
    " revoked_at, models, rpm, tpm FROM api_keys";

ApiKey ReadKey(const Stmt& s) {
    ApiKey k;
    k.id = s.Text(0);
    k.user_id = s.Text(1);
    k.name = s.Text(2);
    k.key_hash = s.Text(3);
    k.prefix = s.Text(4);
    k.scopes = s.Text(5);
    k.expires_at = s.OptInt(6);
    k.last_used_at = s.OptInt(7);
    k.created_at = s.Int(8);
    k.revoked_at = s.OptInt(9);
    k.models = s.Text(10);
    k.rpm = s.OptInt(11);
    k.tpm = s.OptInt(12);
    return k;
}

core::Result<ApiKey> QueryOne(Connection& c, const std::string& sql,
                              const std::vector<Param>& params) {
    HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
    HUB_SQL_ASSIGN(bool row, st.BindParams(params).Step());
    if (!row) return NotFound("api_key");
    return ReadKey(st);
}

class SqlApiKeyStore final : public ApiKeyStore {
public:
    explicit SqlApiKeyStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<ApiKey> Create(ApiKey k) override {
        FillTime(k.created_at, ctx_.clock.NowMs());
        FillId(k.id, k.created_at);
        return ctx_.db.Write([&](Connection& c) -> core::Result<ApiKey> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("INSERT INTO api_keys (id, user_id, name, key_hash, prefix,"
                                     " scopes, expires_at, last_used_at, created_at, revoked_at,"
                                     " models)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
            HUB_SQL_TRY(st.BindAll(k.id, k.user_id, k.name, k.key_hash, k.prefix, k.scopes,
                                   k.expires_at, k.last_used_at, k.created_at, k.revoked_at,
                                   k.models)
                            .Run());
            return k;
        });
    }

    core::Result<ApiKey> GetByHash(std::string_view key_hash) override {
        static const std::string sql = std::string(kSelect) + " WHERE key_hash = ?";
        return ctx_.db.Read(
            [&](Connection& c) { return QueryOne(c, sql, {std::string(key_hash)}); });
    }

    core::Result<ApiKey> Get(std::string_view user_id, std::string_view id) override {
        static const std::string sql = std::string(kSelect) + " WHERE id = ? AND user_id = ?";
        return ctx_.db.Read([&](Connection& c) {
            return QueryOne(c, sql, {std::string(id), std::string(user_id)});
        });
    }

    core::Result<std::vector<ApiKey>> ListByUser(std::string_view user_id,
                                                 bool include_revoked) override {
        std::string sql = std::string(kSelect) + " WHERE user_id = ?1" +
                          (include_revoked ? "" : " AND revoked_at IS NULL") +
                          " ORDER BY created_at DESC, id DESC";
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::vector<ApiKey>> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            st.BindAll(user_id);
            std::vector<ApiKey> out;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                out.push_back(ReadKey(st));
            }
            return out;
        });
    }

    core::Result<void> Revoke(std::string_view user_id, std::string_view id) override {
        std::int64_t now = ctx_.clock.NowMs();
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE api_keys SET revoked_at ="
                                              " coalesce(revoked_at, ?3)"
                                              " WHERE id = ?1 AND user_id = ?2"));
            HUB_SQL_TRY(st.BindAll(id, user_id, now).Run());
            if (c.Changes() == 0) return NotFound("api_key");
            return core::Ok();
        });
    }

    core::Result<ApiKey> SetLimits(std::string_view user_id, std::string_view id,
                                   std::optional<std::int64_t> rpm,
                                   std::optional<std::int64_t> tpm) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<ApiKey> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE api_keys SET rpm = ?3, tpm = ?4"
                                              " WHERE id = ?1 AND user_id = ?2"));
            HUB_SQL_TRY(st.BindAll(id, user_id, rpm, tpm).Run());
            if (c.Changes() == 0) return NotFound("api_key");
            static const std::string sql = std::string(kSelect) + " WHERE id = ? AND user_id = ?";
            return QueryOne(c, sql, {std::string(id), std::string(user_id)});
        });
    }

    core::Result<void> Touch(std::string_view id, std::int64_t at_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE api_keys SET last_used_at ="
                                              " CASE WHEN coalesce(last_used_at, 0) > ?2 THEN last_used_at ELSE ?2 END"
                                              " WHERE id = ?1"));
            HUB_SQL_TRY(st.BindAll(id, at_ms).Run());
            if (c.Changes() == 0) return NotFound("api_key");
            return core::Ok();
        });
    }

private:
    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<ApiKeyStore> MakeApiKeyStore(RepoContext ctx) {
    return std::make_unique<SqlApiKeyStore>(ctx);
}

}  // namespace hub::store::sql
