#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

using core::ErrorCode;

class MessagesTest : public testing::DialectStoreTest {
protected:
    void SetUp() override {
        DialectStoreTest::SetUp();
        owner_ = NewUser("owner");
        other_ = NewUser("other");
        Conversation c;
        c.user_id = owner_.id;
        conv_ = store().Conversations().Create(c).value();
    }

    Message Append(const std::string& text, MessageRole role = MessageRole::kUser,
                   MessageStatus status = MessageStatus::kComplete) {
        Message m;
        m.conversation_id = conv_.id;
        m.role = role;
        m.status = status;
        m.content = text;
        auto r = store().Messages().Append(owner_.id, m);
        EXPECT_TRUE(r.ok()) << r.error().detail;
        return r.ok() ? r.value() : Message{};
    }

    std::vector<std::string> Contents(const std::vector<Message>& ms) {
        std::vector<std::string> out;
        for (const auto& m : ms) out.push_back(m.content);
        return out;
    }

    User owner_;
    User other_;
    Conversation conv_;
};

TEST_P(MessagesTest, AppendStoresAndBumpsTheConversation) {
    Advance(500);
    Message q = Append("hello");
    EXPECT_FALSE(q.id.empty());
    EXPECT_EQ(q.created_at, testing::kT0 + 500);
    EXPECT_EQ(store().Conversations().Get(owner_.id, conv_.id).value().updated_at,
              testing::kT0 + 500);

    Message a;
    a.conversation_id = conv_.id;
    a.role = MessageRole::kAssistant;
    a.status = MessageStatus::kStreaming;
    a.model = "qwen-max";
    a.parent_id = q.id;
    ASSERT_OK_AND_ASSIGN(Message stored, store().Messages().Append(owner_.id, a));
    ASSERT_OK_AND_ASSIGN(Message got, store().Messages().Get(owner_.id, stored.id));
    EXPECT_EQ(got.role, MessageRole::kAssistant);
    EXPECT_EQ(got.status, MessageStatus::kStreaming);
    EXPECT_EQ(got.model, "qwen-max");
    EXPECT_EQ(got.parent_id, q.id);
    // Same millisecond: created_at still increases, so the order is the append order.
    EXPECT_EQ(got.created_at, q.created_at + 1);

    EXPECT_ERROR(store().Messages().Get(other_.id, stored.id), ErrorCode::kNotFound,
                 "message_not_found");
    EXPECT_ERROR(store().Messages().Append(other_.id, a), ErrorCode::kNotFound,
                 "conversation_not_found");
    a.parent_id = "no-such-message";
    EXPECT_ERROR(store().Messages().Append(owner_.id, a), ErrorCode::kUnprocessable,
                 "invalid_reference");
}

TEST_P(MessagesTest, UpdateAtStreamEnd) {
    Message a = Append("", MessageRole::kAssistant, MessageStatus::kStreaming);
    MessagePatch p;
    p.content = "The answer is 42.";
    p.status = MessageStatus::kComplete;
    p.input_tokens = 12;
    p.output_tokens = 7;
    ASSERT_OK_AND_ASSIGN(Message done, store().Messages().Update(owner_.id, a.id, p));
    EXPECT_EQ(done.content, "The answer is 42.");
    EXPECT_EQ(done.status, MessageStatus::kComplete);
    EXPECT_EQ(done.input_tokens, 12);
    EXPECT_EQ(done.output_tokens, 7);
    EXPECT_EQ(done.created_at, a.created_at);

    MessagePatch interrupted;
    interrupted.status = MessageStatus::kInterrupted;
    ASSERT_OK_AND_ASSIGN(Message again, store().Messages().Update(owner_.id, a.id, interrupted));
    EXPECT_EQ(again.content, "The answer is 42.");
    EXPECT_EQ(again.status, MessageStatus::kInterrupted);
    EXPECT_ERROR(store().Messages().Update(other_.id, a.id, p), ErrorCode::kNotFound,
                 "message_not_found");
}

