#pragma once
// Messages of a conversation. Every call names the owner of the conversation; a message of a
// missing, deleted or foreign conversation answers kNotFound.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/cursor.hpp"
#include "store/models.hpp"

namespace hub::store {

// What changes when a stream ends (or breaks).
struct MessagePatch {
    std::optional<std::string> content;
    std::optional<std::string> reasoning;
    std::optional<MessageStatus> status;
    std::optional<std::string> error_code;
    std::optional<std::string> model;
    std::optional<std::int64_t> input_tokens;
    std::optional<std::int64_t> output_tokens;
};

// Totals of a conversation: messages shown (regenerated answers left out) and the tokens of
// every message, regenerated ones included.
struct MessageTotals {
    std::int64_t messages = 0;
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
};

// A turn's question as stored, or none when the conversation had changed (AppendQuestion).
struct AskedTurn {
    std::optional<Message> question;  // with its id and created_at; nullopt = not written
    Conversation conversation;        // the row after the write (or as it is, unwritten)
};

// What a chat turn writes after the upstream call, as stored.
struct AnsweredTurn {
    Message answer;             // with its id and created_at
    Conversation conversation;  // the row after the write (updated_at bumped)
};

class MessageStore {
public:
    virtual ~MessageStore() = default;

    // Stores the message and bumps the conversation's updated_at in the same transaction.
    // created_at strictly increases within a conversation (a message appended in the same
    // millisecond as the previous one gets +1 ms), so lists keep the order of appends.
    // kNotFound "conversation_not_found"; kUnprocessable "invalid_reference" for a bad parent.
    virtual core::Result<Message> Append(std::string_view user_id, Message message) = 0;
    // A turn's question: appended as Append does, with the conversation row after the write.
    // With `expected` (the row the turn was prepared from, e.g. a cached one), the question is
    // written only if the row still has expected's model, system_prompt and updated_at (every
    // message raises updated_at): otherwise nothing is written, `question` is nullopt and
    // `conversation` is the row as it is now. Errors as Append.
    virtual core::Result<AskedTurn> AppendQuestion(std::string_view user_id, Message question,
                                                   const std::optional<Conversation>& expected) = 0;
    // A turn's one write after upstream: appends the answer (as Append), inserts its api_calls
    // row `call` (id and created_at as given) and bumps the conversation's updated_at, all in
    // ONE transaction: either everything is stored or nothing. Returns the stored answer and
    // the conversation as it is after the write, so the caller needs no second read. Errors
    // as Append (kNotFound "conversation_not_found" when it was deleted meanwhile: then the
    // call's row is not written either; the caller writes it alone).
    virtual core::Result<AnsweredTurn> AppendAnswer(std::string_view user_id, Message answer,
                                                    const ApiCall& call) = 0;
    virtual core::Result<Message> Update(std::string_view user_id, std::string_view id,
                                         const MessagePatch& patch) = 0;
    virtual core::Result<Message> Get(std::string_view user_id, std::string_view id) = 0;
    // Newest first; page.cursor is the `before` cursor returned as next_cursor.
    virtual core::Result<Page<Message>> List(std::string_view user_id,
                                             std::string_view conversation_id,
                                             const PageRequest& page) = 0;
    // Like List, without superseded answers: an assistant message that has a newer assistant
    // sibling (same parent_id: it was regenerated) is left out. Cursors are List's.
    virtual core::Result<Page<Message>> ListCurrent(std::string_view user_id,
                                                    std::string_view conversation_id,
                                                    const PageRequest& page) = 0;
    virtual core::Result<MessageTotals> Totals(std::string_view user_id,
                                               std::string_view conversation_id) = 0;
    // The latest `n` messages in chronological order (prompt context).
    virtual core::Result<std::vector<Message>> Latest(std::string_view user_id,
                                                      std::string_view conversation_id, int n) = 0;
};

}  // namespace hub::store
