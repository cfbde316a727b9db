#pragma once
// Roles and their permissions (RBAC data; the decisions live in auth/).
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/models.hpp"

namespace hub::store {

class RoleStore {
public:
    virtual ~RoleStore() = default;

    virtual core::Result<std::vector<Role>> List() = 0;  // by name, permissions sorted
    // Sorted permission names; kNotFound "role_not_found" for an unknown role.
    virtual core::Result<std::vector<std::string>> PermissionsOf(std::string_view role) = 0;

    // A new role with its permissions (names must exist in `permissions`): kConflict
    // "role_exists" when the name is taken.
    virtual core::Result<Role> Create(const Role& role) = 0;
    // Replaces description, permissions, models and mfa_required of an existing role
    // (kNotFound "role_not_found").
    virtual core::Result<Role> Update(const Role& role) = 0;
    // kNotFound; kConflict "role_builtin" for a built-in role, "role_in_use" while a user has it.
    virtual core::Result<void> Delete(std::string_view name) = 0;
};

}  // namespace hub::store
