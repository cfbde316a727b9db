#include "store/signing_keys.hpp"

#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

class SqlSigningKeyStore final : public SigningKeyStore {
public:
    explicit SqlSigningKeyStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<std::optional<SealedKeyRing>> Get() override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::optional<SealedKeyRing>> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT ring_sealed, version, updated_at"
                                              " FROM signing_keys WHERE id = 1"));
            HUB_SQL_ASSIGN(bool row, st.Step());
            if (!row) return std::optional<SealedKeyRing>();
            return std::optional<SealedKeyRing>(SealedKeyRing{st.Text(0), st.Int(1), st.Int(2)});
        });
    }

    core::Result<std::int64_t> Version() override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::int64_t> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT version FROM signing_keys WHERE id = 1"));
            HUB_SQL_ASSIGN(bool row, st.Step());
            return row ? st.Int(0) : std::int64_t{0};
        });
    }

    core::Result<bool> CreateFirst(std::string_view sealed, std::int64_t now_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<bool> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("INSERT INTO signing_keys (id, ring_sealed, version,"
                                              " updated_at) VALUES (1, ?1, 1, ?2)"));
            auto done = st.Bind(1, sealed).Bind(2, now_ms).Run();
            // Two hubs starting together on an empty database: the second finds the row.
            if (!done.ok() && done.error().code == core::ErrorCode::kConflict) return false;
            if (!done.ok()) return done.error();
            return true;
        });
    }

    core::Result<bool> Replace(std::string_view sealed, std::int64_t expected_version,
                               std::int64_t now_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<bool> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE signing_keys SET ring_sealed = ?1,"
                                              " version = version + 1, updated_at = ?3"
                                              " WHERE id = 1 AND version = ?2"));
            HUB_SQL_TRY(st.BindAll(sealed, expected_version, now_ms).Run());
            return c.Changes() > 0;
        });
    }

private:
    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<SigningKeyStore> MakeSigningKeyStore(RepoContext ctx) {
    return std::make_unique<SqlSigningKeyStore>(ctx);
}

}  // namespace hub::store::sql
