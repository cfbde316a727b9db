#include "auth/rbac.hpp"

#include <algorithm>
#include <array>

namespace hub::auth {
namespace {

struct Known {
    std::string_view name;
    std::string_view description;
};
// Keep in step with the permissions table (migrations 0001 and 0012).
constexpr std::array<Known, 13> kKnown = {{
    {perm::kConversationsOwn, "Own conversations and messages"},
    {perm::kHistoryReadOwn, "Own call history and statistics"},
    {perm::kHistoryReadAll, "Call history and statistics of every user"},
    {perm::kUsersManage, "List users, change roles, status and quotas"},
    {perm::kKeysManage, "Manage upstream DashScope keys"},
    {perm::kAuditRead, "Read the audit log"},
    {perm::kImagesOwn, "Own image generations"},
    {perm::kApiKeysOwn, "Own platform API keys"},
    {perm::kModelsChat, "Call chat models (web chat, /v1/chat/completions)"},
    {perm::kModelsImages, "Call image models (web images, /v1/images/generations)"},
    {perm::kModelsPassthrough, "Call models through the DashScope-native pass-through"},
    {perm::kRolesManage, "Create, edit and delete roles"},
    {perm::kSecurityRead, "Read security events and lift the locks they set"},
}};

constexpr std::array<std::string_view, kKnown.size()> Names() {
    std::array<std::string_view, kKnown.size()> out{};
    for (std::size_t i = 0; i < kKnown.size(); ++i) out[i] = kKnown[i].name;
    return out;
}
constexpr std::array<std::string_view, kKnown.size()> kAllPermissions = Names();

}  // namespace

std::span<const std::string_view> AllPermissions() { return kAllPermissions; }

bool IsKnownPermission(std::string_view permission) {
    return std::find(kAllPermissions.begin(), kAllPermissions.end(), permission) !=
           kAllPermissions.end();
}

std::string_view PermissionDescription(std::string_view permission) {
    for (const auto& k : kKnown)
        if (k.name == permission) return k.description;
    return {};
}

bool ModelAllowList::Allows(std::string_view model_id) const {
    if (patterns_.empty()) return true;
    for (const auto& p : patterns_) {
        if (!p.empty() && p.back() == '*') {
            std::string_view prefix(p.data(), p.size() - 1);
            if (model_id.substr(0, prefix.size()) == prefix) return true;
        } else if (p == model_id) {
            return true;
        }
    }
    return false;
}

bool IsValidModelPattern(std::string_view p) {
    if (p.empty() || p.size() > 64) return false;
    for (std::size_t i = 0; i < p.size(); ++i) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '/' || c == '-' ||
                  (c == '*' && i + 1 == p.size());
        if (!ok) return false;
    }
    return true;
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
          {perm::kConversationsOwn, perm::kHistoryReadOwn, perm::kImagesOwn, perm::kApiKeysOwn,
           perm::kModelsChat, perm::kModelsImages, perm::kModelsPassthrough});
    // Auditors additionally read everyone's history and the audit log; they change nothing.
    grant(role::kAuditor, {perm::kConversationsOwn, perm::kHistoryReadOwn, perm::kImagesOwn,
                           perm::kApiKeysOwn, perm::kHistoryReadAll, perm::kAuditRead,
                           perm::kModelsChat, perm::kModelsImages, perm::kModelsPassthrough});
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

void RolePermissions::SetRoleSettings(std::string_view role, ModelAllowList models,
                                      bool mfa_required) {
    roles_.try_emplace(std::string(role));
    settings_[std::string(role)] = Settings{std::move(models), mfa_required};
}

ModelAllowList RolePermissions::Models(std::string_view role) const {
    auto it = settings_.find(role);
    return it == settings_.end() ? ModelAllowList() : it->second.models;
}

bool RolePermissions::RequiresMfa(std::string_view role) const {
    auto it = settings_.find(role);
    return it != settings_.end() && it->second.mfa_required;
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

void FillFromRole(Principal& principal, const RolePermissions& roles) {
    PermissionSet granted = roles.For(principal.role);
    if (principal.IsApiKey()) {
        // A key acts with its owner's role as it is now, minus managing keys.
        PermissionSet narrowed;
        for (const auto& p : granted.List())
            if (p != perm::kApiKeysOwn) narrowed.Add(p);
        granted = std::move(narrowed);
    }
    principal.permissions = std::move(granted);
    principal.models = roles.Models(principal.role);
}

core::Error ModelNotAllowed(std::string_view model) {
    return core::Error::Make(core::ErrorCode::kForbidden, "model_not_allowed",
                             "You may not use the model '" + std::string(model.substr(0, 64)) +
                                 "'.");
}

core::Result<void> RequireModel(const Principal& principal, std::string_view family_permission,
                                std::string_view model_id) {
    if (auto r = Require(principal, family_permission); !r.ok()) return r;
    if (!principal.models.Allows(model_id)) return ModelNotAllowed(model_id);
    return core::Ok();
}

}  // namespace hub::auth
