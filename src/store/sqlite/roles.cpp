#include "store/sqlite/repos.hpp"

namespace hub::store::sqlite {

namespace {

class SqliteRoleStore final : public RoleStore {
public:
    explicit SqliteRoleStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<std::vector<Role>> List() override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::vector<Role>> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("SELECT r.name, r.description, rp.permission FROM roles r"
                                     " LEFT JOIN role_permissions rp ON rp.role = r.name"
                                     " ORDER BY r.name, rp.permission"));
            std::vector<Role> roles;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                std::string name = st.Text(0);
                if (roles.empty() || roles.back().name != name) {
                    roles.push_back(Role{std::move(name), st.Text(1), {}});
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
        });
    }

private:
    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<RoleStore> MakeRoleStore(RepoContext ctx) {
    return std::make_unique<SqliteRoleStore>(ctx);
}

}  // namespace hub::store::sqlite
