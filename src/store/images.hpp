#pragma once
// Generated images: one row per image task result.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/cursor.hpp"
#include "store/models.hpp"

namespace hub::store {

struct ImagePatch {
    std::optional<ImageStatus> status;
    std::optional<std::string> task_id;
    std::optional<std::string> file_path;
    std::optional<std::int64_t> width;
    std::optional<std::int64_t> height;
};

class ImageStore {
public:
    virtual ~ImageStore() = default;

    virtual core::Result<Image> Create(Image image) = 0;
    virtual core::Result<Image> Get(std::string_view user_id, std::string_view id) = 0;
    // For the background poller (no owner check).
    virtual core::Result<Image> Update(std::string_view id, const ImagePatch& patch) = 0;
    virtual core::Result<Page<Image>> ListByUser(std::string_view user_id,
                                                 const PageRequest& page) = 0;
    // Oldest first; lets the poller resume pending/running tasks after a restart.
    virtual core::Result<std::vector<Image>> ListByStatus(ImageStatus status, int limit) = 0;
};

}  // namespace hub::store
