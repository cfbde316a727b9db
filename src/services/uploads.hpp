#pragma once
// Pictures users upload to ask a vision model about them. An upload is checked and re-encoded
// on the media worker pool (media/image.hpp: type from the bytes, size from the header, EXIF
// orientation applied, metadata dropped, shrunk to what the models take), kept in the file
// store beside the generated images and served owner-only at /api/v1/files/{id}. Chat turns
// name uploads as message attachments; they travel upstream as data: URLs (DashScope cannot
// reach the hub's files).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "async/offload.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "media/image.hpp"
#include "services/images.hpp"
#include "store/file_store.hpp"
#include "store/store.hpp"

namespace hub::services {

struct UploadsConfig {
    std::size_t max_bytes = 10u << 20;  // one upload, as sent
    int max_side = 4096;                // each side of an upload, in pixels
    // Pictures with more pixels are shrunk to this before they are stored: what Qwen-VL looks
    // at without vl_high_resolution_images (1280 tokens of 28x28 pixels).
    std::int64_t model_max_pixels = 1280 * 28 * 28;
    std::size_t max_attachments = 4;  // per message
};

// A picture as it goes upstream.
struct InlinePicture {
    std::string data_url;
    std::int64_t width = 0;
    std::int64_t height = 0;
};

// What a chat turn needs of the uploads (an interface, so chat tests can fake it).
class AttachmentSource {
public:
    virtual ~AttachmentSource() = default;
    // 404 "file_not_found" when any id is unknown or another user's.
    virtual net::awaitable<core::Result<std::vector<store::Upload>>> Resolve(
        std::string user_id, std::vector<std::string> ids) = 0;
    // id -> picture of the owner's uploads among `ids` (missing ones are left out).
    virtual net::awaitable<std::map<std::string, InlinePicture>> DataUrls(
        std::string user_id, std::vector<std::string> ids) = 0;
};

// Validates a message's "attachments" value (absent/null = none): an array of at most `max`
// distinct non-empty id strings. 400 validation_failed naming "attachments" otherwise.
core::Result<std::vector<std::string>> ParseAttachmentIds(const nlohmann::json& value,
                                                          std::size_t max);

// Estimated prompt tokens of one picture of w x h as sent (28x28 pixel patches, plus the
// two marker tokens), the way Qwen-VL counts them.
std::int64_t EstimateImageTokens(std::int64_t width, std::int64_t height);

class Uploads final : public AttachmentSource {
public:
    Uploads(store::Store& store, async::WorkerPool& db, async::WorkerPool& media,
            store::FileStore& files, const core::Clock& clock, UploadsConfig cfg);

    // Checks, re-encodes and stores one picture. 413 over max_bytes, 415 not a picture,
    // 400 damaged, 422 too many pixels (before decoding) or too few.
    net::awaitable<core::Result<store::Upload>> Create(std::string user_id,
                                                       std::string original_name,
                                                       std::string bytes);
    net::awaitable<core::Result<store::Upload>> Get(std::string user_id, std::string id);
    // The owner's file; kNotFound for anything else (so the caller can try generated images).
    net::awaitable<core::Result<FileContent>> ReadFile(std::string user_id, std::string id);

    net::awaitable<core::Result<std::vector<store::Upload>>> Resolve(
        std::string user_id, std::vector<std::string> ids) override;
    net::awaitable<std::map<std::string, InlinePicture>> DataUrls(
        std::string user_id, std::vector<std::string> ids) override;

    const UploadsConfig& config() const { return cfg_; }

private:

    store::Store& store_;
    async::WorkerPool& db_;
    async::WorkerPool& media_;
    store::FileStore& files_;
    const core::Clock& clock_;
    UploadsConfig cfg_;
};

}  // namespace hub::services