TEST_P(MessagesTest, ListNewestFirstWithBeforeCursor) {
    for (int i = 0; i < 5; ++i) Append("m" + std::to_string(i));
    PageRequest page;
    page.limit = 2;
    ASSERT_OK_AND_ASSIGN(Page<Message> p1, store().Messages().List(owner_.id, conv_.id, page));
    EXPECT_EQ(Contents(p1.items), (std::vector<std::string>{"m4", "m3"}));
    ASSERT_TRUE(p1.next_cursor);
    page.cursor = *p1.next_cursor;
    ASSERT_OK_AND_ASSIGN(Page<Message> p2, store().Messages().List(owner_.id, conv_.id, page));
    EXPECT_EQ(Contents(p2.items), (std::vector<std::string>{"m2", "m1"}));
    page.cursor = *p2.next_cursor;
    ASSERT_OK_AND_ASSIGN(Page<Message> p3, store().Messages().List(owner_.id, conv_.id, page));
    EXPECT_EQ(Contents(p3.items), (std::vector<std::string>{"m0"}));
    EXPECT_FALSE(p3.next_cursor);

    EXPECT_ERROR(store().Messages().List(other_.id, conv_.id, {}), ErrorCode::kNotFound,
                 "conversation_not_found");
    PageRequest foreign_cursor;
    foreign_cursor.cursor = EncodeCursor("api_calls", CursorKey{{1}, "x"});
    EXPECT_ERROR(store().Messages().List(owner_.id, conv_.id, foreign_cursor),
                 ErrorCode::kInvalidArgument, "invalid_cursor");
}

TEST_P(MessagesTest, LatestGivesContextInChronologicalOrder) {
    for (int i = 0; i < 6; ++i) {
        Append("m" + std::to_string(i), i % 2 ? MessageRole::kAssistant : MessageRole::kUser);
    }
    ASSERT_OK_AND_ASSIGN(auto last3, store().Messages().Latest(owner_.id, conv_.id, 3));
    EXPECT_EQ(Contents(last3), (std::vector<std::string>{"m3", "m4", "m5"}));
    ASSERT_OK_AND_ASSIGN(auto all, store().Messages().Latest(owner_.id, conv_.id, 100));
    EXPECT_EQ(all.size(), 6u);
    ASSERT_OK_AND_ASSIGN(auto none, store().Messages().Latest(owner_.id, conv_.id, 0));
    EXPECT_TRUE(none.empty());
    EXPECT_ERROR(store().Messages().Latest(other_.id, conv_.id, 3), ErrorCode::kNotFound,
                 "conversation_not_found");
}

TEST_P(MessagesTest, ReasoningAndErrorCodeAreKeptApartFromTheAnswer) {
    Message a;
    a.conversation_id = conv_.id;
    a.role = MessageRole::kAssistant;
    a.status = MessageStatus::kStreaming;
    a.reasoning = "Let me think.";
    ASSERT_OK_AND_ASSIGN(Message stored, store().Messages().Append(owner_.id, a));
    EXPECT_EQ(stored.reasoning, "Let me think.");
    EXPECT_EQ(stored.error_code, "");

    MessagePatch p;
    p.reasoning = "Let me think. Then answer.";
    p.content = "Partial";
    p.status = MessageStatus::kError;
    p.error_code = "upstream_rate_limited";
    ASSERT_OK_AND_ASSIGN(Message done, store().Messages().Update(owner_.id, stored.id, p));
    EXPECT_EQ(done.reasoning, "Let me think. Then answer.");
    EXPECT_EQ(done.content, "Partial");
    EXPECT_EQ(done.error_code, "upstream_rate_limited");

    MessagePatch only_status;
    only_status.status = MessageStatus::kInterrupted;
    ASSERT_OK_AND_ASSIGN(Message kept, store().Messages().Update(owner_.id, stored.id, only_status));
    EXPECT_EQ(kept.reasoning, "Let me think. Then answer.");
    EXPECT_EQ(kept.error_code, "upstream_rate_limited");
    ASSERT_OK_AND_ASSIGN(auto latest, store().Messages().Latest(owner_.id, conv_.id, 1));
    ASSERT_EQ(latest.size(), 1u);
    EXPECT_EQ(latest[0].reasoning, "Let me think. Then answer.");
}

