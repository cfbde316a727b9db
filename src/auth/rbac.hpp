#pragma once
// Role-based access control. Permissions are fixed strings known to the code; which role has
// which permission is data (the role_permissions table), loaded into RolePermissions.
// Pure and immutable once built: share one instance across threads, rebuild to reload.
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace hub::auth {

namespace perm {
inline constexpr std::string_view kConversationsOwn = "conversations:own";
inline constexpr std::string_view kHistoryReadOwn = "history:read:own";
inline constexpr std::string_view kHistoryReadAll = "history:read:all";
inline constexpr std::string_view kUsersManage = "users:manage";
inline constexpr std::string_view kKeysManage = "keys:manage";  // upstream DashScope keys
inline constexpr std::string_view kAuditRead = "audit:read";
inline constexpr std::string_view kImagesOwn = "images:own";
inline constexpr std::string_view kApiKeysOwn = "api_keys:own";  // platform API keys
}  // namespace perm

namespace role {
inline constexpr std::string_view kUser = "user";
inline constexpr std::string_view kAdmin = "admin";
inline constexpr std::string_view kAuditor = "auditor";
}  // namespace role

// Every permission the code checks.
std::span<const std::string_view> AllPermissions();
bool IsKnownPermission(std::string_view permission);

// An immutable-by-convention set of permission strings.
class PermissionSet {
public:
    PermissionSet() = default;
    PermissionSet(std::initializer_list<std::string_view> permissions);

    bool Has(std::string_view permission) const { return items_.find(permission) != items_.end(); }
    void Add(std::string_view permission) { items_.emplace(permission); }
    bool empty() const { return items_.empty(); }
    std::size_t size() const { return items_.size(); }
    std::vector<std::string> List() const { return {items_.begin(), items_.end()}; }  // sorted

    // Permissions present in both (e.g. a role's set narrowed by an API key's scopes).
    PermissionSet Intersect(const PermissionSet& other) const;

    friend bool operator==(const PermissionSet&, const PermissionSet&) = default;

private:
    std::set<std::string, std::less<>> items_;
};

// One row of role_permissions.
struct RolePermissionRow {
    std::string role;
    std::string permission;
};

// The seed matrix the migrations insert: user, auditor, admin.
std::vector<RolePermissionRow> DefaultRolePermissionRows();

class RolePermissions {
public:
    RolePermissions() = default;

    // Builds the table from rows. An empty role or permission is kInvalidArgument. A permission
    // this build does not know (e.g. seeded by a newer version during a rolling upgrade) is
    // kept out of the sets and listed in unknown_permissions() so the caller can log it.
    [[nodiscard]] static core::Result<RolePermissions> FromRows(
        const std::vector<RolePermissionRow>& rows);

    bool Allows(std::string_view role, std::string_view permission) const;
    bool HasRole(std::string_view role) const { return roles_.find(role) != roles_.end(); }
    // The permissions of `role`; empty for an unknown role (an unknown role may do nothing).
    PermissionSet For(std::string_view role) const;
    std::vector<std::string> Roles() const;  // sorted
    const std::vector<RolePermissionRow>& unknown_permissions() const { return unknown_; }

private:
    std::map<std::string, PermissionSet, std::less<>> roles_;
    std::vector<RolePermissionRow> unknown_;
};

// Who is making a request, as established by the auth middleware (JWT or platform API key).
struct Principal {
    std::string user_id;
    std::string role;
    std::string session_id;                 // empty for API-key requests
    std::optional<std::string> api_key_id;  // set for API-key requests
    PermissionSet permissions;              // the role's permissions (narrowed for API keys)

    bool Can(std::string_view permission) const { return permissions.Has(permission); }
    bool IsApiKey() const { return api_key_id.has_value(); }
};

// kForbidden ("forbidden", "you do not have permission to do this") unless allowed.
[[nodiscard]] core::Result<void> Require(const Principal& principal, std::string_view permission);

}  // namespace hub::auth
