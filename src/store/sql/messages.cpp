#include <algorithm>
#include <nlohmann/json.hpp>

#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

// Messages are reached through their conversation, which names the owner.
constexpr std::string_view kSelect =
    "SELECT m.id, m.conversation_id, m.role, m.content, m.model, m.status, m.input_tokens,"
    " m.output_tokens, m.parent_id, m.created_at, m.reasoning, m.error_code, m.attachments"
    " FROM messages m"
    " JOIN conversations c ON c.id = m.conversation_id";
constexpr std::string_view kOwned = " WHERE c.user_id = ? AND c.deleted_at IS NULL";
constexpr std::string_view kCursorKind = "messages";
// An answer that was regenerated: a newer assistant sibling (same parent) exists.
constexpr std::string_view kSuperseded =
    "(m.role = 'assistant' AND m.parent_id IS NOT NULL AND EXISTS (SELECT 1"
    " FROM messages s WHERE s.parent_id = m.parent_id AND s.role = 'assistant'"
    " AND (s.created_at > m.created_at OR (s.created_at = m.created_at AND s.id > m.id))))";

// The attachments column: a JSON array of upload ids.
std::vector<std::string> ParseAttachments(std::string_view text) {
    std::vector<std::string> ids;
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_array()) return ids;
    for (const auto& v : j) {
        if (v.is_string()) ids.push_back(v.get<std::string>());
    }
    return ids;
}

std::string AttachmentsText(const std::vector<std::string>& ids) {
    return nlohmann::json(ids).dump();
}

Message ReadMessage(const Stmt& s) {
    Message m;
    m.id = s.Text(0);
    m.conversation_id = s.Text(1);
    m.role = ParseMessageRole(s.Text(2)).value_or(MessageRole::kUser);
    m.content = s.Text(3);
    m.model = s.Text(4);
    m.status = ParseMessageStatus(s.Text(5)).value_or(MessageStatus::kError);
    m.input_tokens = s.Int(6);
    m.output_tokens = s.Int(7);
    m.parent_id = s.OptText(8);
    m.created_at = s.Int(9);
    m.reasoning = s.Text(10);
    m.error_code = s.Text(11);
    m.attachments = ParseAttachments(s.Text(12));
    return m;
}

core::Result<Message> GetOn(Connection& c, std::string_view user_id, std::string_view id) {
    static const std::string sql = std::string(kSelect) + std::string(kOwned) + " AND m.id = ?";
    HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
    HUB_SQL_ASSIGN(bool row, st.BindAll(user_id, id).Step());
    if (!row) return NotFound("message");
    return ReadMessage(st);
}

core::Result<void> CheckConversation(Connection& c, std::string_view user_id,
                                     std::string_view conversation_id) {
    HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT 1 FROM conversations WHERE id = ?1"
                                      " AND user_id = ?2 AND deleted_at IS NULL"));
    HUB_SQL_ASSIGN(bool row, st.BindAll(conversation_id, user_id).Step());
    if (!row) return NotFound("conversation");
    return core::Ok();
}

core::Result<std::vector<Message>> Query(Connection& c, const std::string& sql,
                                         const std::vector<Param>& params) {
    HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
    st.BindParams(params);
    std::vector<Message> rows;
    while (true) {
        HUB_SQL_ASSIGN(bool row, st.Step());
        if (!row) break;
        rows.push_back(ReadMessage(st));
    }
    return rows;
}

