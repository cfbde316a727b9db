#pragma once
// Conversations of a user: create, list (search), read, change, delete, export, and their
// messages. The owner is part of every store call, so another user's conversation answers 404
// exactly like a missing one.
#include <optional>
#include <string>
#include <vector>

#include "async/offload.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "services/history.hpp"
#include "services/models.hpp"
#include "store/store.hpp"

namespace hub::services {

struct ConversationLimits {
    std::size_t max_title_chars = 200;
    std::size_t max_system_prompt_chars = 32'000;
    std::size_t max_export_messages = 20'000;
};

struct NewConversation {
    std::optional<std::string> title;
    std::optional<std::string> model;
    std::optional<std::string> system_prompt;
};

// Everything an export shows, messages oldest first (regenerated answers left out).
struct ConversationExport {
    store::Conversation conversation;
    std::vector<store::Message> messages;
    bool truncated = false;  // more than max_export_messages
};

class Conversations {
public:
    Conversations(store::Store& store, async::WorkerPool& db, const Catalog& catalog,
                  HistoryCache& history, ConversationLimits limits);

    net::awaitable<core::Result<store::Conversation>> Create(std::string user_id,
                                                             NewConversation in);
    net::awaitable<core::Result<store::Page<store::Conversation>>> List(
        std::string user_id, store::ConversationQuery query);
    net::awaitable<core::Result<store::Conversation>> Get(std::string user_id, std::string id);
    struct Detail {
        store::Conversation conversation;
        store::MessageTotals totals;
    };
    // The conversation with its message count and token totals.
    net::awaitable<core::Result<Detail>> GetDetail(std::string user_id, std::string id);
    net::awaitable<core::Result<store::Conversation>> Update(std::string user_id, std::string id,
                                                             store::ConversationPatch patch);
    net::awaitable<core::Result<void>> Delete(std::string user_id, std::string id);
    // One page of messages, oldest first within the page; next_cursor leads to older ones.
    net::awaitable<core::Result<store::Page<store::Message>>> Messages(std::string user_id,
                                                                       std::string id,
                                                                       store::PageRequest page);
    net::awaitable<core::Result<ConversationExport>> Export(std::string user_id, std::string id);
    // The same, blocking (the data export's worker thread).
    static core::Result<ConversationExport> ExportBlocking(store::Store& store,
                                                           const std::string& user_id,
                                                           const std::string& id,
                                                           std::size_t max_messages);

    // Input checks (pure): title length and control characters, model in the catalog,
    // system prompt length. Empty model = the default model.
    core::Result<void> ValidateFields(const std::optional<std::string>& title,
                                      const std::optional<std::string>& model,
                                      const std::optional<std::string>& system_prompt) const;

private:
    store::Store& store_;
    async::WorkerPool& db_;
    const Catalog& catalog_;
    HistoryCache& history_;
    ConversationLimits limits_;
};

// Markdown export (pure): title, model and dates, the system prompt, then each message under
// a heading; reasoning as a quoted block; non-complete answers marked.
std::string RenderMarkdown(const ConversationExport& e);

}  // namespace hub::services