TEST_P(MessagesTest, ListCurrentLeavesOutRegeneratedAnswers) {
    Message q = Append("question");
    auto answer = [&](const std::string& text) {
        Message a;
        a.conversation_id = conv_.id;
        a.role = MessageRole::kAssistant;
        a.content = text;
        a.parent_id = q.id;
        return store().Messages().Append(owner_.id, a).value();
    };
    answer("first try");
    answer("second try");
    Message third = answer("third try");
    ASSERT_OK_AND_ASSIGN(Page<Message> all, store().Messages().List(owner_.id, conv_.id, {}));
    EXPECT_EQ(all.items.size(), 4u);
    ASSERT_OK_AND_ASSIGN(Page<Message> cur, store().Messages().ListCurrent(owner_.id, conv_.id, {}));
    EXPECT_EQ(Contents(cur.items), (std::vector<std::string>{"third try", "question"}));
    EXPECT_EQ(cur.items.front().id, third.id);
    EXPECT_ERROR(store().Messages().ListCurrent(other_.id, conv_.id, {}), ErrorCode::kNotFound,
                 "conversation_not_found");

    MessagePatch tokens;
    tokens.input_tokens = 10;
    tokens.output_tokens = 5;
    ASSERT_OK(store().Messages().Update(owner_.id, third.id, tokens));
    ASSERT_OK_AND_ASSIGN(MessageTotals t, store().Messages().Totals(owner_.id, conv_.id));
    EXPECT_EQ(t.messages, 2);
    EXPECT_EQ(t.input_tokens, 10);
    EXPECT_EQ(t.output_tokens, 5);
    EXPECT_ERROR(store().Messages().Totals(other_.id, conv_.id), ErrorCode::kNotFound,
                 "conversation_not_found");
}

// A chat turn's one write after upstream: the answer, its api_calls row and the conversation
// row, all or none.
TEST_P(MessagesTest, AppendAnswerWritesTheAnswerItsCallAndTheConversationInOneGo) {
    Message q = Append("hello");
    Advance(250);
    Message a;
    a.conversation_id = conv_.id;
    a.role = MessageRole::kAssistant;
    a.status = MessageStatus::kComplete;
    a.content = "hi there";
    a.model = "qwen-plus";
    a.parent_id = q.id;
    a.input_tokens = 12;
    a.output_tokens = 3;
    ApiCall call;
    call.id = "call-1";
    call.user_id = owner_.id;
    call.conversation_id = conv_.id;
    call.endpoint = "chat";
    call.model = "qwen-plus";
    call.status_code = 200;
    call.input_tokens = 12;
    call.output_tokens = 3;
    call.created_at = testing::kT0 + 1;
    ASSERT_OK_AND_ASSIGN(AnsweredTurn t, store().Messages().AppendAnswer(owner_.id, a, call));
    EXPECT_FALSE(t.answer.id.empty());
    EXPECT_EQ(t.answer.created_at, testing::kT0 + 250);
    EXPECT_EQ(t.answer.content, "hi there");
    // The conversation as a read now gives it: no second round trip needed.
    ASSERT_OK_AND_ASSIGN(Conversation fresh, store().Conversations().Get(owner_.id, conv_.id));
    EXPECT_EQ(t.conversation.id, conv_.id);
    EXPECT_EQ(t.conversation.updated_at, testing::kT0 + 250);
    EXPECT_EQ(t.conversation.updated_at, fresh.updated_at);
    EXPECT_EQ(t.conversation.title, fresh.title);
    EXPECT_EQ(t.conversation.created_at, fresh.created_at);
    ASSERT_OK_AND_ASSIGN(Message got, store().Messages().Get(owner_.id, t.answer.id));
    EXPECT_EQ(got.parent_id, q.id);
    EXPECT_EQ(got.output_tokens, 3);
    ASSERT_OK_AND_ASSIGN(Page<ApiCall> calls, store().ApiCalls().List({}, {}));
    ASSERT_EQ(calls.items.size(), 1u);
    EXPECT_EQ(calls.items[0].id, "call-1");
    EXPECT_EQ(calls.items[0].conversation_id, conv_.id);
    EXPECT_EQ(calls.items[0].created_at, testing::kT0 + 1);

    // The api_calls row fails (its id is taken): the answer is not stored either.
    a.content = "second";
    EXPECT_ERROR(store().Messages().AppendAnswer(owner_.id, a, call), ErrorCode::kConflict,
                 "conflict");
    EXPECT_EQ(Contents(store().Messages().Latest(owner_.id, conv_.id, 10).value()),
              (std::vector<std::string>{"hello", "hi there"}));

    // Another user's or a deleted conversation: nothing at all is written.
    call.id = "call-2";
    EXPECT_ERROR(store().Messages().AppendAnswer(other_.id, a, call), ErrorCode::kNotFound,
                 "conversation_not_found");
    ASSERT_OK(store().Conversations().SoftDelete(owner_.id, conv_.id));
    EXPECT_ERROR(store().Messages().AppendAnswer(owner_.id, a, call), ErrorCode::kNotFound,
                 "conversation_not_found");
    EXPECT_EQ(store().ApiCalls().List({}, {}).value().items.size(), 1u);
    a.parent_id = "no-such-message";
    call.id = "call-3";
    Conversation c;
    c.user_id = owner_.id;
    Conversation other_conv = store().Conversations().Create(c).value();
    a.conversation_id = other_conv.id;
    EXPECT_ERROR(store().Messages().AppendAnswer(owner_.id, a, call), ErrorCode::kUnprocessable,
                 "invalid_reference");
    EXPECT_EQ(store().ApiCalls().List({}, {}).value().items.size(), 1u);
}

