#include <nlohmann/json.hpp>

#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

std::vector<std::string> ParseModels(std::string_view text) {
    std::vector<std::string> out;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& v : j)
        if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

class SqlRoleStore final : public RoleStore {
public:
    explicit SqlRoleStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<std::vector<Role>> List() override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::vector<Role>> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT r.name, r.description, rp.permission,"
                                              " r.models, r.mfa_required, r.builtin FROM roles r"
                                              " LEFT JOIN role_permissions rp ON rp.role = r.name"
                                              " ORDER BY r.name, rp.permission"));
            std::vector<Role> roles;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                std::string name = st.Text(0);
                if (roles.empty() || roles.back().name != name) {
                    Role r{std::move(name), st.Text(1), {}};
                    r.models = ParseModels(st.TextView(3));
                    r.mfa_required = st.Bool(4);
                    r.builtin = st.Bool(5);
                    roles.push_back(std::move(r));
                }
                if (!st.IsNull(2)) roles.back().permissions.push_back(st.Text(2));
            }
            return roles;
        });
    }

    core::Result<std::vector<std::string>> PermissionsOf(std::string_view role) override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::vector<std::string>> {
            HUB_SQL_ASSIGN(Stmt exists, c.Prepare("SELECT 1 FROM roles WHERE name = ?1"));
            HUB_SQL_ASSIGN(bool found, exists.BindAll(role).Step());
            if (!found) return NotFound("role");
            return ReadPermissions(c, role);
        });
    }

    core::Result<Role> Create(const Role& role) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<Role> {
            HUB_SQL_ASSIGN(Stmt exists, c.Prepare("SELECT 1 FROM roles WHERE name = ?1"));
            HUB_SQL_ASSIGN(bool found, exists.BindAll(role.name).Step());
            if (found) {
                return core::Error::Make(core::ErrorCode::kConflict, "role_exists",
                                         "A role with this name already exists.");
            }
            HUB_SQL_ASSIGN(Stmt ins, c.Prepare("INSERT INTO roles (name, description, models,"
                                               " mfa_required, builtin)"
                                               " VALUES (?1, ?2, ?3, ?4, 0)"));
            HUB_SQL_TRY(ins.BindAll(role.name, role.description,
                                    nlohmann::json(role.models).dump(), role.mfa_required)
                            .Run());
            HUB_SQL_TRY(WritePermissions(c, role.name, role.permissions));
            return ReadRole(c, role.name);
        });
    }

    core::Result<Role> Update(const Role& role) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<Role> {
            HUB_SQL_ASSIGN(Stmt up, c.Prepare("UPDATE roles SET description = ?2, models = ?3,"
                                              " mfa_required = ?4 WHERE name = ?1"));
            HUB_SQL_TRY(up.BindAll(role.name, role.description,
                                   nlohmann::json(role.models).dump(), role.mfa_required)
                            .Run());
            if (c.Changes() == 0) return NotFound("role");
            HUB_SQL_ASSIGN(Stmt del, c.Prepare("DELETE FROM role_permissions WHERE role = ?1"));
            HUB_SQL_TRY(del.BindAll(role.name).Run());
            HUB_SQL_TRY(WritePermissions(c, role.name, role.permissions));
            return ReadRole(c, role.name);
        });
    }

    core::Result<void> Delete(std::string_view name) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt get, c.Prepare("SELECT builtin FROM roles WHERE name = ?1"));
            HUB_SQL_ASSIGN(bool found, get.BindAll(name).Step());
            if (!found) return NotFound("role");
            if (get.Bool(0)) {
                return core::Error::Make(core::ErrorCode::kConflict, "role_builtin",
                                         "Built-in roles cannot be deleted.");
            }
            HUB_SQL_ASSIGN(Stmt used, c.Prepare("SELECT count(*) FROM users WHERE role = ?1"));
            HUB_SQL_TRY(used.BindAll(name).Step());
            if (std::int64_t n = used.Int(0); n > 0) {
                return core::Error::Make(core::ErrorCode::kConflict, "role_in_use",
                                         "The role is still given to " + std::to_string(n) +
                                             " user(s); give them another role first.");
            }
            HUB_SQL_ASSIGN(Stmt del, c.Prepare("DELETE FROM roles WHERE name = ?1"));
            HUB_SQL_TRY(del.BindAll(name).Run());
            return core::Ok();
        });
    }

private:
    static core::Result<std::vector<std::string>> ReadPermissions(Connection& c,
                                                                  std::string_view role) {
        HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT permission FROM role_permissions"
                                          " WHERE role = ?1 ORDER BY permission"));
        st.BindAll(role);
        std::vector<std::string> perms;
        while (true) {
            HUB_SQL_ASSIGN(bool row, st.Step());
            if (!row) break;
            perms.push_back(st.Text(0));
        }
        return perms;
    }

    static core::Result<void> WritePermissions(Connection& c, const std::string& role,
                                               const std::vector<std::string>& perms) {
        const bool mysql = c.dialect() == Dialect::kMysql;
        for (const auto& p : perms) {
            HUB_SQL_ASSIGN(Stmt ins,
                           c.Prepare(mysql ? "INSERT INTO role_permissions (role, permission)"
                                             " VALUES (?1, ?2) ON DUPLICATE KEY UPDATE role = role"
                                           : "INSERT OR IGNORE INTO role_permissions"
                                             " (role, permission) VALUES (?1, ?2)"));
            HUB_SQL_TRY(ins.BindAll(role, p).Run());
        }
        return core::Ok();
    }

    static core::Result<Role> ReadRole(Connection& c, std::string_view name) {
        HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT name, description, models, mfa_required,"
                                          " builtin FROM roles WHERE name = ?1"));
        HUB_SQL_ASSIGN(bool found, st.BindAll(name).Step());
        if (!found) return NotFound("role");
        Role r{st.Text(0), st.Text(1), {}};
        r.models = ParseModels(st.TextView(2));
        r.mfa_required = st.Bool(3);
        r.builtin = st.Bool(4);
        HUB_SQL_ASSIGN(r.permissions, ReadPermissions(c, name));
        return r;
    }

    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<RoleStore> MakeRoleStore(RepoContext ctx) {
    return std::make_unique<SqlRoleStore>(ctx);
}

}  // namespace hub::store::sql