// Inserts `m` into its conversation `conv`, as read in this transaction (created_at strictly
// increasing within it; id and created_at filled in), and bumps the conversation's updated_at
// to at least m.created_at, in the database and in `conv`.
core::Result<void> InsertOn(Connection& c, Message& m, Conversation& conv) {
    // created_at strictly increases within a conversation, so that (created_at, id) orders
    // messages as they were appended even within one millisecond.
    HUB_SQL_ASSIGN(Stmt last, c.Prepare("SELECT max(created_at) FROM messages"
                                        " WHERE conversation_id = ?1"));
    HUB_SQL_TRY(last.BindAll(m.conversation_id).Step());
    if (!last.IsNull(0)) m.created_at = std::max(m.created_at, last.Int(0) + 1);
    FillId(m.id, m.created_at);
    HUB_SQL_ASSIGN(Stmt st, c.Prepare("INSERT INTO messages (id, conversation_id, role, content,"
                                      " model, status, input_tokens, output_tokens, parent_id,"
                                      " created_at, reasoning, error_code, attachments)"
                                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
                                      " ?13)"));
    HUB_SQL_TRY(st.BindAll(m.id, m.conversation_id, ToString(m.role), m.content, m.model,
                           ToString(m.status), m.input_tokens, m.output_tokens, m.parent_id,
                           m.created_at, m.reasoning, m.error_code, AttachmentsText(m.attachments))
                    .Run());
    HUB_SQL_ASSIGN(Stmt touch, c.Prepare("UPDATE conversations SET updated_at ="
                                         " CASE WHEN updated_at > ?2 THEN updated_at ELSE ?2 END"
                                         " WHERE id = ?1"));
    HUB_SQL_TRY(touch.BindAll(m.conversation_id, m.created_at).Run());
    conv.updated_at = std::max(conv.updated_at, m.created_at);
    return core::Ok();
}

class SqlMessageStore final : public MessageStore {
public:
    explicit SqlMessageStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<Message> Append(std::string_view user_id, Message m) override {
        HUB_SQL_ASSIGN(AskedTurn t, AppendQuestion(user_id, std::move(m), std::nullopt));
        return std::move(*t.question);
    }

    core::Result<AskedTurn> AppendQuestion(std::string_view user_id, Message m,
                                           const std::optional<Conversation>& expected) override {
        FillTime(m.created_at, ctx_.clock.NowMs());
        return ctx_.db.WriteFor({user_id}, [&](Connection& c) -> core::Result<AskedTurn> {
            // The row doubles as the ownership check, as the check of `expected` and as the
            // row handed back.
            HUB_SQL_ASSIGN(Conversation conv, GetConversationOn(c, user_id, m.conversation_id));
            AskedTurn out{std::nullopt, std::move(conv)};
            const Conversation& now = out.conversation;
            if (expected && (expected->updated_at != now.updated_at ||
                             expected->model != now.model ||
                             expected->system_prompt != now.system_prompt)) {
                return out;  // changed since the turn was prepared: nothing written
            }
            Message row = m;  // the body may run again (a retried deadlock): m stays as given
            HUB_SQL_TRY(InsertOn(c, row, out.conversation));
            out.question = std::move(row);
            return out;
        });
    }

    core::Result<AnsweredTurn> AppendAnswer(std::string_view user_id, Message m,
                                            const ApiCall& call) override {
        FillTime(m.created_at, ctx_.clock.NowMs());
        return ctx_.db.WriteFor({user_id}, [&](Connection& c) -> core::Result<AnsweredTurn> {
            // The conversation row doubles as the ownership check and as the answer's
            // "conversation" (InsertOn keeps its updated_at as it makes it).
            HUB_SQL_ASSIGN(Conversation conv, GetConversationOn(c, user_id, m.conversation_id));
            AnsweredTurn out{m, std::move(conv)};
            HUB_SQL_TRY(InsertOn(c, out.answer, out.conversation));
            HUB_SQL_TRY(InsertApiCallOn(c, call));
            return out;
        });
    }

    core::Result<Message> Update(std::string_view user_id, std::string_view id,
                                 const MessagePatch& p) override {
        return ctx_.db.WriteFor({user_id}, [&](Connection& c) -> core::Result<Message> {
            HUB_SQL_ASSIGN(
                Stmt st,
                c.Prepare("UPDATE messages SET content = coalesce(?3, content),"
                          " status = coalesce(?4, status), model = coalesce(?5, model),"
                          " input_tokens = coalesce(?6, input_tokens),"
                          " output_tokens = coalesce(?7, output_tokens),"
                          " reasoning = coalesce(?8, reasoning),"
                          " error_code = coalesce(?9, error_code)"
                          " WHERE id = ?1 AND conversation_id IN (SELECT id FROM conversations"
                          " WHERE user_id = ?2 AND deleted_at IS NULL)"));
            std::optional<std::string> status;
            if (p.status) status = std::string(ToString(*p.status));
            HUB_SQL_TRY(
                st.BindAll(id, user_id, p.content, status, p.model, p.input_tokens, p.output_tokens,
                           p.reasoning, p.error_code)
                    .Run());
            if (c.Changes() == 0) return NotFound("message");
            return GetOn(c, user_id, id);
        });
    }