TEST_P(MessagesTest, AppendQuestionWritesOnlyWhileTheConversationIsAsExpected) {
    Message q;
    q.conversation_id = conv_.id;
    q.content = "first";
    Advance(100);
    // No expectation: appended as Append does, with the row after the write.
    ASSERT_OK_AND_ASSIGN(AskedTurn t, store().Messages().AppendQuestion(owner_.id, q, {}));
    ASSERT_TRUE(t.question);
    EXPECT_EQ(t.question->content, "first");
    EXPECT_EQ(t.conversation.updated_at, testing::kT0 + 100);
    ASSERT_OK_AND_ASSIGN(Conversation fresh, store().Conversations().Get(owner_.id, conv_.id));
    EXPECT_EQ(t.conversation.updated_at, fresh.updated_at);

    // The row as expected: written.
    Advance(100);
    q.content = "second";
    ASSERT_OK_AND_ASSIGN(t, store().Messages().AppendQuestion(owner_.id, q, fresh));
    ASSERT_TRUE(t.question);
    EXPECT_EQ(t.conversation.updated_at, testing::kT0 + 200);
    const Conversation expected = t.conversation;

    // Each change since: nothing written, the row as it is now handed back.
    auto refused = [&](const Conversation& stale, const char* what) {
        q.content = std::string("refused: ") + what;
        auto r = store().Messages().AppendQuestion(owner_.id, q, stale);
        ASSERT_TRUE(r.ok()) << what;
        EXPECT_FALSE(r->question) << what;
        ASSERT_OK_AND_ASSIGN(Conversation now, store().Conversations().Get(owner_.id, conv_.id));
        EXPECT_EQ(r->conversation.updated_at, now.updated_at) << what;
        EXPECT_EQ(r->conversation.model, now.model) << what;
        EXPECT_EQ(r->conversation.system_prompt, now.system_prompt) << what;
    };
    Conversation older = expected;
    older.updated_at -= 1;
    refused(older, "updated_at");
    ConversationPatch patch;
    patch.system_prompt = "Answer in French.";
    ASSERT_OK(store().Conversations().Update(owner_.id, conv_.id, patch));  // same millisecond
    refused(expected, "system_prompt");
    Conversation prompted = expected;
    prompted.system_prompt = "Answer in French.";
    patch = {};
    patch.model = "qwen-max";
    ASSERT_OK(store().Conversations().Update(owner_.id, conv_.id, patch));
    refused(prompted, "model");
    EXPECT_EQ(Contents(store().Messages().Latest(owner_.id, conv_.id, 10).value()),
              (std::vector<std::string>{"first", "second"}));

    // Another user's or a deleted conversation: not found, expected or not.
    EXPECT_ERROR(store().Messages().AppendQuestion(other_.id, q, {}), ErrorCode::kNotFound,
                 "conversation_not_found");
    ASSERT_OK(store().Conversations().SoftDelete(owner_.id, conv_.id));
    EXPECT_ERROR(store().Messages().AppendQuestion(owner_.id, q, expected), ErrorCode::kNotFound,
                 "conversation_not_found");
}

HUB_STORE_DIALECTS(MessagesTest);
}  // namespace
}  // namespace hub::store
