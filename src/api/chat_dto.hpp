#pragma once
// Public JSON shapes of conversations, messages, models and usage history.
#include <nlohmann/json.hpp>
#include <optional>

#include "services/models.hpp"
#include "store/messages.hpp"
#include "store/models.hpp"
#include "store/usage_stats.hpp"

namespace hub::api {

// {id, title, model, system_prompt, pinned, archived, created_at, updated_at[, message_count,
// input_tokens, output_tokens]}
nlohmann::json ConversationJson(const store::Conversation& c,
                                const std::optional<store::MessageTotals>& totals = std::nullopt);
// {id, conversation_id, role, content, reasoning, model, status, error_code, input_tokens,
// output_tokens, parent_id, created_at}
nlohmann::json MessageJson(const store::Message& m);
// A message's pictures: [{id, url}] (url: the owner-only /api/v1/files/{id}).
nlohmann::json AttachmentsJson(const std::vector<std::string>& ids);
// {id, kind, context_window, max_input_tokens, max_output_tokens, prices{...}, thinking,
// enabled, default}
nlohmann::json ModelJson(const services::ModelInfo& m, bool is_default);
nlohmann::json ApiCallJson(const store::ApiCall& c);
nlohmann::json UsageBucketJson(const store::UsageBucket& b);

}  // namespace hub::api
