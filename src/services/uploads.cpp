#include "services/uploads.hpp"

#include <algorithm>
#include <set>

#include "crypto/crypto.hpp"
#include "obs/logging.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

Error FileNotFound() {
    return Error::Make(ErrorCode::kNotFound, "file_not_found", "No such file.");
}

Error AttachmentsInvalid(const std::string& problem) {
    return Error::Make(ErrorCode::kInvalidArgument, "validation_failed", "attachments " + problem);
}

// A file name as given, reduced to something safe to show: no path, no control characters,
// at most 200 bytes of valid UTF-8 (cut at a character boundary).
std::string CleanName(std::string_view name) {
    auto slash = name.find_last_of("/\\");
    if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
    std::string out;
    for (char c : name) {
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f && c != '"') out += c;
    }
    if (out.size() > 200) {
        std::size_t n = 200;
        while (n > 0 && (static_cast<unsigned char>(out[n]) & 0xC0) == 0x80) --n;
        out.resize(n);
    }
    return out;
}

}  // namespace

Result<std::vector<std::string>> ParseAttachmentIds(const nlohmann::json& value, std::size_t max) {
    std::vector<std::string> ids;
    if (value.is_null()) return ids;
    if (!value.is_array()) return AttachmentsInvalid("must be an array of file ids.");
    if (value.size() > max) {
        return AttachmentsInvalid("may name at most " + std::to_string(max) + " images (got " +
                                  std::to_string(value.size()) + ").");
    }
    std::set<std::string> seen;
    for (const auto& v : value) {
        if (!v.is_string() || v.get_ref<const std::string&>().empty() ||
            v.get_ref<const std::string&>().size() > 64) {
            return AttachmentsInvalid("must be an array of file ids.");
        }
        if (!seen.insert(v.get<std::string>()).second)
            return AttachmentsInvalid("names the same file twice.");
        ids.push_back(v.get<std::string>());
    }
    return ids;
}

std::int64_t EstimateImageTokens(std::int64_t width, std::int64_t height) {
    constexpr std::int64_t kPatch = 28;
    return ((std::max<std::int64_t>(width, 1) + kPatch - 1) / kPatch) *
               ((std::max<std::int64_t>(height, 1) + kPatch - 1) / kPatch) +
           2;
}

Uploads::Uploads(store::Store& store, async::WorkerPool& db, async::WorkerPool& media,
                 store::FileStore& files, const core::Clock& clock, UploadsConfig cfg)
    : store_(store), db_(db), media_(media), files_(files), clock_(clock), cfg_(cfg) {}

net::awaitable<Result<store::Upload>> Uploads::Create(std::string user_id,
                                                      std::string original_name,
                                                      std::string bytes) {
    if (bytes.size() > cfg_.max_bytes) {
        co_return Error::Make(ErrorCode::kPayloadTooLarge, "file_too_large",
                              "The file is larger than " +
                                  std::to_string(cfg_.max_bytes >> 20) + " MB.");
    }
    if (bytes.empty()) {
        co_return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                              "file must not be empty.");
    }
    media::NormalizeLimits limits;
    limits.max_side = cfg_.max_side;
    limits.target_pixels = cfg_.model_max_pixels;
    // Decoding is CPU and memory heavy: on the media pool, a few at a time, never an io thread.
    auto normalized = co_await media_.Run(
        [](std::string b, media::NormalizeLimits l) { return media::Normalize(b, l); },
        std::move(bytes), limits);
    if (!normalized.ok()) co_return normalized.error();
    media::NormalizedImage& img = normalized.value();

    store::Upload u;
    u.user_id = std::move(user_id);
    u.content_type = std::string(media::MimeType(img.type));
    u.bytes = static_cast<std::int64_t>(img.bytes.size());
    u.width = img.width;
    u.height = img.height;
    u.original_name = CleanName(original_name);
    u.sha256 = crypto::Sha256Hex(img.bytes);
    std::string ext(media::Extension(img.type));
    auto stored = co_await db_.Run(
        [this](std::string b, std::string sha, std::string ext) { return files_.Put(b, sha, ext); },
        std::move(img.bytes), u.sha256, ext);
    if (!stored.ok()) {
        obs::Error("upload_store_failed", {{"error", stored.error().detail}});
        co_return stored.error();
    }
    u.file_path = stored->path;
    auto created = co_await db_.Run(
        [this](store::Upload u) { return store_.Uploads().Create(std::move(u)); }, std::move(u));
    if (!created.ok()) co_return created.error();
    obs::Info("upload_stored", {{"upload_id", created->id},
                                {"content_type", created->content_type},
                                {"bytes", created->bytes},
                                {"width", created->width},
                                {"height", created->height},
                                {"resized", img.resized}});
    co_return created;
}

