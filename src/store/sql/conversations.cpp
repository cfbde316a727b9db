#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

constexpr std::string_view kSelect =
    "SELECT c.id, c.user_id, c.title, c.model, c.system_prompt, c.pinned, c.archived,"
    " c.created_at, c.updated_at, c.deleted_at FROM conversations c";
constexpr std::string_view kCursorKind = "conversations";
constexpr std::size_t kMaxSearchTerms = 8;
// The trigram index answers terms of at least this many characters; shorter ones use LIKE.
constexpr std::size_t kMinFtsChars = 3;

Conversation ReadConversation(const Stmt& s) {
    Conversation x;
    x.id = s.Text(0);
    x.user_id = s.Text(1);
    x.title = s.Text(2);
    x.model = s.Text(3);
    x.system_prompt = s.Text(4);
    x.pinned = s.Bool(5);
    x.archived = s.Bool(6);
    x.created_at = s.Int(7);
    x.updated_at = s.Int(8);
    x.deleted_at = s.OptInt(9);
    return x;
}

core::Result<Conversation> GetOn(Connection& c, std::string_view user_id, std::string_view id) {
    static const std::string sql =
        std::string(kSelect) + " WHERE c.id = ?1 AND c.user_id = ?2 AND c.deleted_at IS NULL";
    HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
    HUB_SQL_ASSIGN(bool row, st.BindAll(id, user_id).Step());
    if (!row) return NotFound("conversation");
    return ReadConversation(st);
}

