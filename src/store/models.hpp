#pragma once
// Plain records of the data model (DESIGN §3), shared by every store dialect.
//
// Conventions:
// - Times are epoch milliseconds (UTC); an absent time is std::nullopt.
// - Ids are opaque TEXT (UUIDv7). On Create, an empty `id` is filled by the store with a
//   UUIDv7 of the creation time, and a zero `created_at` (and `updated_at`) with the store's
//   clock; callers may set either themselves (imports, tests, a session id known in advance).
// - JSON columns (User::settings, ApiKey::scopes, AuditEntry::detail) hold JSON text; the
//   store keeps it as given, services parse and validate it.
// - Encrypted columns (User::mfa_secret_enc, UpstreamKey::secret_enc) hold opaque bytes
//   produced by crypto/; the store never sees plaintext.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hub::store {

// ---- roles and permissions (seeded by the first migration) ----

inline constexpr std::string_view kRoleUser = "user";
inline constexpr std::string_view kRoleAdmin = "admin";
inline constexpr std::string_view kRoleAuditor = "auditor";

namespace perm {
inline constexpr std::string_view kConversationsOwn = "conversations:own";
inline constexpr std::string_view kHistoryReadOwn = "history:read:own";
inline constexpr std::string_view kHistoryReadAll = "history:read:all";
inline constexpr std::string_view kUsersManage = "users:manage";
inline constexpr std::string_view kKeysManage = "keys:manage";
inline constexpr std::string_view kAuditRead = "audit:read";
inline constexpr std::string_view kImagesOwn = "images:own";
inline constexpr std::string_view kApiKeysOwn = "api_keys:own";
}  // namespace perm

struct Role {
    std::string name;
    std::string description;
    std::vector<std::string> permissions;  // sorted
    std::vector<std::string> models;       // model allow-list (ids or "prefix*"); empty = all
    bool mfa_required = false;             // members must sign in with a second factor
    bool builtin = false;                  // user, auditor, admin: cannot be deleted
};

// ---- security events ----

struct SecurityEvent {
    std::string id;
    std::string kind;      // brute_force, credential_stuffing, refresh_reuse, ...
    std::string severity;  // low | medium | high
    std::optional<std::string> user_id;
    std::optional<std::string> api_key_id;
    std::string ip;
    std::string detail = "{}";  // JSON object
    std::string action = "none";  // none | account_locked | api_key_suspended
    std::optional<std::int64_t> locked_until;  // when the lock it set ends
    std::int64_t created_at = 0;
};

// A lock set by a security event: "user:<id>" (password sign-in) or "api_key:<id>".
struct SecurityLock {
    std::string subject;
    std::int64_t until = 0;
    std::string event_id;
    std::int64_t created_at = 0;
};

// ---- users ----

enum class UserStatus { kActive, kDisabled };

// Per-user limits; an empty field means "the configured default".
// A user's own limits; an empty field means the role's default (see services::Limits).
struct UserQuota {
    std::optional<std::int64_t> daily_tokens;
    std::optional<std::int64_t> rpm;
    std::optional<std::int64_t> tpm;                     // tokens per minute
    std::optional<std::int64_t> monthly_tokens;
    std::optional<std::int64_t> daily_cost_micro_cny;    // budgets in millionths of a CNY
    std::optional<std::int64_t> monthly_cost_micro_cny;
    bool empty() const {
        return !daily_tokens && !rpm && !tpm && !monthly_tokens && !daily_cost_micro_cny &&
               !monthly_cost_micro_cny;
    }
    bool operator==(const UserQuota&) const = default;
};

struct User {
    std::string id;
    std::string username;  // unique, case-insensitive (ASCII)
    std::string email;     // unique, case-insensitive (ASCII)
    std::string password_hash;
    std::string display_name;
    std::string role{kRoleUser};
    UserStatus status = UserStatus::kActive;
    std::string settings = "{}";                // JSON object
    std::optional<std::string> mfa_secret_enc;  // encrypted TOTP secret, absent = no MFA
    UserQuota quota;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};

// ---- sessions (refresh tokens) ----

struct Session {
    std::string id;
    std::string user_id;
    std::string refresh_hash;  // hash of the refresh token, never the token itself
    std::string family_id;     // empty on Create = a new family named after the session id
    std::string user_agent;
    std::string ip;
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
    std::optional<std::int64_t> last_used_at;
    std::optional<std::int64_t> revoked_at;

    bool IsActive(std::int64_t now_ms) const { return !revoked_at && expires_at > now_ms; }
};

// ---- conversations and messages ----

struct Conversation {
    std::string id;
    std::string user_id;
    std::string title;          // empty = untitled
    std::string model;          // empty = the default model
    std::string system_prompt;  // empty = none
    bool pinned = false;
    bool archived = false;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    std::optional<std::int64_t> deleted_at;
};

enum class MessageRole { kSystem, kUser, kAssistant };
enum class MessageStatus { kComplete, kStreaming, kInterrupted, kError };

struct Message {
    std::string id;
    std::string conversation_id;
    MessageRole role = MessageRole::kUser;
    std::string content;
    std::string reasoning;  // thinking models' reasoning, apart from the answer ("" = none)
    std::string model;
    MessageStatus status = MessageStatus::kComplete;
    std::string error_code;  // the error an `error`/`interrupted` message ended with, else ""
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    std::optional<std::string> parent_id;
    std::int64_t created_at = 0;
    std::vector<std::string> attachments;  // upload ids (user messages with pictures)
};

// ---- usage history ----

