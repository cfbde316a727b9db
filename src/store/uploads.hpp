#pragma once
// Pictures users uploaded to attach to messages. Scoped to the owner: another user's id is
// kNotFound "upload_not_found", the same as a missing one.
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/models.hpp"

namespace hub::store {

class UploadStore {
public:
    virtual ~UploadStore() = default;

    // Stores a new upload (id and created_at filled when empty).
    virtual core::Result<Upload> Create(Upload upload) = 0;
    virtual core::Result<Upload> Get(std::string_view user_id, std::string_view id) = 0;
    // Any upload (a signed file URL names it; the signature is the credential).
    virtual core::Result<Upload> GetById(std::string_view id) = 0;
    // The owner's uploads among `ids`, in any order; ids that are missing or another user's
    // are simply not in the answer.
    virtual core::Result<std::vector<Upload>> GetMany(std::string_view user_id,
                                                      const std::vector<std::string>& ids) = 0;
    // The owner's uploads in id order (UUIDv7: creation order, to the millisecond), `limit` of
    // them after `after_id` (empty = from the start).
    virtual core::Result<std::vector<Upload>> ListByUser(std::string_view user_id,
                                                         std::string_view after_id,
                                                         std::size_t limit) = 0;
};

}  // namespace hub::store
