#include "auth/rbac.hpp"

#include <algorithm>
#include <array>

namespace hub::auth {
namespace {

constexpr std::array<std::string_view, 8> kAllPermissions = {
    perm::kConversationsOwn, perm::kHistoryReadOwn, perm::kHistoryReadAll, perm::kUsersManage,
    perm::kKeysManage,       perm::kAuditRead,      perm::kImagesOwn,      perm::kApiKeysOwn,
};

}  // namespace

std::span<const std::string_view> AllPermissions() { return kAllPermissions; }

bool IsKnownPermission(std::string_view permission) {
    return std::find(kAllPermissions.begin(), kAllPermissions.end(), permission) !=
           kAllPermissions.end();
}

PermissionSet::PermissionSet(std::initializer_list<std::string_view> permissions) {
    for (auto p : permissions) items_.emplace(p);
}

PermissionSet PermissionSet::Intersect(const PermissionSet& other) const {
    PermissionSet out;
    for (const auto& p : items_) {
        if (other.Has(p)) out.items_.insert(p);
    }
    return out;
}

std::vector<RolePermissionRow> DefaultRolePermissionRows() {
    std::vector<RolePermissionRow> rows;
    auto grant = [&rows](std::string_view r, std::initializer_list<std::string_view> perms) {
        for (auto p : perms) rows.push_back({std::string(r), std::string(p)});
    };
    // Everyone chats, makes images, sees their own history and manages their own API keys.
    grant(role::kUser,
          {perm::kConversationsOwn, perm::kHistoryReadOwn, perm::kImagesOwn, perm::kApiKeysOwn});
    // Auditors additionally read everyone's history and the audit log; they change nothing.
    grant(role::kAuditor, {perm::kConversationsOwn, perm::kHistoryReadOwn, perm::kImagesOwn,
                           perm::kApiKeysOwn, perm::kHistoryReadAll, perm::kAuditRead});
    // Admins may do everything.
    for (auto p : kAllPermissions) rows.push_back({std::string(role::kAdmin), std::string(p)});
    return rows;
}

core::Result<RolePermissions> RolePermissions::FromRows(
    const std::vector<RolePermissionRow>& rows) {
    RolePermissions out;
    for (const auto& row : rows) {
        if (row.role.empty() || row.permission.empty()) {
            return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_role_permission",
                                     "role permissions contain an empty role or permission");
        }
        PermissionSet& set = out.roles_[row.role];  // a role with only unknown rows still exists
        if (IsKnownPermission(row.permission)) {
            set.Add(row.permission);
        } else {
            out.unknown_.push_back(row);
        }
    }
    return out;
}

bool RolePermissions::Allows(std::string_view role, std::string_view permission) const {
    auto it = roles_.find(role);
    return it != roles_.end() && it->second.Has(permission);
}

PermissionSet RolePermissions::For(std::string_view role) const {
    auto it = roles_.find(role);
    return it == roles_.end() ? PermissionSet() : it->second;
}

std::vector<std::string> RolePermissions::Roles() const {
    std::vector<std::string> out;
    out.reserve(roles_.size());
    for (const auto& [name, set] : roles_) out.push_back(name);
    return out;
}

core::Result<void> Require(const Principal& principal, std::string_view permission) {
    if (principal.Can(permission)) return core::Ok();
    return core::Error::Make(core::ErrorCode::kForbidden, "forbidden",
                             "you do not have permission to do this",
                             "user " + principal.user_id + " (role " + principal.role + ") lacks " +
                                 std::string(permission));
}

}  // namespace hub::auth
