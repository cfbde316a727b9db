#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

constexpr std::string_view kSelect =
    "SELECT u.id, u.username, u.email, u.password_hash, u.display_name, u.role, u.status,"
    " u.settings, u.mfa_secret_enc, u.created_at, u.updated_at, q.daily_tokens, q.rpm,"
    " q.tpm, q.monthly_tokens, q.daily_cost_micro_cny, q.monthly_cost_micro_cny"
    " FROM users u LEFT JOIN user_quotas q ON q.user_id = u.id";
constexpr std::string_view kCursorKind = "users";

User ReadUser(const Stmt& s) {
    User u;
    u.id = s.Text(0);
    u.username = s.Text(1);
    u.email = s.Text(2);
    u.password_hash = s.Text(3);
    u.display_name = s.Text(4);
    u.role = s.Text(5);
    u.status = ParseUserStatus(s.Text(6)).value_or(UserStatus::kDisabled);
    u.settings = s.Text(7);
    u.mfa_secret_enc = s.OptBlob(8);
    u.created_at = s.Int(9);
    u.updated_at = s.Int(10);
    u.quota.daily_tokens = s.OptInt(11);
    u.quota.rpm = s.OptInt(12);
    u.quota.tpm = s.OptInt(13);
    u.quota.monthly_tokens = s.OptInt(14);
    u.quota.daily_cost_micro_cny = s.OptInt(15);
    u.quota.monthly_cost_micro_cny = s.OptInt(16);
    return u;
}

core::Error MapWriteError(core::Error e) {
    if (e.api_code == "invalid_reference") {
        e.api_code = "unknown_role";
        e.public_message = "the role does not exist";
        return e;
    }
    return RefineConflict(std::move(e),
                          {{"users.username", "username_taken", "the username is taken"},
                           {"users.email", "email_taken", "the email is already registered"}});
}

core::Result<User> GetOn(Connection& c, std::string_view id) {
    static const std::string sql = std::string(kSelect) + " WHERE u.id = ?1";
    HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
    st.BindAll(id);
    HUB_SQL_ASSIGN(bool row, st.Step());
    if (!row) return NotFound("user");
    return ReadUser(st);
}

core::Result<void> UpsertQuota(Connection& c, std::string_view user_id, const UserQuota& q,
                               std::int64_t now) {
    HUB_SQL_ASSIGN(Stmt st,
                   c.Prepare(Upsert(c.dialect() == Dialect::kMysql,
                             "INSERT INTO user_quotas (user_id, daily_tokens, rpm, updated_at, tpm,"
                             " monthly_tokens, daily_cost_micro_cny, monthly_cost_micro_cny)"
                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", "user_id",
                             "daily_tokens = excluded.daily_tokens, rpm = excluded.rpm,"
                             " updated_at = excluded.updated_at, tpm = excluded.tpm,"
                             " monthly_tokens = excluded.monthly_tokens,"
                             " daily_cost_micro_cny = excluded.daily_cost_micro_cny,"
                             " monthly_cost_micro_cny = excluded.monthly_cost_micro_cny")));
    return st.BindAll(user_id, q.daily_tokens, q.rpm, now, q.tpm, q.monthly_tokens,
                      q.daily_cost_micro_cny, q.monthly_cost_micro_cny)
        .Run();
}

bool IsActiveAdmin(const User& u) {
    return u.role == kRoleAdmin && u.status == UserStatus::kActive;
}

class SqlUserStore final : public UserStore {
public:
    explicit SqlUserStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<User> Create(User user) override {
        std::int64_t now = ctx_.clock.NowMs();
        FillTime(user.created_at, now);
        FillTime(user.updated_at, user.created_at);
        FillId(user.id, user.created_at);
        auto r = ctx_.db.Write([&](Connection& c) -> core::Result<User> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("INSERT INTO users (id, username, email, password_hash,"
                                     " display_name, role, status, settings, mfa_secret_enc,"
                                     " created_at, updated_at)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
            st.BindAll(user.id, user.username, user.email, user.password_hash, user.display_name,
                       user.role, ToString(user.status), user.settings);
            st.BindBlob(9, user.mfa_secret_enc).Bind(10, user.created_at).Bind(11, user.updated_at);
            HUB_SQL_TRY(st.Run());
            if (!user.quota.empty()) {
                HUB_SQL_TRY(UpsertQuota(c, user.id, user.quota, now));
            }
            return GetOn(c, user.id);
        });
        if (!r.ok()) return MapWriteError(r.error());
        return r;
    }

