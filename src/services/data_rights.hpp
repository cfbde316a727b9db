#pragma once
// A person's rights over their data (PIPL, GDPR): "export all my data" and account deletion.
//
// Exports run in the background on a thread of their own, one job at a time per user (a
// second request while one is pending or running is 409 export_in_progress), with progress in
// data_exports. The ZIP holds the profile, every conversation (JSON and Markdown, the same
// exporters as one conversation's export), the generated images, the api_calls history (the
// history CSV) and the platform keys' metadata (never a secret or a hash). It is downloadable
// by its owner only, for `export_ttl` after it is made; then the file and the row go.
//
// Deletion (by the user after re-entering the password, or by an admin) removes the user and
// everything of theirs in one transaction, then the files no other row refers to; the api_calls
// rows stay with a tombstone user id. Every session and access token of the user stops at once.
// The last active admin cannot be deleted. Both are audited.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "async/offload.hpp"
#include "auth/password.hpp"
#include "auth/rbac.hpp"
#include "auth/session_tokens.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "services/accounts.hpp"
#include "services/conversations.hpp"
#include "store/file_store.hpp"
#include "store/store.hpp"

namespace hub::services {

struct DataRightsConfig {
    std::string exports_dir;  // <data dir>/exports
    std::chrono::milliseconds export_ttl{24 * 3600 * 1000};
    std::chrono::milliseconds sweep_every{60'000};  // how often expired exports are looked for
    std::size_t max_export_messages = 20'000;       // per conversation
    // The JSON form of one conversation's export (api/ owns that shape: the same as
    // GET /conversations/{id}/export?format=json).
    std::function<std::string(const ConversationExport&)> conversation_json;
};

// A finished export, read on the db pool for the download route.
struct ExportFile {
    std::string download_name;
    std::string bytes;  // the ZIP
};

// The second factor at deletion: when the account has TOTP on, the code (a TOTP or recovery
// code) must be given and check out. Called on the db pool; app/ wires it to services::Mfa.
// Without a hook an account with mfa_secret_enc set is refused (kForbidden "mfa_required").
using MfaCheck = std::function<core::Result<void>(
    const store::User&, const std::optional<std::string>&, const RequestMeta&)>;

class DataRights {
public:
    DataRights(store::Store& store, async::WorkerPool& db, async::WorkerPool& crypto,
               const auth::PasswordHasher& hasher, auth::RevocationCache& revocations,
               store::FileStore& files, const core::Clock& clock, DataRightsConfig cfg);
    ~DataRights();
    DataRights(const DataRights&) = delete;
    DataRights& operator=(const DataRights&) = delete;

    // Fails exports a stopped hub left unfinished, then starts the worker thread.
    void Start();
    void Stop();

    net::awaitable<core::Result<store::DataExport>> StartExport(auth::Principal who,
                                                                RequestMeta meta);
    net::awaitable<core::Result<std::vector<store::DataExport>>> ListExports(auth::Principal who);
    net::awaitable<core::Result<store::DataExport>> GetExport(auth::Principal who, std::string id);
    // kNotFound for another user's, a missing or an expired export; kConflict "export_not_ready"
    // while it is being made. Audited.
    net::awaitable<core::Result<ExportFile>> OpenExport(auth::Principal who, std::string id,
                                                        RequestMeta meta);

    // The user deletes their own account: the password (and the MFA code when TOTP is on)
    // first. kForbidden "invalid_credentials" for a wrong password.
    net::awaitable<core::Result<void>> DeleteOwnAccount(auth::Principal who, std::string password,
                                                        std::optional<std::string> mfa_code,
                                                        RequestMeta meta);
    // An admin (users:manage) deletes a user. kConflict "last_admin".
    net::awaitable<core::Result<void>> AdminDeleteUser(auth::Principal who, std::string user_id,
                                                       RequestMeta meta);

    // Test and ops hooks.
    void SetMfaCheck(MfaCheck check) { mfa_check_ = std::move(check); }
    std::int64_t exports_done() const { return exports_done_.load(); }
    std::int64_t exports_failed() const { return exports_failed_.load(); }

    // Blocking: makes the export archive of `e` (the worker thread calls it).
    core::Result<void> BuildExport(const store::DataExport& e);

private:
    core::Result<void> Erase(const std::string& user_id, const std::optional<std::string>& actor,
                             const std::string& action, const RequestMeta& meta);
    void Audit(std::optional<std::string> actor, std::string action, std::string target,
               const RequestMeta& meta, std::string detail_json);
    void Loop();
    void SweepExpired();

    store::Store& store_;
    async::WorkerPool& db_;
    async::WorkerPool& crypto_;
    const auth::PasswordHasher& hasher_;
    auth::RevocationCache& revocations_;
    store::FileStore& files_;
    const core::Clock& clock_;
    DataRightsConfig cfg_;
    MfaCheck mfa_check_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<store::DataExport> queue_;
    bool stop_ = false;
    std::thread thread_;
    std::atomic<std::int64_t> exports_done_{0};
    std::atomic<std::int64_t> exports_failed_{0};
};

}  // namespace hub::services
