#include "services/data_rights.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "archive/zip_writer.hpp"
#include "core/id.hpp"
#include "obs/logging.hpp"
#include "services/history_csv.hpp"

namespace hub::services {

namespace fs = std::filesystem;
using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

std::string Iso(std::int64_t ms) { return core::FormatIsoMs(ms); }
nlohmann::json OptIso(const std::optional<std::int64_t>& ms) {
    return ms ? nlohmann::json(Iso(*ms)) : nlohmann::json(nullptr);
}
nlohmann::json ParsedOr(const std::string& text, nlohmann::json fallback) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    return j.is_discarded() ? fallback : j;
}

constexpr std::string_view kReadme =
    "Bailian Hub: an export of your data\n"
    "\n"
    "profile.json          your account (no password or secret)\n"
    "sessions.json         the devices signed in to your account\n"
    "conversations/        every conversation, as JSON and as Markdown\n"
    "images.json, images/  your image generations and the images they made\n"
    "uploads.json, uploads/ the pictures you attached to messages\n"
    "history.csv           every model call made with your account or your keys\n"
    "api_keys.json         your platform API keys (names, prefixes, limits; never the keys)\n";

}  // namespace

DataRights::DataRights(store::Store& store, async::WorkerPool& db, async::WorkerPool& crypto,
                       const auth::PasswordHasher& hasher, auth::RevocationCache& revocations,
                       store::FileStore& files, const core::Clock& clock, DataRightsConfig cfg)
    : store_(store), db_(db), crypto_(crypto), hasher_(hasher), revocations_(revocations),
      files_(files), clock_(clock), cfg_(std::move(cfg)) {}

DataRights::~DataRights() { Stop(); }

