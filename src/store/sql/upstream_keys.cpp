#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

constexpr std::string_view kSelect =
    "SELECT id, name, secret_enc, last4, status, weight, cooldown_until, created_at, rotated_at"
    " FROM upstream_keys";

UpstreamKey ReadKey(const Stmt& s) {
    UpstreamKey k;
    k.id = s.Text(0);
    k.name = s.Text(1);
    k.secret_enc = s.Blob(2);
    k.last4 = s.Text(3);
    k.status = ParseUpstreamKeyStatus(s.Text(4)).value_or(UpstreamKeyStatus::kDisabled);
    k.weight = s.Int(5);
    k.cooldown_until = s.OptInt(6);
    k.created_at = s.Int(7);
    k.rotated_at = s.OptInt(8);
    return k;
}

core::Result<UpstreamKey> GetOn(Connection& c, std::string_view id) {
    static const std::string sql = std::string(kSelect) + " WHERE id = ?1";
    HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
    HUB_SQL_ASSIGN(bool row, st.BindAll(id).Step());
    if (!row) return NotFound("upstream_key");
    return ReadKey(st);
}

core::Error MapWriteError(const core::Error& e) {
    return RefineConflict(e, {{"upstream_keys.name", "upstream_key_name_taken",
                               "an upstream key with this name exists"}});
}

class SqlUpstreamKeyStore final : public UpstreamKeyStore {
public:
    explicit SqlUpstreamKeyStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<UpstreamKey> Create(UpstreamKey k) override {
        FillTime(k.created_at, ctx_.clock.NowMs());
        FillId(k.id, k.created_at);
        auto r = ctx_.db.Write([&](Connection& c) -> core::Result<UpstreamKey> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("INSERT INTO upstream_keys (id, name, secret_enc, last4,"
                                     " status, weight, cooldown_until, created_at, rotated_at)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
            st.BindAll(k.id, k.name).BindBlob(3, k.secret_enc);
            st.Bind(4, k.last4).Bind(5, ToString(k.status)).Bind(6, k.weight);
            st.Bind(7, k.cooldown_until).Bind(8, k.created_at).Bind(9, k.rotated_at);
            HUB_SQL_TRY(st.Run());
            return k;
        });
        if (!r.ok()) return MapWriteError(r.error());
        return r;
    }

    core::Result<UpstreamKey> Get(std::string_view id) override {
        return ctx_.db.Read([&](Connection& c) { return GetOn(c, id); });
    }

    core::Result<std::vector<UpstreamKey>> List() override {
        static const std::string sql = std::string(kSelect) + " ORDER BY created_at, id";
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::vector<UpstreamKey>> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            std::vector<UpstreamKey> out;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                out.push_back(ReadKey(st));
            }
            return out;
        });
    }

    core::Result<UpstreamKey> Update(std::string_view id, const UpstreamKeyPatch& p) override {
        std::int64_t now = ctx_.clock.NowMs();
        auto r = ctx_.db.Write([&](Connection& c) -> core::Result<UpstreamKey> {
            HUB_SQL_ASSIGN(
                Stmt st,
                c.Prepare("UPDATE upstream_keys SET name = coalesce(?2, name),"
                          " status = coalesce(?3, status), weight = coalesce(?4, weight),"
                          " cooldown_until = CASE WHEN ?5 THEN ?6 ELSE cooldown_until END,"
                          " secret_enc = coalesce(?7, secret_enc), last4 = coalesce(?8, last4),"
                          " rotated_at = CASE WHEN ?7 IS NULL THEN rotated_at ELSE ?9 END"
                          " WHERE id = ?1"));
            std::optional<std::string> status;
            if (p.status) status = std::string(ToString(*p.status));
            st.BindAll(id, p.name, status, p.weight, p.cooldown_until.has_value(),
                       p.cooldown_until ? *p.cooldown_until : std::nullopt);
            std::optional<std::string> secret, last4;
            if (p.secret) {
                secret = p.secret->secret_enc;
                last4 = p.secret->last4;
            }
            st.BindBlob(7, secret).Bind(8, last4).Bind(9, now);
            HUB_SQL_TRY(st.Run());
            if (c.Changes() == 0) return NotFound("upstream_key");
            return GetOn(c, id);
        });
        if (!r.ok()) return MapWriteError(r.error());
        return r;
    }

    core::Result<void> Delete(std::string_view id) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("DELETE FROM upstream_keys WHERE id = ?1"));
            HUB_SQL_TRY(st.BindAll(id).Run());
            if (c.Changes() == 0) return NotFound("upstream_key");
            return core::Ok();
        });
    }

private:
    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<UpstreamKeyStore> MakeUpstreamKeyStore(RepoContext ctx) {
    return std::make_unique<SqlUpstreamKeyStore>(ctx);
}

}  // namespace hub::store::sql
