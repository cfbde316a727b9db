#pragma once
// Image generations (one DashScope async task each) and their result images. The background
// poller reads and updates generations without an owner check; everything the API does is
// scoped to the owner (another user's id is kNotFound "image_generation_not_found").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/cursor.hpp"
#include "store/models.hpp"

namespace hub::store {

// Fields the poller moves as the task advances; absent = unchanged.
struct GenerationPatch {
    std::optional<GenerationStatus> status;
    std::optional<std::string> task_id;
    std::optional<std::string> upstream_request_id;
    std::optional<std::string> error_code;
    std::optional<std::string> error_message;
    std::optional<int> polls;
    std::optional<std::int64_t> submitted_at;
    std::optional<std::int64_t> started_at;
    std::optional<std::int64_t> finished_at;
};

class ImageStore {
public:
    virtual ~ImageStore() = default;

    // Stores a new generation (id and created_at filled when empty); images are ignored.
    virtual core::Result<ImageGeneration> Create(ImageGeneration g) = 0;
    // The owner's generation with its images.
    virtual core::Result<ImageGeneration> Get(std::string_view user_id, std::string_view id) = 0;
    // Any generation with its images (the poller).
    virtual core::Result<ImageGeneration> GetAny(std::string_view id) = 0;
    virtual core::Result<ImageGeneration> Update(std::string_view id,
                                                 const GenerationPatch& patch) = 0;
    // Ends a generation: its status, error and finished_at, and its result images, in one
    // transaction. kConflict "image_generation_finished" when it had already ended.
    virtual core::Result<ImageGeneration> Finish(std::string_view id, const GenerationPatch& patch,
                                                 std::vector<GeneratedImage> images) = 0;
    // Sets accounted_at once: true when this call set it.
    virtual core::Result<bool> MarkAccounted(std::string_view id, std::int64_t at_ms) = 0;
    // Newest first, with images.
    virtual core::Result<Page<ImageGeneration>> ListByUser(std::string_view user_id,
                                                           const PageRequest& page) = 0;
    // Generations whose api_calls row is not written yet (running, or finished and not yet
    // accounted), oldest first: the poller resumes them after a restart.
    virtual core::Result<std::vector<ImageGeneration>> ListUnsettled(int limit) = 0;
    // Deletes the owner's generation and its images; returns what was deleted (so the files
    // can be removed).
    virtual core::Result<ImageGeneration> Delete(std::string_view user_id, std::string_view id) = 0;
    // One result image of the owner's (kNotFound "image_not_found" otherwise).
    virtual core::Result<GeneratedImage> GetImage(std::string_view user_id,
                                                  std::string_view image_id) = 0;
    // Any result image (a signed file URL names it; the signature is the credential).
    virtual core::Result<GeneratedImage> GetImageById(std::string_view image_id) = 0;
    // How many rows name this stored file: result images and uploaded pictures (the store is
    // content-addressed, so one file may be shared by several rows, users and tables).
    virtual core::Result<std::int64_t> CountFileUses(std::string_view file_path) = 0;
};

}  // namespace hub::store