struct ApiCall {
    std::string id;
    std::string user_id;
    std::optional<std::string> api_key_id;
    std::optional<std::string> conversation_id;
    std::string endpoint;  // e.g. "chat", "/v1/chat/completions"
    std::string model;
    int status_code = 200;
    std::string error_code;  // empty = no error
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    std::int64_t image_count = 0;
    std::int64_t image_tokens = 0;  // vision calls: the part of input_tokens spent on pictures
    std::int64_t latency_ms = 0;
    std::optional<std::int64_t> first_token_ms;  // streams only
    std::int64_t cost_micro_cny = 0;
    std::string upstream_request_id;
    std::string upstream_task_id;  // async tasks (images)
    bool cache_hit = false;
    std::int64_t created_at = 0;
};

// One definition of "a failed call", used by list filters and stats alike.
inline bool IsErrorCall(int status_code, std::string_view error_code) {
    return status_code >= 400 || !error_code.empty();
}

// ---- keys ----

enum class UpstreamKeyStatus { kActive, kRetiring, kDisabled };

struct UpstreamKey {
    std::string id;
    std::string name;        // unique, case-insensitive
    std::string secret_enc;  // encrypted DashScope key (bytes)
    std::string last4;
    UpstreamKeyStatus status = UpstreamKeyStatus::kActive;
    std::int64_t weight = 1;
    std::optional<std::int64_t> cooldown_until;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> rotated_at;
};

// A platform key issued to a user for external clients; only its hash is stored.
struct ApiKey {
    std::string id;
    std::string user_id;
    std::string name;
    std::string key_hash;       // unique
    std::string prefix;         // shown in lists to recognise the key
    std::string scopes = "[]";  // JSON array of permission strings
    std::string models = "[]";  // JSON array of catalog model ids the key may use; [] = any
    std::optional<std::int64_t> expires_at;
    std::optional<std::int64_t> last_used_at;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> revoked_at;
    // The key's own rate limits (on top of its owner's); empty = only the owner's apply.
    std::optional<std::int64_t> rpm;
    std::optional<std::int64_t> tpm;

    bool IsUsable(std::int64_t now_ms) const {
        return !revoked_at && (!expires_at || *expires_at > now_ms);
    }
};

// ---- images ----

// One request for images: a DashScope async task and what came of it.
enum class GenerationStatus { kPending, kRunning, kSucceeded, kFailed, kCanceled };
inline bool IsFinished(GenerationStatus s) {
    return s == GenerationStatus::kSucceeded || s == GenerationStatus::kFailed ||
           s == GenerationStatus::kCanceled;
}

// One result item of a generation: a stored image file, or the error DashScope gave for it.
struct GeneratedImage {
    std::string id;  // also the file id (/api/v1/files/{id})
    std::string generation_id;
    std::string user_id;
    int index = 0;  // 0-based position in the task's results
    bool ok = false;
    std::string file_path;  // relative to the file store; empty for a failed item
    std::string sha256;     // hex of the file's bytes (ETag)
    std::string content_type;
    std::int64_t bytes = 0;
    std::int64_t width = 0;
    std::int64_t height = 0;
    std::optional<std::int64_t> seed;
    std::string actual_prompt;  // the prompt DashScope used (prompt_extend), if it said
    std::string error_code;
    std::string error_message;
    std::int64_t created_at = 0;
};

// A picture a user uploaded (to attach to messages), as the hub re-encoded it.
struct Upload {
    std::string id;  // also the file id (/api/v1/files/{id})
    std::string user_id;
    std::string file_path;  // relative to the file store
    std::string sha256;
    std::string content_type;
    std::int64_t bytes = 0;
    std::int64_t width = 0;
    std::int64_t height = 0;
    std::string original_name;
    std::int64_t created_at = 0;
};

struct ImageGeneration {
    std::string id;
    std::string user_id;
    std::optional<std::string> api_key_id;  // platform key used, if any
    std::string endpoint;                   // api_calls endpoint, e.g. "images"
    std::string model;
    std::string prompt;
    std::string negative_prompt;
    std::string size;  // "W*H"
    int n = 1;
    std::optional<std::int64_t> seed;
    bool prompt_extend = true;
    bool watermark = false;
    GenerationStatus status = GenerationStatus::kPending;
    std::string task_id;  // DashScope's, empty until submitted
    std::string upstream_request_id;
    std::string error_code;
    std::string error_message;
    int polls = 0;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> submitted_at;
    std::optional<std::int64_t> started_at;
    std::optional<std::int64_t> finished_at;
    std::optional<std::int64_t> accounted_at;  // its api_calls row is written
    std::vector<GeneratedImage> images;        // by index; filled by reads
};

// ---- audit ----

struct AuditEntry {
    std::string id;
    std::optional<std::string> actor_user_id;  // absent for anonymous (e.g. failed login)
    std::string action;                        // e.g. "auth.login", "admin.user.update"
    std::string target;                        // e.g. "user:<id>"
    std::string ip;
    std::string request_id;
    std::string detail = "{}";  // JSON object
    std::int64_t created_at = 0;
};

// ---- enum <-> text (the spelling stored in the database and used by the API) ----

std::string_view ToString(UserStatus v);
std::string_view ToString(MessageRole v);
std::string_view ToString(MessageStatus v);
std::string_view ToString(UpstreamKeyStatus v);
std::string_view ToString(GenerationStatus v);

std::optional<UserStatus> ParseUserStatus(std::string_view s);
std::optional<MessageRole> ParseMessageRole(std::string_view s);
std::optional<MessageStatus> ParseMessageStatus(std::string_view s);
std::optional<UpstreamKeyStatus> ParseUpstreamKeyStatus(std::string_view s);
std::optional<GenerationStatus> ParseGenerationStatus(std::string_view s);

}  // namespace hub::store