    core::Result<User> Get(std::string_view id) override {
        return ctx_.db.Read([&](Connection& c) { return GetOn(c, id); });
    }

    core::Result<User> FindByLogin(std::string_view login) override {
        static const std::string sql = std::string(kSelect) +
                                       " WHERE u.username = ?1 OR u.email = ?1"
                                       " ORDER BY u.username = ?1 DESC LIMIT 1";
        return ctx_.db.Read([&](Connection& c) -> core::Result<User> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            st.BindAll(login);
            HUB_SQL_ASSIGN(bool row, st.Step());
            if (!row) return NotFound("user");
            return ReadUser(st);
        });
    }

    core::Result<User> Update(std::string_view id, const UserPatch& p) override {
        std::int64_t now = ctx_.clock.NowMs();
        auto r = ctx_.db.Write([&](Connection& c) -> core::Result<User> {
            HUB_SQL_ASSIGN(User before, GetOn(c, id));
            HUB_SQL_ASSIGN(
                Stmt st,
                c.Prepare("UPDATE users SET display_name = coalesce(?2, display_name),"
                          " email = coalesce(?3, email), settings = coalesce(?4, settings),"
                          " password_hash = coalesce(?5, password_hash),"
                          " role = coalesce(?6, role), status = coalesce(?7, status),"
                          " mfa_secret_enc = CASE WHEN ?8 THEN ?9 ELSE mfa_secret_enc END,"
                          " updated_at = ?10 WHERE id = ?1"));
            std::optional<std::string> status;
            if (p.status) status = std::string(ToString(*p.status));
            st.BindAll(id, p.display_name, p.email, p.settings, p.password_hash, p.role, status,
                       p.mfa_secret_enc.has_value());
            st.BindBlob(9, p.mfa_secret_enc ? *p.mfa_secret_enc : std::nullopt);
            st.Bind(10, now);
            HUB_SQL_TRY(st.Run());
            if (p.quota) HUB_SQL_TRY(UpsertQuota(c, id, *p.quota, now));
            HUB_SQL_ASSIGN(User after, GetOn(c, id));
            if (p.keep_an_active_admin && IsActiveAdmin(before) && !IsActiveAdmin(after)) {
                HUB_SQL_ASSIGN(std::int64_t admins, CountActiveAdminsOn(c));
                if (admins == 0) {
                    return core::Error::Make(core::ErrorCode::kConflict, "last_admin",
                                             "the last active admin cannot be demoted or"
                                             " disabled");
                }
            }
            return after;
        });
        if (!r.ok()) return MapWriteError(r.error());
        return r;
    }

    core::Result<Page<User>> List(const UserQuery& q) override {
        int limit = ClampLimit(q.page.limit);
        Where w;
        HUB_SQL_TRY(AddCursorBefore(w, "(u.created_at, u.id)", kCursorKind, q.page.cursor, 1));
        if (!q.q.empty()) {
            std::string like = LikePattern(q.q);
            w.And(
                "(u.username LIKE ? ESCAPE '\\' OR u.email LIKE ? ESCAPE '\\'"
                " OR u.display_name LIKE ? ESCAPE '\\')",
                like, like, like);
        }
        if (q.role) w.And("u.role = ?", *q.role);
        if (q.status) w.And("u.status = ?", std::string(ToString(*q.status)));
        w.params().emplace_back(std::int64_t{limit} + 1);
        std::string sql =
            std::string(kSelect) + w.sql() + " ORDER BY u.created_at DESC, u.id DESC LIMIT ?";
        return ctx_.db.Read([&](Connection& c) -> core::Result<Page<User>> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            st.BindParams(w.params());
            std::vector<User> rows;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                rows.push_back(ReadUser(st));
            }
            return MakePage(std::move(rows), limit, kCursorKind, [](const User& u) {
                return CursorKey{{u.created_at}, u.id};
            });
        });
    }

    core::Result<ErasedUser> Erase(std::string_view id, std::string_view tombstone_id) override {
        const std::string uid(id);
        const std::string tomb(tombstone_id);
        return ctx_.db.Write([&](Connection& c) -> core::Result<ErasedUser> {
            HUB_SQL_ASSIGN(User before, GetOn(c, uid));
            if (IsActiveAdmin(before)) {
                HUB_SQL_ASSIGN(std::int64_t admins, CountActiveAdminsOn(c));
                if (admins <= 1) {
                    return core::Error::Make(core::ErrorCode::kConflict, "last_admin",
                                             "The last active admin cannot be deleted; make "
                                             "another user an admin first.");
                }
            }
            ErasedUser out;
            auto column = [&](std::string_view sql,
                              std::vector<std::string>& into) -> core::Result<void> {
                HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
                st.BindAll(uid);
                while (true) {
                    HUB_SQL_ASSIGN(bool row, st.Step());
                    if (!row) break;
                    into.push_back(st.Text(0));
                }
                return core::Ok();
            };
            HUB_SQL_TRY(column("SELECT id FROM sessions WHERE user_id = ?1", out.session_ids));
            HUB_SQL_TRY(column("SELECT file_path FROM images"
                               " WHERE user_id = ?1 AND file_path <> ''"
                               " UNION SELECT file_path FROM uploads WHERE user_id = ?1",
                               out.file_paths));
            HUB_SQL_TRY(column("SELECT file_path FROM data_exports"
                               " WHERE user_id = ?1 AND file_path <> ''",
                               out.export_files));
            HUB_SQL_ASSIGN(Stmt calls,
                           c.Prepare("UPDATE api_calls SET user_id = ?2 WHERE user_id = ?1"));
            HUB_SQL_TRY(calls.BindAll(uid, tomb).Run());
            out.api_calls_anonymised = c.Changes();
            // images.user_id has no foreign key (its generation's has): delete them first.
            HUB_SQL_ASSIGN(Stmt images, c.Prepare("DELETE FROM images WHERE user_id = ?1"));
            HUB_SQL_TRY(images.BindAll(uid).Run());
            // Everything else goes with the user row (ON DELETE CASCADE).
            HUB_SQL_ASSIGN(Stmt del, c.Prepare("DELETE FROM users WHERE id = ?1"));
            HUB_SQL_TRY(del.BindAll(uid).Run());
            if (c.Changes() == 0) return NotFound("user");
            return out;
        });
    }

    core::Result<std::int64_t> CountActiveAdmins() override {
        return ctx_.db.Read([&](Connection& c) { return CountActiveAdminsOn(c); });
    }

    core::Result<std::vector<std::pair<std::string, UserQuota>>> ListQuotas() override {
        using Rows = std::vector<std::pair<std::string, UserQuota>>;
        return ctx_.db.Read([&](Connection& c) -> core::Result<Rows> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("SELECT user_id, daily_tokens, rpm, tpm, monthly_tokens,"
                                     " daily_cost_micro_cny, monthly_cost_micro_cny"
                                     " FROM user_quotas"));
            Rows out;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                UserQuota q{st.OptInt(1), st.OptInt(2), st.OptInt(3),
                            st.OptInt(4), st.OptInt(5), st.OptInt(6)};
                if (!q.empty()) out.emplace_back(st.Text(0), q);
            }
            return out;
        });
    }

private:
    static core::Result<std::int64_t> CountActiveAdminsOn(Connection& c) {
        HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT count(*) FROM users"
                                          " WHERE role = 'admin' AND status = 'active'"));
        HUB_SQL_TRY(st.Step());
        return st.Int(0);
    }

    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<UserStore> MakeUserStore(RepoContext ctx) {
    return std::make_unique<SqlUserStore>(ctx);
}

}  // namespace hub::store::sql
