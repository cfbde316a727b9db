#pragma once
// Conversations of a user. Every call names the owner: another user's conversation answers
// kNotFound, exactly like a missing one. A soft-deleted conversation (deleted_at set) is
// hidden everywhere, together with its messages.
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "store/cursor.hpp"
#include "store/models.hpp"

namespace hub::store {

struct ConversationQuery {
    // Searches titles and message text (case-insensitive substring of every word).
    std::string q;
    bool include_archived = false;
    PageRequest page;  // pinned first, then most recently updated
};

struct ConversationPatch {
    std::optional<std::string> title;
    std::optional<std::string> model;
    std::optional<std::string> system_prompt;
    std::optional<bool> pinned;
    std::optional<bool> archived;
};

class ConversationStore {
public:
    virtual ~ConversationStore() = default;

    virtual core::Result<Conversation> Create(Conversation conversation) = 0;
    virtual core::Result<Conversation> Get(std::string_view user_id, std::string_view id) = 0;
    virtual core::Result<Page<Conversation>> List(std::string_view user_id,
                                                  const ConversationQuery& query) = 0;
    // Returns the updated conversation; sets updated_at.
    virtual core::Result<Conversation> Update(std::string_view user_id, std::string_view id,
                                              const ConversationPatch& patch) = 0;
    // Sets the title only while it is empty (a first answer names the conversation);
    // returns whether it did.
    virtual core::Result<bool> SetTitleIfEmpty(std::string_view user_id, std::string_view id,
                                               std::string_view title) = 0;
    virtual core::Result<void> SoftDelete(std::string_view user_id, std::string_view id) = 0;
};

}  // namespace hub::store
