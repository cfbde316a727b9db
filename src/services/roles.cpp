#include "services/roles.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "auth/password.hpp"
#include "cache/topics.hpp"
#include "obs/logging.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

constexpr std::size_t kMaxModels = 64;

Error Invalid(std::string field, std::string what) {
    return Error::Make(ErrorCode::kInvalidArgument, "validation_failed", field + " " + what);
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

nlohmann::json RoleDetail(const store::Role& r) {
    return {{"permissions", r.permissions},
            {"models", r.models},
            {"mfa_required", r.mfa_required}};
}

}  // namespace

Result<void> ValidateRoleName(std::string_view name) {
    bool ok = !name.empty() && name.size() <= 32 && name[0] >= 'a' && name[0] <= 'z';
    for (char c : name)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
    if (!ok) {
        return Invalid("name", "must be 1 to 32 characters of a-z, 0-9, '_' and '-', starting "
                               "with a letter.");
    }
    return core::Ok();
}

Result<void> ValidateRoleInput(const RoleInput& in, const Catalog& catalog) {
    if (in.description &&
        (in.description->size() > 255 || !auth::IsValidUtf8(*in.description))) {
        return Invalid("description", "must be at most 255 bytes of valid UTF-8.");
    }
    if (in.permissions) {
        for (const auto& p : *in.permissions) {
            if (auth::IsKnownPermission(p)) continue;
            std::string known;
            for (auto k : auth::AllPermissions()) known += (known.empty() ? "" : ", ") + std::string(k);
            return Error::Make(ErrorCode::kInvalidArgument, "unknown_permission",
                               "permissions: '" + p.substr(0, 64) +
                                   "' is not a permission of this hub. Known: " + known + ".");
        }
    }
    if (in.models) {
        if (in.models->size() > kMaxModels) return Invalid("models", "may list at most 64 entries.");
        for (const auto& m : *in.models) {
            if (!auth::IsValidModelPattern(m)) {
                return Invalid("models", "entries must be model ids or prefixes ending in '*' "
                                         "(1 to 64 characters of A-Z a-z 0-9 . _ : / -).");
            }
            if (m.back() != '*' && catalog.Find(m) == nullptr) {
                return Error::Make(ErrorCode::kInvalidArgument, "unknown_model",
                                   "models: '" + m + "' is not a model of this hub.");
            }
        }
    }
    return core::Ok();
}

Result<void> CheckNoLockout(const store::Role& role) {
    if (role.name != auth::role::kAdmin) return core::Ok();
    for (auto need : {auth::perm::kUsersManage, auth::perm::kRolesManage}) {
        if (std::find(role.permissions.begin(), role.permissions.end(), need) ==
            role.permissions.end()) {
            return Error::Make(ErrorCode::kConflict, "admin_lockout",
                               "The admin role must keep users:manage and roles:manage, or "
                               "nobody could manage the hub.");
        }
    }
    return core::Ok();
}

Result<auth::RolePermissions> BuildRolePermissions(const std::vector<store::Role>& roles) {
    std::vector<auth::RolePermissionRow> rows;
    for (const auto& r : roles)
        for (const auto& p : r.permissions) rows.push_back({r.name, p});
    auto perms = auth::RolePermissions::FromRows(rows);
    if (!perms.ok()) return perms.error();
    for (const auto& r : roles)
        perms->SetRoleSettings(r.name, auth::ModelAllowList(r.models), r.mfa_required);
    return perms;
}

Roles::Roles(store::Store& store, async::WorkerPool& db, auth::RoleTable& table,
             const Catalog& catalog, const core::Clock& clock)
    : store_(store), db_(db), table_(table), catalog_(catalog), clock_(clock) {}

Result<void> Roles::ReloadBlocking() {
    auto roles = store_.Roles().List();
    if (!roles.ok()) return roles.error();
    auto built = BuildRolePermissions(*roles);
    if (!built.ok()) return built.error();
    for (const auto& u : built->unknown_permissions())
        obs::Warn("unknown_permission", {{"role", u.role}, {"permission", u.permission}});
    table_.Replace(std::move(built.value()));
    return core::Ok();
}

Result<void> Roles::Changed() {
    if (bus_ != nullptr) bus_->Publish(cache::BusEvent{cache::topic::kRolesChanged, ""});
    return ReloadBlocking();
}

void Roles::Connect(cache::Bus& bus) {
    bus_ = &bus;
    bus.Subscribe([this](const cache::BusEvent& e) { Apply(e); });
}