    core::Result<Message> Get(std::string_view user_id, std::string_view id) override {
        return ctx_.db.Read([&](Connection& c) { return GetOn(c, user_id, id); });
    }

    core::Result<Page<Message>> List(std::string_view user_id, std::string_view conversation_id,
                                     const PageRequest& page) override {
        return ListImpl(user_id, conversation_id, page, false);
    }

    core::Result<Page<Message>> ListCurrent(std::string_view user_id,
                                            std::string_view conversation_id,
                                            const PageRequest& page) override {
        return ListImpl(user_id, conversation_id, page, true);
    }

    core::Result<Page<Message>> ListImpl(std::string_view user_id,
                                         std::string_view conversation_id,
                                         const PageRequest& page, bool current_only) {
        int limit = ClampLimit(page.limit);
        Where w;
        w.And("c.user_id = ?", std::string(user_id));
        w.And("c.deleted_at IS NULL");
        w.And("m.conversation_id = ?", std::string(conversation_id));
        if (current_only) w.And("NOT " + std::string(kSuperseded));
        HUB_SQL_TRY(AddCursorBefore(w, "(m.created_at, m.id)", kCursorKind, page.cursor, 1));
        w.params().emplace_back(std::int64_t{limit} + 1);
        std::string sql =
            std::string(kSelect) + w.sql() + " ORDER BY m.created_at DESC, m.id DESC LIMIT ?";
        return ctx_.db.Read([&](Connection& c) -> core::Result<Page<Message>> {
            HUB_SQL_TRY(CheckConversation(c, user_id, conversation_id));
            HUB_SQL_ASSIGN(std::vector<Message> rows, Query(c, sql, w.params()));
            return MakePage(std::move(rows), limit, kCursorKind, [](const Message& m) {
                return CursorKey{{m.created_at}, m.id};
            });
        });
    }

    core::Result<MessageTotals> Totals(std::string_view user_id,
                                       std::string_view conversation_id) override {
        static const std::string sql =
            "SELECT sum(CASE WHEN " + std::string(kSuperseded) +
            " THEN 0 ELSE 1 END), coalesce(sum(m.input_tokens), 0),"
            " coalesce(sum(m.output_tokens), 0) FROM messages m WHERE m.conversation_id = ?1";
        return ctx_.db.Read([&](Connection& c) -> core::Result<MessageTotals> {
            HUB_SQL_TRY(CheckConversation(c, user_id, conversation_id));
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            HUB_SQL_TRY(st.BindAll(conversation_id).Step());
            MessageTotals t;
            t.messages = st.IsNull(0) ? 0 : st.Int(0);
            t.input_tokens = st.Int(1);
            t.output_tokens = st.Int(2);
            return t;
        });
    }

    core::Result<std::vector<Message>> Latest(std::string_view user_id,
                                              std::string_view conversation_id, int n) override {
        static const std::string sql = std::string(kSelect) + std::string(kOwned) +
                                       " AND m.conversation_id = ?"
                                       " ORDER BY m.created_at DESC, m.id DESC LIMIT ?";
        std::vector<Param> params{std::string(user_id), std::string(conversation_id),
                                  std::int64_t{std::max(n, 0)}};
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::vector<Message>> {
            HUB_SQL_TRY(CheckConversation(c, user_id, conversation_id));
            HUB_SQL_ASSIGN(std::vector<Message> rows, Query(c, sql, params));
            std::reverse(rows.begin(), rows.end());
            return rows;
        });
    }

private:
    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<MessageStore> MakeMessageStore(RepoContext ctx) {
    return std::make_unique<SqlMessageStore>(ctx);
}

}  // namespace hub::store::sql