net::awaitable<Result<store::Upload>> Uploads::Get(std::string user_id, std::string id) {
    auto r = co_await db_.Run(
        [this](std::string u, std::string id) { return store_.Uploads().Get(u, id); },
        std::move(user_id), std::move(id));
    if (!r.ok() && r.error().code == ErrorCode::kNotFound) co_return FileNotFound();
    co_return r;
}

net::awaitable<Result<FileContent>> Uploads::ReadFile(std::string user_id, std::string id) {
    auto u = co_await Get(std::move(user_id), std::move(id));
    if (!u.ok()) co_return u.error();
    auto bytes = co_await db_.Run([this](std::string path) { return files_.Read(path); },
                                  u->file_path);
    if (!bytes.ok()) {
        obs::Error("upload_file_missing", {{"upload_id", u->id}, {"error", bytes.error().detail}});
        co_return FileNotFound();
    }
    std::string ext = u->content_type == "image/jpeg"   ? "jpg"
                      : u->content_type == "image/webp" ? "webp"
                                                        : "png";
    co_return FileContent{std::move(bytes.value()), u->content_type, u->sha256,
                          "upload-" + u->id + "." + ext};
}

net::awaitable<Result<std::vector<store::Upload>>> Uploads::Resolve(std::string user_id,
                                                                    std::vector<std::string> ids) {
    if (ids.empty()) co_return std::vector<store::Upload>{};
    auto found = co_await db_.Run(
        [this](std::string u, std::vector<std::string> ids) {
            return store_.Uploads().GetMany(u, ids);
        },
        std::move(user_id), ids);
    if (!found.ok()) co_return found.error();
    // In the order asked; any id that is not the caller's is "not found", like a missing one.
    std::vector<store::Upload> out;
    for (const auto& id : ids) {
        auto it = std::find_if(found->begin(), found->end(),
                               [&](const store::Upload& u) { return u.id == id; });
        if (it == found->end()) {
            co_return Error::Make(ErrorCode::kNotFound, "file_not_found",
                                  "attachments: no such file: " + id);
        }
        out.push_back(*it);
    }
    co_return out;
}

net::awaitable<std::map<std::string, InlinePicture>> Uploads::DataUrls(
    std::string user_id, std::vector<std::string> ids) {
    std::map<std::string, InlinePicture> out;
    if (ids.empty()) co_return out;
    auto found = co_await db_.Run(
        [this](std::string u, std::vector<std::string> ids) {
            return store_.Uploads().GetMany(u, ids);
        },
        std::move(user_id), std::move(ids));
    if (!found.ok()) co_return out;
    for (const auto& u : *found) {
        auto bytes = co_await db_.Run([this](std::string path) { return files_.Read(path); },
                                      u.file_path);
        if (!bytes.ok()) {
            obs::Warn("upload_file_missing", {{"upload_id", u.id}});
            continue;
        }
        out[u.id] = InlinePicture{media::DataUrl(u.content_type, *bytes), u.width, u.height};
    }
    co_return out;
}

}  // namespace hub::services