void Roles::Apply(const cache::BusEvent& e) {
    if (e.topic != cache::topic::kRolesChanged && e.topic != cache::kBusResynced) return;
    // A database read: never on the io thread that delivers the event.
    net::post(db_.pool(), [this] {
        if (auto r = ReloadBlocking(); !r.ok())
            obs::Warn("roles_reload_failed", {{"detail", r.error().detail}});
    });
}

net::awaitable<Result<std::vector<store::Role>>> Roles::List(auth::Principal who) {
    if (!who.Can(auth::perm::kRolesManage)) {
        if (auto r = auth::Require(who, auth::perm::kUsersManage); !r.ok()) co_return r.error();
    }
    co_return co_await db_.Run([this] { return store_.Roles().List(); });
}

net::awaitable<Result<store::Role>> Roles::Create(auth::Principal who, std::string name,
                                                  RoleInput in, RequestMeta meta) {
    if (auto r = auth::Require(who, auth::perm::kRolesManage); !r.ok()) co_return r.error();
    if (auto v = ValidateRoleName(name); !v.ok()) co_return v.error();
    if (auto v = ValidateRoleInput(in, catalog_); !v.ok()) co_return v.error();
    store::Role role;
    role.name = std::move(name);
    role.description = in.description.value_or("");
    role.permissions = Sorted(in.permissions.value_or(std::vector<std::string>{}));
    role.models = Sorted(in.models.value_or(std::vector<std::string>{}));
    role.mfa_required = in.mfa_required.value_or(false);
    co_return co_await db_.Run(
        [this](std::string actor, store::Role role, RequestMeta meta) -> Result<store::Role> {
            auto created = store_.Roles().Create(role);
            if (!created.ok()) return created.error();
            if (auto r = Changed(); !r.ok()) return r.error();
            AppendAudit(store_, clock_, actor, "role.created", "role:" + created->name, meta,
                        RoleDetail(*created).dump());
            return created;
        },
        who.user_id, std::move(role), meta);
}

net::awaitable<Result<store::Role>> Roles::Update(auth::Principal who, std::string name,
                                                  RoleInput in, RequestMeta meta) {
    if (auto r = auth::Require(who, auth::perm::kRolesManage); !r.ok()) co_return r.error();
    if (auto v = ValidateRoleInput(in, catalog_); !v.ok()) co_return v.error();
    co_return co_await db_.Run(
        [this](std::string actor, std::string name, RoleInput in,
               RequestMeta meta) -> Result<store::Role> {
            auto roles = store_.Roles().List();
            if (!roles.ok()) return roles.error();
            auto it = std::find_if(roles->begin(), roles->end(),
                                   [&](const store::Role& r) { return r.name == name; });
            if (it == roles->end()) {
                return Error::Make(ErrorCode::kNotFound, "role_not_found", "No such role.");
            }
            store::Role next = *it;
            if (in.description) next.description = *in.description;
            if (in.permissions) next.permissions = Sorted(*in.permissions);
            if (in.models) next.models = Sorted(*in.models);
            if (in.mfa_required) next.mfa_required = *in.mfa_required;
            if (auto v = CheckNoLockout(next); !v.ok()) return v.error();
            auto updated = store_.Roles().Update(next);
            if (!updated.ok()) return updated.error();
            if (auto r = Changed(); !r.ok()) return r.error();
            nlohmann::json detail = {{"before", RoleDetail(*it)}, {"after", RoleDetail(*updated)}};
            AppendAudit(store_, clock_, actor, "role.updated", "role:" + name, meta,
                        detail.dump());
            return updated;
        },
        who.user_id, std::move(name), std::move(in), meta);
}

net::awaitable<Result<void>> Roles::Delete(auth::Principal who, std::string name,
                                           RequestMeta meta) {
    if (auto r = auth::Require(who, auth::perm::kRolesManage); !r.ok()) co_return r.error();
    co_return co_await db_.Run(
        [this](std::string actor, std::string name, RequestMeta meta) -> Result<void> {
            if (auto r = store_.Roles().Delete(name); !r.ok()) return r.error();
            if (auto r = Changed(); !r.ok()) return r.error();
            AppendAudit(store_, clock_, actor, "role.deleted", "role:" + name, meta, "{}");
            return core::Ok();
        },
        who.user_id, std::move(name), meta);
}

}  // namespace hub::services
