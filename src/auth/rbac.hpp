#pragma once
// Role-based access control. Permissions are fixed strings known to the code; which role has
// which permission is data (the role_permissions table), loaded into RolePermissions.
// RolePermissions is pure and immutable once built; RoleTable holds the live one and swaps it
// whole when an admin edits a role, so the next request sees the change.
#include <initializer_list>
#include <memory>
#include <mutex>
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
// Model families: calling chat models (web chat, /v1/chat/completions), image models (web
// images, /v1/images/generations) and the DashScope-native pass-through.
inline constexpr std::string_view kModelsChat = "models:chat";
inline constexpr std::string_view kModelsImages = "models:images";
inline constexpr std::string_view kModelsPassthrough = "models:passthrough";
inline constexpr std::string_view kRolesManage = "roles:manage";
inline constexpr std::string_view kSecurityRead = "security:read";  // security events, unlock
}  // namespace perm

namespace role {
inline constexpr std::string_view kUser = "user";
inline constexpr std::string_view kAdmin = "admin";
inline constexpr std::string_view kAuditor = "auditor";
}  // namespace role

// Every permission the code checks.
std::span<const std::string_view> AllPermissions();
bool IsKnownPermission(std::string_view permission);
// One line saying what a permission allows ("" for an unknown one).
std::string_view PermissionDescription(std::string_view permission);

// The models a role may call: exact catalog ids, or prefixes ending in '*' ("qwen-*");
// empty = every model.
class ModelAllowList {
public:
    ModelAllowList() = default;
    explicit ModelAllowList(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}
    bool Allows(std::string_view model_id) const;
    bool empty() const { return patterns_.empty(); }
    const std::vector<std::string>& patterns() const { return patterns_; }
    friend bool operator==(const ModelAllowList&, const ModelAllowList&) = default;

private:
    std::vector<std::string> patterns_;
};
// 1..64 characters of [A-Za-z0-9._:/-], optionally ending in one '*'.
bool IsValidModelPattern(std::string_view pattern);

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

    // The role's model allow-list and whether its members must use MFA (roles.models,
    // roles.mfa_required). Unknown roles: empty list, false.
    void SetRoleSettings(std::string_view role, ModelAllowList models, bool mfa_required);
    ModelAllowList Models(std::string_view role) const;
    bool RequiresMfa(std::string_view role) const;

    bool Allows(std::string_view role, std::string_view permission) const;
    bool HasRole(std::string_view role) const { return roles_.find(role) != roles_.end(); }
    // The permissions of `role`; empty for an unknown role (an unknown role may do nothing).
    PermissionSet For(std::string_view role) const;
    std::vector<std::string> Roles() const;  // sorted
    const std::vector<RolePermissionRow>& unknown_permissions() const { return unknown_; }

private:
    struct Settings {
        ModelAllowList models;
        bool mfa_required = false;
    };
    std::map<std::string, PermissionSet, std::less<>> roles_;
    std::map<std::string, Settings, std::less<>> settings_;
    std::vector<RolePermissionRow> unknown_;
};

// The live role table: what every permission check reads. Replace() swaps in a whole new
// table (after an admin wrote a role); readers take a snapshot under a tiny mutex and never
// see half an update. Thread-safe.
class RoleTable {
public:
    explicit RoleTable(RolePermissions initial = {})
        : current_(std::make_shared<const RolePermissions>(std::move(initial))) {}

    std::shared_ptr<const RolePermissions> Snapshot() const {
        std::lock_guard lock(mu_);
        return current_;
    }
    void Replace(RolePermissions next) {
        auto p = std::make_shared<const RolePermissions>(std::move(next));
        std::lock_guard lock(mu_);
        current_ = std::move(p);
    }

    bool Allows(std::string_view role, std::string_view permission) const {
        return Snapshot()->Allows(role, permission);
    }
    bool HasRole(std::string_view role) const { return Snapshot()->HasRole(role); }
    PermissionSet For(std::string_view role) const { return Snapshot()->For(role); }
    ModelAllowList Models(std::string_view role) const { return Snapshot()->Models(role); }
    // Whether members of `role` must sign in with a second factor (the admin's switch).
    bool RequiresMfa(std::string_view role) const { return Snapshot()->RequiresMfa(role); }

private:
    mutable std::mutex mu_;
    std::shared_ptr<const RolePermissions> current_;
};

// Who is making a request, as established by the auth middleware (JWT or platform API key).
struct Principal {
    std::string user_id;
    std::string role;
    std::string session_id;                 // empty for API-key requests
    std::optional<std::string> api_key_id;  // set for API-key requests
    PermissionSet permissions;              // the role's permissions (narrowed for API keys)
    ModelAllowList models;                  // the role's model allow-list (empty = all)

    bool Can(std::string_view permission) const { return permissions.Has(permission); }
    bool IsApiKey() const { return api_key_id.has_value(); }
};

// kForbidden ("forbidden", "you do not have permission to do this") unless allowed.
[[nodiscard]] core::Result<void> Require(const Principal& principal, std::string_view permission);

// The principal as the live table says now: permissions and model allow-list of its role
// (an API key's principal keeps only what the role still has, minus api_keys:own).
void FillFromRole(Principal& principal, const RolePermissions& roles);

// A model call: 403 "forbidden" without the family permission (perm::kModels*), 403
// "model_not_allowed" naming the model when the role's allow-list does not have it.
[[nodiscard]] core::Result<void> RequireModel(const Principal& principal,
                                              std::string_view family_permission,
                                              std::string_view model_id);
core::Error ModelNotAllowed(std::string_view model);

}  // namespace hub::auth
