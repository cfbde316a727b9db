#pragma once
// Users: accounts, profile, settings, credentials, role, status and quota.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "store/cursor.hpp"
#include "store/models.hpp"

namespace hub::store {

// Fields to change; an empty optional leaves the column as it is.
struct UserPatch {
    std::optional<std::string> display_name;
    std::optional<std::string> email;
    std::optional<std::string> settings;  // JSON object, replaces the stored one
    std::optional<std::string> password_hash;
    std::optional<std::string> role;
    std::optional<UserStatus> status;
    std::optional<std::optional<std::string>> mfa_secret_enc;  // {nullopt} clears MFA
    std::optional<UserQuota> quota;                            // replaces the stored quota
    // When set, the update is refused (kConflict "last_admin") if it would leave no active
    // admin; checked in the same transaction as the write.
    bool keep_an_active_admin = false;
};

struct UserQuery {
    std::string q;  // substring of username, email or display name (case-insensitive)
    std::optional<std::string> role;
    std::optional<UserStatus> status;
    PageRequest page;  // newest first
};

// What erasing a user removed, for the work outside the database.
struct ErasedUser {
    std::vector<std::string> session_ids;   // every session the user had (revoke in memory)
    std::vector<std::string> file_paths;    // stored files their rows referred to
    std::vector<std::string> export_files;  // their export archives
    std::int64_t api_calls_anonymised = 0;
};

class UserStore {
public:
    virtual ~UserStore() = default;

    // kConflict "username_taken" / "email_taken" (case-insensitive); kUnprocessable
    // "unknown_role" when the role does not exist.
    virtual core::Result<User> Create(User user) = 0;
    virtual core::Result<User> Get(std::string_view id) = 0;
    // Login lookup: matches the username or the email, case-insensitively.
    virtual core::Result<User> FindByLogin(std::string_view username_or_email) = 0;
    // Returns the updated user; sets updated_at. Errors as Create, plus "last_admin".
    virtual core::Result<User> Update(std::string_view id, const UserPatch& patch) = 0;
    virtual core::Result<Page<User>> List(const UserQuery& query) = 0;
    virtual core::Result<std::int64_t> CountActiveAdmins() = 0;
    // Deletes the user and everything that is theirs in one transaction: sessions,
    // conversations and messages, platform keys, image generations and images, pass-through
    // tasks, quotas, exports, passkeys and WebAuthn challenges. Their api_calls rows stay for accounting, with user_id set to
    // `tombstone_id`. kNotFound; kConflict "last_admin" when they are the last active admin.
    virtual core::Result<ErasedUser> Erase(std::string_view id, std::string_view tombstone_id) = 0;
    // Every user with limits of their own (loaded once at start by services::Limits).
    virtual core::Result<std::vector<std::pair<std::string, UserQuota>>> ListQuotas() = 0;
};

}  // namespace hub::store
