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
};

}  // namespace hub::store
