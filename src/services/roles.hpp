#pragma once
// Roles as data: admins create, edit and delete roles from the permissions the code knows
// (auth::AllPermissions), with a model allow-list and an MFA switch per role. Every write is
// audited (role.created / role.updated / role.deleted) and reloads the live role table, so
// the next request of every member sees the change.
#include <optional>
#include <string>
#include <vector>

#include "async/offload.hpp"
#include "auth/rbac.hpp"
#include "cache/bus.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "services/audit.hpp"
#include "services/models.hpp"
#include "store/store.hpp"

namespace hub::services {

// A create (every field but name optional: empty description, no permissions, all models,
// MFA off) or a patch (absent = unchanged).
struct RoleInput {
    std::optional<std::string> description;
    std::optional<std::vector<std::string>> permissions;
    std::optional<std::vector<std::string>> models;
    std::optional<bool> mfa_required;
};

// Pure checks, 400s naming the field: name 1..32 of [a-z0-9_-] starting with a letter;
// description <= 255 bytes of UTF-8; permissions known ("unknown_permission", listing the
// known ones); models: at most 64, each a catalog id or a "prefix*" pattern ("unknown_model"
// for an exact id the catalog does not have).
[[nodiscard]] core::Result<void> ValidateRoleName(std::string_view name);
[[nodiscard]] core::Result<void> ValidateRoleInput(const RoleInput& in, const Catalog& catalog);
// The admin role must keep users:manage and roles:manage: 409 "admin_lockout".
[[nodiscard]] core::Result<void> CheckNoLockout(const store::Role& role);

// The live table from the stored roles.
[[nodiscard]] core::Result<auth::RolePermissions> BuildRolePermissions(
    const std::vector<store::Role>& roles);

class Roles {
public:
    Roles(store::Store& store, async::WorkerPool& db, auth::RoleTable& table,
          const Catalog& catalog, const core::Clock& clock);

    // Reads the roles and swaps the live table (start-up and after every write). Blocking.
    core::Result<void> ReloadBlocking();
    // Tells the other hubs after every role write, and re-reads the table (on the db pool) when
    // another hub wrote or the bus resynced. Once at start-up, before the bus starts.
    void Connect(cache::Bus& bus);
    // The bus handler (public for tests).
    void Apply(const cache::BusEvent& event);

    // roles:manage or users:manage (the users page assigns roles).
    net::awaitable<core::Result<std::vector<store::Role>>> List(auth::Principal who);
    // roles:manage from here on.
    net::awaitable<core::Result<store::Role>> Create(auth::Principal who, std::string name,
                                                     RoleInput in, RequestMeta meta);
    net::awaitable<core::Result<store::Role>> Update(auth::Principal who, std::string name,
                                                     RoleInput in, RequestMeta meta);
    // 409 "role_builtin" / "role_in_use"; 404 for an unknown role.
    net::awaitable<core::Result<void>> Delete(auth::Principal who, std::string name,
                                              RequestMeta meta);

private:
    store::Store& store_;
    async::WorkerPool& db_;
    auth::RoleTable& table_;
    const Catalog& catalog_;
    const core::Clock& clock_;
    cache::Bus* bus_ = nullptr;

    // After a committed write: the other hubs are told, then this one re-reads.
    core::Result<void> Changed();
};

}  // namespace hub::services