void DataRights::Start() {
    std::error_code ec;
    fs::create_directories(cfg_.exports_dir, ec);
    fs::permissions(cfg_.exports_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    const std::int64_t now = clock_.NowMs();
    auto failed = store_.DataExports().FailUnfinished(now, now + cfg_.export_ttl.count());
    if (failed.ok() && *failed > 0) obs::Warn("exports_interrupted", {{"count", *failed}});
    // Partial archives of those jobs.
    for (const auto& e : fs::directory_iterator(cfg_.exports_dir, ec)) {
        if (e.path().extension() == ".partial") fs::remove(e.path(), ec);
    }
    thread_ = std::thread([this] { Loop(); });
}

void DataRights::Stop() {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void DataRights::Audit(std::optional<std::string> actor, std::string action, std::string target,
                       const RequestMeta& meta, std::string detail_json) {
    AppendAudit(store_, clock_, std::move(actor), std::move(action), std::move(target), meta,
                std::move(detail_json));
}

// ---- exports ----

net::awaitable<Result<store::DataExport>> DataRights::StartExport(auth::Principal who,
                                                                  RequestMeta meta) {
    auto created = co_await db_.Run(
        [this](std::string uid, RequestMeta m) -> Result<store::DataExport> {
            store::DataExport e;
            e.user_id = uid;
            auto r = store_.DataExports().Create(std::move(e));
            if (!r.ok()) return r;
            Audit(uid, "user.export_requested", "export:" + r->id, m, "{}");
            return r;
        },
        who.user_id, std::move(meta));
    if (!created.ok()) co_return created;
    {
        std::lock_guard lk(mu_);
        queue_.push_back(*created);
    }
    cv_.notify_all();
    co_return created;
}

net::awaitable<Result<std::vector<store::DataExport>>> DataRights::ListExports(auth::Principal who) {
    co_return co_await db_.Run(
        [this](std::string uid) { return store_.DataExports().ListByUser(uid); }, who.user_id);
}

net::awaitable<Result<store::DataExport>> DataRights::GetExport(auth::Principal who, std::string id) {
    co_return co_await db_.Run(
        [this](std::string uid, std::string id) { return store_.DataExports().Get(uid, id); },
        who.user_id, std::move(id));
}

net::awaitable<Result<ExportFile>> DataRights::OpenExport(auth::Principal who, std::string id,
                                                          RequestMeta meta) {
    co_return co_await db_.Run(
        [this](std::string uid, std::string id, RequestMeta m) -> Result<ExportFile> {
            auto e = store_.DataExports().Get(uid, id);
            if (!e.ok()) return e.error();
            if (e->status == store::ExportStatus::kFailed)
                return Error::Make(ErrorCode::kConflict, "export_failed",
                                   "This export failed; start a new one.");
            if (e->status != store::ExportStatus::kReady)
                return Error::Make(ErrorCode::kConflict, "export_not_ready",
                                   "The export is still being made.");
            if (e->expires_at && *e->expires_at <= clock_.NowMs())
                return Error::Make(ErrorCode::kNotFound, "export_not_found", "No such export.");
            ExportFile f;
            std::ifstream in(fs::path(cfg_.exports_dir) / e->file_path, std::ios::binary);
            if (!in)
                return Error::Make(ErrorCode::kNotFound, "export_not_found", "No such export.");
            std::ostringstream ss;
            ss << in.rdbuf();
            f.bytes = std::move(ss).str();
            f.download_name = "bailian-hub-export-" + e->id + ".zip";
            Audit(uid, "user.export_downloaded", "export:" + e->id, m, "{}");
            return f;
        },
        who.user_id, std::move(id), std::move(meta));
}

void DataRights::Loop() {
    std::unique_lock lk(mu_);
    auto next_sweep = std::chrono::steady_clock::now();
    while (!stop_) {
        if (queue_.empty()) {
            cv_.wait_until(lk, next_sweep, [this] { return stop_ || !queue_.empty(); });
        }
        if (stop_) return;
        if (std::chrono::steady_clock::now() >= next_sweep) {
            lk.unlock();
            SweepExpired();
            lk.lock();
            next_sweep = std::chrono::steady_clock::now() + cfg_.sweep_every;
        }
        if (queue_.empty()) continue;
        store::DataExport job = std::move(queue_.front());
        queue_.pop_front();
        lk.unlock();
        store::ExportPatch running;
        running.status = store::ExportStatus::kRunning;
        running.progress = 1;
        (void)store_.DataExports().Update(job.id, running);
        auto built = BuildExport(job);
        const std::int64_t now = clock_.NowMs();
        store::ExportPatch done;
        done.finished_at = now;
        done.expires_at = now + cfg_.export_ttl.count();
        RequestMeta none;
        if (built.ok()) {
            std::error_code ec;
            done.status = store::ExportStatus::kReady;
            done.progress = 100;
            done.file_path = job.id + ".zip";
            done.bytes = static_cast<std::int64_t>(
                fs::file_size(fs::path(cfg_.exports_dir) / *done.file_path, ec));
            ++exports_done_;
            obs::Info("export_ready", {{"export_id", job.id}, {"bytes", *done.bytes}});
        } else {
            done.status = store::ExportStatus::kFailed;
            done.error_code = built.error().api_code.empty() ? "export_failed" : built.error().api_code;
            ++exports_failed_;
            obs::Error("export_failed", {{"export_id", job.id},
                                         {"error", built.error().public_message},
                                         {"detail", built.error().detail}});
        }
        if (store_.DataExports().Update(job.id, done).ok()) {
            Audit(job.user_id, built.ok() ? "user.export_ready" : "user.export_failed",
                  "export:" + job.id, none, "{}");
        } else {
            // The user was deleted meanwhile: the archive must not outlive them.
            std::error_code ec;
            fs::remove(fs::path(cfg_.exports_dir) / (job.id + ".zip"), ec);
        }
        lk.lock();
    }
}

void DataRights::SweepExpired() {
    auto expired = store_.DataExports().ListExpired(clock_.NowMs());
    if (!expired.ok()) {
        obs::Error("export_sweep_failed", {{"detail", expired.error().detail}});
        return;
    }
    for (const auto& e : *expired) {
        std::error_code ec;
        if (!e.file_path.empty()) fs::remove(fs::path(cfg_.exports_dir) / e.file_path, ec);
        if (store_.DataExports().Delete(e.id).ok())
            obs::Info("export_expired", {{"export_id", e.id}});
    }
}

namespace {

// The parts of a user's export, one function each; `zip` is the archive being written.
Result<void> AddProfile(archive::ZipWriter& zip, store::Store& store, const store::User& u,
                        std::int64_t now_ms) {
    nlohmann::json profile = {{"id", u.id},
                              {"username", u.username},
                              {"email", u.email},
                              {"display_name", u.display_name},
                              {"role", u.role},
                              {"status", std::string(store::ToString(u.status))},
                              {"settings", ParsedOr(u.settings, nlohmann::json::object())},
                              {"mfa_enrolled", u.mfa_secret_enc.has_value()},
                              {"created_at", Iso(u.created_at)},
                              {"updated_at", Iso(u.updated_at)},
                              {"exported_at", Iso(now_ms)}};
    if (auto r = zip.Add("README.txt", kReadme); !r.ok()) return r;
    if (auto r = zip.Add("profile.json", profile.dump(2)); !r.ok()) return r;
    nlohmann::json sessions = nlohmann::json::array();
    if (auto s = store.Sessions().ListActive(u.id); s.ok()) {
        for (const auto& x : *s) {
            sessions.push_back({{"id", x.id},
                                {"user_agent", x.user_agent},
                                {"ip", x.ip},
                                {"created_at", Iso(x.created_at)},
                                {"last_used_at", OptIso(x.last_used_at)},
                                {"expires_at", Iso(x.expires_at)}});
        }
    }
    return zip.Add("sessions.json", sessions.dump(2));
}

// Every conversation, archived ones too.
Result<std::vector<std::string>> ConversationIds(store::Store& store, const std::string& uid) {
    std::vector<std::string> ids;
    store::ConversationQuery q;
    q.include_archived = true;
    q.page.limit = store::kMaxPageSize;
    for (;;) {
        auto page = store.Conversations().List(uid, q);
        if (!page.ok()) return page.error();
        for (const auto& c : page->items) ids.push_back(c.id);
        if (!page->next_cursor) break;
        q.page.cursor = *page->next_cursor;
    }
    return ids;
}

// images.json with every generation, and each stored image under images/.
Result<void> AddImages(archive::ZipWriter& zip, store::Store& store, store::FileStore& files,
                       const std::string& uid) {
    nlohmann::json generations = nlohmann::json::array();
    store::PageRequest page_req;
    page_req.limit = store::kMaxPageSize;
    for (;;) {
        auto page = store.Images().ListByUser(uid, page_req);
        if (!page.ok()) return page.error();
        for (const auto& g : page->items) {
            nlohmann::json images = nlohmann::json::array();
            for (const auto& im : g.images) {
                nlohmann::json j = {{"id", im.id},
                                    {"index", im.index},
                                    {"ok", im.ok},
                                    {"width", im.width},
                                    {"height", im.height},
                                    {"actual_prompt", im.actual_prompt},
                                    {"error_code", im.error_code}};
                if (im.ok && !im.file_path.empty()) {
                    if (auto bytes = files.Read(im.file_path); bytes.ok()) {
                        std::string name =
                            "images/" + im.id + fs::path(im.file_path).extension().string();
                        if (auto r = zip.Add(name, *bytes); !r.ok()) return r;
                        j["file"] = name;
                    }
                }
                images.push_back(std::move(j));
            }
            generations.push_back({{"id", g.id},
                                   {"model", g.model},
                                   {"prompt", g.prompt},
                                   {"negative_prompt", g.negative_prompt},
                                   {"size", g.size},
                                   {"n", g.n},
                                   {"status", std::string(store::ToString(g.status))},
                                   {"created_at", Iso(g.created_at)},
                                   {"images", std::move(images)}});
        }
        if (!page->next_cursor) break;
        page_req.cursor = *page->next_cursor;
    }
    return zip.Add("images.json", generations.dump(2));
}

// uploads.json with every picture the user uploaded, and each file under uploads/.
Result<void> AddUploads(archive::ZipWriter& zip, store::Store& store, store::FileStore& files,
                        const std::string& uid) {
    nlohmann::json list = nlohmann::json::array();
    std::string after;
    for (;;) {
        auto batch = store.Uploads().ListByUser(uid, after, store::kMaxPageSize);
        if (!batch.ok()) return batch.error();
        for (const auto& u : *batch) {
            nlohmann::json j = {{"id", u.id},
                                {"content_type", u.content_type},
                                {"bytes", u.bytes},
                                {"width", u.width},
                                {"height", u.height},
                                {"original_name", u.original_name},
                                {"created_at", Iso(u.created_at)}};
            if (auto bytes = files.Read(u.file_path); bytes.ok()) {
                std::string name = "uploads/" + u.id + fs::path(u.file_path).extension().string();
                if (auto r = zip.Add(name, *bytes); !r.ok()) return r;
                j["file"] = name;
            }
            list.push_back(std::move(j));
        }
        if (batch->size() < static_cast<std::size_t>(store::kMaxPageSize)) break;
        after = batch->back().id;
    }
    return zip.Add("uploads.json", list.dump(2));
}

// The call history as the history page's CSV.
Result<void> AddHistory(archive::ZipWriter& zip, store::Store& store, const std::string& uid) {
    std::string csv(HistoryCsvHeader());
    store::ApiCallFilter f;
    f.user_id = uid;
    store::PageRequest page;
    for (;;) {
        auto batch = store.ApiCalls().ListBatch(f, page, 1000);
        if (!batch.ok()) return batch.error();
        for (const auto& c : batch->items) AppendHistoryCsvRow(csv, c);
        if (!batch->next_cursor) break;
        page.cursor = *batch->next_cursor;
    }
    return zip.Add("history.csv", csv);
}

// Platform keys: metadata only, never the key or its hash.
Result<void> AddApiKeys(archive::ZipWriter& zip, store::Store& store, const std::string& uid) {
    nlohmann::json keys = nlohmann::json::array();
    auto listed = store.ApiKeys().ListByUser(uid, true);
    if (!listed.ok()) return listed.error();
    for (const auto& k : *listed) {
        keys.push_back({{"id", k.id},
                        {"name", k.name},
                        {"prefix", k.prefix},
                        {"scopes", ParsedOr(k.scopes, nlohmann::json::array())},
                        {"models", ParsedOr(k.models, nlohmann::json::array())},
                        {"rpm", k.rpm ? nlohmann::json(*k.rpm) : nlohmann::json(nullptr)},
                        {"tpm", k.tpm ? nlohmann::json(*k.tpm) : nlohmann::json(nullptr)},
                        {"created_at", Iso(k.created_at)},
                        {"expires_at", OptIso(k.expires_at)},
                        {"last_used_at", OptIso(k.last_used_at)},
                        {"revoked_at", OptIso(k.revoked_at)}});
    }
    return zip.Add("api_keys.json", keys.dump(2));
}

}  // namespace

Result<void> DataRights::BuildExport(const store::DataExport& job) {
    const std::string uid = job.user_id;
    auto user = store_.Users().Get(uid);
    if (!user.ok()) return user.error();
    const fs::path partial = fs::path(cfg_.exports_dir) / (job.id + ".zip.partial");
    struct Cleanup {
        const fs::path& p;
        ~Cleanup() {
            std::error_code ec;
            fs::remove(p, ec);
        }
    } cleanup{partial};
    auto zip = archive::ZipWriter::Create(partial.string(), clock_.NowMs());
    if (!zip.ok()) return zip.error();
    archive::ZipWriter& z = **zip;
    if (auto r = AddProfile(z, store_, *user, clock_.NowMs()); !r.ok()) return r;

    auto conversation_ids = ConversationIds(store_, uid);
    if (!conversation_ids.ok()) return conversation_ids.error();
    // Progress: one step per conversation, three for the rest; written every 5 %.
    const double steps = static_cast<double>(conversation_ids->size()) + 3;
    double done = 0;
    int last_progress = 1;
    auto progress = [&] {
        int p = std::clamp(static_cast<int>(++done * 98 / steps) + 1, 1, 99);
        if (p < last_progress + 5) return;
        last_progress = p;
        store::ExportPatch patch;
        patch.progress = p;
        (void)store_.DataExports().Update(job.id, patch);
    };
    for (const auto& cid : *conversation_ids) {
        auto e = Conversations::ExportBlocking(store_, uid, cid, cfg_.max_export_messages);
        if (!e.ok()) {
            if (e.error().code == ErrorCode::kNotFound) continue;  // deleted meanwhile
            return e.error();
        }
        const std::string base = "conversations/" + cid;
        if (cfg_.conversation_json) {
            if (auto r = z.Add(base + ".json", cfg_.conversation_json(*e)); !r.ok()) return r;
        }
        if (auto r = z.Add(base + ".md", RenderMarkdown(*e)); !r.ok()) return r;
        progress();
    }
    if (auto r = AddImages(z, store_, files_, uid); !r.ok()) return r;
    if (auto r = AddUploads(z, store_, files_, uid); !r.ok()) return r;
    progress();
    if (auto r = AddHistory(z, store_, uid); !r.ok()) return r;
    progress();
    if (auto r = AddApiKeys(z, store_, uid); !r.ok()) return r;

    auto size = z.Finish();
    if (!size.ok()) return size.error();
    std::error_code ec;
    fs::rename(partial, fs::path(cfg_.exports_dir) / (job.id + ".zip"), ec);
    if (ec) {
        return Error::Make(ErrorCode::kInternal, "export_write_failed",
                           "The export could not be written.", ec.message());
    }
    return core::Ok();
}

// ---- deletion ----

Result<void> DataRights::Erase(const std::string& user_id, const std::optional<std::string>& actor,
                               const std::string& action, const RequestMeta& meta) {
    const std::string tombstone = "deleted-" + core::NewId();
    auto erased = store_.Users().Erase(user_id, tombstone);
    if (!erased.ok()) return erased.error();
    // Content-addressed files may be shared with another user's rows: keep those.
    std::int64_t removed = 0;
    for (const auto& path : erased->file_paths) {
        auto uses = store_.Images().CountFileUses(path);
        if (uses.ok() && *uses == 0 && files_.Remove(path).ok()) ++removed;
    }
    for (const auto& f : erased->export_files) {
        std::error_code ec;
        fs::remove(fs::path(cfg_.exports_dir) / f, ec);
    }
    Audit(actor, action, "user:" + user_id, meta,
          nlohmann::json({{"tombstone_id", tombstone},
                          {"api_calls_anonymised", erased->api_calls_anonymised},
                          {"sessions_ended", erased->session_ids.size()},
                          {"files_removed", removed}})
              .dump());
    // Every access token of the user stops now (the guard checks this on every request), and
    // what was cached about their platform keys is stale.
    for (const auto& sid : erased->session_ids) revocations_.RevokeSession(sid);
    revocations_.DisableUser(user_id);
    revocations_.NoteUserChanged(user_id);
    obs::Info("user_deleted", {{"user_id", user_id}, {"by", actor ? *actor : std::string()}});
    return core::Ok();
}

net::awaitable<Result<void>> DataRights::DeleteOwnAccount(auth::Principal who,
                                                          std::string password,
                                                          std::optional<std::string> mfa_code,
                                                          RequestMeta meta) {
    auto user = co_await db_.Run([this](std::string uid) { return store_.Users().Get(uid); },
                                 who.user_id);
    if (!user.ok()) co_return user.error();
    bool ok = co_await crypto_.Run(
        [this](std::string pw, std::string hash) { return hasher_.Verify(pw, hash); },
        std::move(password), user->password_hash);
    if (!ok) {
        co_await db_.Run(
            [this](std::string uid, RequestMeta m) {
                Audit(uid, "user.delete_failed", "user:" + uid, m,
                      nlohmann::json({{"reason", "bad_password"}}).dump());
                return 0;
            },
            who.user_id, meta);
        co_return Error::Make(ErrorCode::kForbidden, "invalid_credentials",
                              "The password is wrong.");
    }
    // The second factor when TOTP is on (the hook is SetMfaCheck; it reads the store, so it
    // runs on the db pool). Without a hook such an account cannot be deleted by its owner.
    if (user->mfa_secret_enc) {
        if (!mfa_check_) {
            co_return Error::Make(ErrorCode::kForbidden, "mfa_required",
                                  "Enter the code from your authenticator app.");
        }
        auto m = co_await db_.Run(
            [this](store::User u, std::optional<std::string> code, RequestMeta meta) {
                return mfa_check_(u, code, meta);
            },
            user.value(), std::move(mfa_code), meta);
        if (!m.ok()) co_return m.error();
    }
    co_return co_await db_.Run(
        [this](std::string uid, RequestMeta m) { return Erase(uid, uid, "user.deleted", m); },
        who.user_id, std::move(meta));
}

net::awaitable<Result<void>> DataRights::AdminDeleteUser(auth::Principal who, std::string user_id,
                                                         RequestMeta meta) {
    if (auto r = auth::Require(who, auth::perm::kUsersManage); !r.ok()) co_return r.error();
    co_return co_await db_.Run(
        [this](std::string actor, std::string uid, RequestMeta m) {
            return Erase(uid, actor, "admin.user_deleted", m);
        },
        who.user_id, std::move(user_id), std::move(meta));
}

}  // namespace hub::services