std::vector<std::string> SplitTerms(std::string_view q) {
    std::vector<std::string> terms;
    std::size_t i = 0;
    while (i < q.size() && terms.size() < kMaxSearchTerms) {
        while (i < q.size() && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r')) ++i;
        std::size_t start = i;
        while (i < q.size() && !(q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r')) {
            ++i;
        }
        if (i > start) terms.emplace_back(q.substr(start, i - start));
    }
    return terms;
}

std::size_t Utf8Length(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) {
        if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++n;
    }
    return n;
}

// One FTS5 phrase: the term quoted, so that no character of it is query syntax.
std::string FtsPhrase(std::string_view term) {
    std::string p = "\"";
    for (char c : term) {
        if (c == '"') p.push_back('"');
        p.push_back(c);
    }
    p.push_back('"');
    return p;
}

// Every term must appear in the title or in some message of the conversation. SQLite finds
// terms of kMinFtsChars or more in its trigram FTS5 tables; MySQL/MariaDB (whose FULLTEXT
// cannot find a word inside an unspaced Chinese sentence) and short terms scan the user's own
// conversations with LIKE.
void AddSearch(Where& w, std::string_view q, bool mysql) {
    for (const std::string& term : SplitTerms(q)) {
        if (!mysql && Utf8Length(term) >= kMinFtsChars) {
            std::string phrase = FtsPhrase(term);
            // Messages still queued for the index (messages_fts_pending) are read directly.
            w.And(
                "(c.seq IN (SELECT rowid FROM conversations_fts WHERE conversations_fts MATCH ?)"
                " OR c.id IN (SELECT m.conversation_id FROM messages m WHERE m.seq IN"
                " (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?))"
                " OR c.id IN (SELECT m.conversation_id FROM messages_fts_pending p"
                " JOIN messages m ON m.seq = p.seq WHERE m.content LIKE ? ESCAPE '\\'))",
                phrase, phrase, LikePattern(term));
        } else {
            std::string like = LikePattern(term);
            w.And(
                "(c.title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m"
                " WHERE m.conversation_id = c.id AND m.content LIKE ? ESCAPE '\\'))",
                like, like);
        }
    }
}

class SqlConversationStore final : public ConversationStore {
public:
    explicit SqlConversationStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<Conversation> Create(Conversation x) override {
        FillTime(x.created_at, ctx_.clock.NowMs());
        FillTime(x.updated_at, x.created_at);
        FillId(x.id, x.created_at);
        x.deleted_at.reset();
        return ctx_.db.WriteFor({x.user_id}, [&](Connection& c) -> core::Result<Conversation> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("INSERT INTO conversations (id, user_id, title, model,"
                                     " system_prompt, pinned, archived, created_at, updated_at)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
            HUB_SQL_TRY(st.BindAll(x.id, x.user_id, x.title, x.model, x.system_prompt, x.pinned,
                                   x.archived, x.created_at, x.updated_at)
                            .Run());
            return x;
        });
    }

    core::Result<Conversation> Get(std::string_view user_id, std::string_view id) override {
        return ctx_.db.Read([&](Connection& c) { return GetOn(c, user_id, id); });
    }

    core::Result<Page<Conversation>> List(std::string_view user_id,
                                          const ConversationQuery& q) override {
        int limit = ClampLimit(q.page.limit);
        Where w;
        w.And("c.user_id = ?", std::string(user_id));
        w.And("c.deleted_at IS NULL");
        if (!q.include_archived) w.And("c.archived = 0");
        HUB_SQL_TRY(
            AddCursorBefore(w, "(c.pinned, c.updated_at, c.id)", kCursorKind, q.page.cursor, 2));
        AddSearch(w, q.q, ctx_.mysql());
        w.params().emplace_back(std::int64_t{limit} + 1);
        std::string sql = std::string(kSelect) + w.sql() +
                          " ORDER BY c.pinned DESC, c.updated_at DESC, c.id DESC LIMIT ?";
        return ctx_.db.ReadHeavy(user_id, [&](Connection& c) -> core::Result<Page<Conversation>> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            st.BindParams(w.params());
            std::vector<Conversation> rows;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                rows.push_back(ReadConversation(st));
            }
            return MakePage(std::move(rows), limit, kCursorKind, [](const Conversation& x) {
                return CursorKey{{x.pinned ? 1 : 0, x.updated_at}, x.id};
            });
        });
    }

    core::Result<Conversation> Update(std::string_view user_id, std::string_view id,
                                      const ConversationPatch& p) override {
        std::int64_t now = ctx_.clock.NowMs();
        return ctx_.db.WriteFor({user_id}, [&](Connection& c) -> core::Result<Conversation> {
            HUB_SQL_ASSIGN(
                Stmt st,
                c.Prepare("UPDATE conversations SET title = coalesce(?3, title),"
                          " model = coalesce(?4, model),"
                          " system_prompt = coalesce(?5, system_prompt),"
                          " pinned = coalesce(?6, pinned), archived = coalesce(?7, archived),"
                          " updated_at = CASE WHEN updated_at > ?8 THEN updated_at ELSE ?8 END"
                          " WHERE id = ?1 AND user_id = ?2 AND deleted_at IS NULL"));
            HUB_SQL_TRY(st.BindAll(id, user_id, p.title, p.model, p.system_prompt, p.pinned,
                                   p.archived, now)
                            .Run());
            if (c.Changes() == 0) return NotFound("conversation");
            return GetOn(c, user_id, id);
        });
    }

    core::Result<bool> SetTitleIfEmpty(std::string_view user_id, std::string_view id,
                                       std::string_view title) override {
        return ctx_.db.WriteFor({user_id}, [&](Connection& c) -> core::Result<bool> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE conversations SET title = ?3"
                                              " WHERE id = ?1 AND user_id = ?2"
                                              " AND deleted_at IS NULL AND title = ''"));
            HUB_SQL_TRY(st.BindAll(id, user_id, title).Run());
            if (c.Changes() > 0) return true;
            HUB_SQL_TRY(GetOn(c, user_id, id));
            return false;
        });
    }

    core::Result<void> SoftDelete(std::string_view user_id, std::string_view id) override {
        std::int64_t now = ctx_.clock.NowMs();
        return ctx_.db.WriteFor({user_id}, [&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE conversations SET deleted_at = ?3"
                                              " WHERE id = ?1 AND user_id = ?2"
                                              " AND deleted_at IS NULL"));
            HUB_SQL_TRY(st.BindAll(id, user_id, now).Run());
            if (c.Changes() == 0) return NotFound("conversation");
            return core::Ok();
        });
    }

private:
    RepoContext ctx_;
};

}  // namespace

core::Result<Conversation> GetConversationOn(Connection& c, std::string_view user_id,
                                             std::string_view id) {
    return GetOn(c, user_id, id);
}

std::unique_ptr<ConversationStore> MakeConversationStore(RepoContext ctx) {
    return std::make_unique<SqlConversationStore>(ctx);
}

}  // namespace hub::store::sql
