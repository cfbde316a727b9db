#include "services/conversations.hpp"

#include <algorithm>

#include "services/chat.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

Error Invalid(const std::string& field, const std::string& problem) {
    return Error::Make(ErrorCode::kInvalidArgument, "validation_failed", field + " " + problem);
}

bool HasControl(std::string_view s, bool allow_newlines) {
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c == 0x7f) return true;
        if (c < 0x20) {
            if (allow_newlines && (c == '\n' || c == '\r' || c == '\t')) continue;
            return true;
        }
    }
    return false;
}

std::string TrimTitle(std::string s) {
    auto sp = [](char c) { return c == ' ' || c == '\t'; };
    while (!s.empty() && sp(s.back())) s.pop_back();
    std::size_t b = 0;
    while (b < s.size() && sp(s[b])) ++b;
    return s.substr(b);
}

std::string IsoDate(std::int64_t ms) { return core::FormatIsoMs(ms); }

}  // namespace

Conversations::Conversations(store::Store& store, async::WorkerPool& db, const Catalog& catalog,
                             HistoryCache& history, ConversationLimits limits)
    : store_(store), db_(db), catalog_(catalog), history_(history), limits_(limits) {}

Result<void> Conversations::ValidateFields(const std::optional<std::string>& title,
                                           const std::optional<std::string>& model,
                                           const std::optional<std::string>& system_prompt) const {
    if (title) {
        if (Utf8Length(*title) > limits_.max_title_chars)
            return Invalid("title", "must be at most " + std::to_string(limits_.max_title_chars) +
                                        " characters.");
        if (HasControl(*title, false)) return Invalid("title", "must be a single line of text.");
    }
    if (model && !model->empty()) {
        if (auto m = catalog_.RequireChat(*model); !m.ok()) return m.error();
    }
    if (system_prompt) {
        if (Utf8Length(*system_prompt) > limits_.max_system_prompt_chars)
            return Error::Make(ErrorCode::kInvalidArgument, "content_too_long",
                               "system_prompt must be at most " +
                                   std::to_string(limits_.max_system_prompt_chars) +
                                   " characters.");
        if (HasControl(*system_prompt, true))
            return Invalid("system_prompt", "must not contain control characters.");
    }
    return core::Ok();
}

net::awaitable<Result<store::Conversation>> Conversations::Create(std::string user_id,
                                                                  NewConversation in) {
    if (in.title) in.title = TrimTitle(*in.title);
    if (auto v = ValidateFields(in.title, in.model, in.system_prompt); !v.ok()) co_return v.error();
    store::Conversation c;
    c.user_id = user_id;
    c.title = in.title.value_or("");
    c.model = in.model.value_or("");
    c.system_prompt = in.system_prompt.value_or("");
    co_return co_await db_.Run(
        [this](store::Conversation c) { return store_.Conversations().Create(std::move(c)); },
        std::move(c));
}

net::awaitable<Result<store::Page<store::Conversation>>> Conversations::List(
    std::string user_id, store::ConversationQuery query) {
    if (Utf8Length(query.q) > 200) co_return Invalid("q", "must be at most 200 characters.");
    co_return co_await db_.Run(
        [this](std::string u, store::ConversationQuery q) {
            return store_.Conversations().List(u, q);
        },
        std::move(user_id), std::move(query));
}

net::awaitable<Result<store::Conversation>> Conversations::Get(std::string user_id,
                                                               std::string id) {
    co_return co_await db_.Run(
        [this](std::string u, std::string id) { return store_.Conversations().Get(u, id); },
        std::move(user_id), std::move(id));
}

net::awaitable<Result<Conversations::Detail>> Conversations::GetDetail(std::string user_id,
                                                                       std::string id) {
    co_return co_await db_.Run(
        [this](std::string u, std::string id) -> Result<Detail> {
            auto c = store_.Conversations().Get(u, id);
            if (!c.ok()) return c.error();
            auto t = store_.Messages().Totals(u, id);
            if (!t.ok()) return t.error();
            return Detail{std::move(c.value()), t.value()};
        },
        std::move(user_id), std::move(id));
}

net::awaitable<Result<store::Conversation>> Conversations::Update(std::string user_id,
                                                                  std::string id,
                                                                  store::ConversationPatch patch) {
    if (patch.title) patch.title = TrimTitle(*patch.title);
    if (auto v = ValidateFields(patch.title, patch.model, patch.system_prompt); !v.ok())
        co_return v.error();
    auto r = co_await db_.Run(
        [this](std::string u, std::string id, store::ConversationPatch p) {
            return store_.Conversations().Update(u, id, p);
        },
        std::move(user_id), id, std::move(patch));
    if (r.ok()) history_.ForgetRow(id);  // the next turn reads the row as edited
    co_return r;
}

net::awaitable<Result<void>> Conversations::Delete(std::string user_id, std::string id) {
    auto r = co_await db_.Run(
        [this](std::string u, std::string id) { return store_.Conversations().SoftDelete(u, id); },
        std::move(user_id), id);
    if (r.ok()) history_.Forget(id);
    co_return r;
}

net::awaitable<Result<store::Page<store::Message>>> Conversations::Messages(
    std::string user_id, std::string id, store::PageRequest page) {
    auto r = co_await db_.Run(
        [this](std::string u, std::string id, store::PageRequest p) {
            return store_.Messages().ListCurrent(u, id, p);
        },
        std::move(user_id), std::move(id), std::move(page));
    if (r.ok()) std::reverse(r->items.begin(), r->items.end());
    co_return r;
}

net::awaitable<Result<ConversationExport>> Conversations::Export(std::string user_id,
                                                                 std::string id) {
    co_return co_await db_.Run(
        [this](std::string u, std::string id) {
            return ExportBlocking(store_, u, id, limits_.max_export_messages);
        },
        std::move(user_id), std::move(id));
}

Result<ConversationExport> Conversations::ExportBlocking(store::Store& store,
                                                         const std::string& u,
                                                         const std::string& id,
                                                         std::size_t max_messages) {
    ConversationExport e;
    auto c = store.Conversations().Get(u, id);
    if (!c.ok()) return c.error();
    e.conversation = std::move(c.value());
    store::PageRequest page;
    page.limit = store::kMaxPageSize;
    std::vector<store::Message> newest_first;
    while (true) {
        auto p = store.Messages().ListCurrent(u, id, page);
        if (!p.ok()) return p.error();
        for (auto& m : p->items) newest_first.push_back(std::move(m));
        if (!p->next_cursor) break;
        if (newest_first.size() >= max_messages) {
            e.truncated = true;
            break;
        }
        page.cursor = *p->next_cursor;
    }
    e.messages.assign(std::make_move_iterator(newest_first.rbegin()),
                      std::make_move_iterator(newest_first.rend()));
    return e;
}

std::string RenderMarkdown(const ConversationExport& e) {
    const auto& c = e.conversation;
    std::string out =
        "# " + (c.title.empty() ? std::string("Untitled conversation") : c.title) + "\n\n";
    out += "- Model: " + (c.model.empty() ? std::string("(default)") : c.model) + "\n";
    out += "- Created: " + IsoDate(c.created_at) + "\n";
    out += "- Updated: " + IsoDate(c.updated_at) + "\n";
    out += "- Messages: " + std::to_string(e.messages.size()) +
           (e.truncated ? " (the oldest were left out)" : "") + "\n\n";
    if (!c.system_prompt.empty()) out += "## System prompt\n\n" + c.system_prompt + "\n\n";
    for (const auto& m : e.messages) {
        if (m.role == store::MessageRole::kUser) {
            out += "## User\n\n";
        } else if (m.role == store::MessageRole::kAssistant) {
            out +=
                "## Assistant" + (m.model.empty() ? std::string() : " (" + m.model + ")") + "\n\n";
        } else {
            out += "## System\n\n";
        }
        out += "_" + IsoDate(m.created_at) + "_\n\n";
        if (!m.reasoning.empty()) {
            out += "> **Reasoning**\n>\n";
            std::size_t i = 0;
            while (i <= m.reasoning.size()) {
                auto nl = m.reasoning.find('\n', i);
                std::string line =
                    m.reasoning.substr(i, nl == std::string::npos ? std::string::npos : nl - i);
                out += line.empty() ? ">\n" : "> " + line + "\n";
                if (nl == std::string::npos) break;
                i = nl + 1;
            }
            out += "\n";
        }
        if (!m.content.empty()) out += m.content + "\n\n";
        // Pictures stay the owner's: listed by their file id (GET /api/v1/files/{id}).
        for (std::size_t i = 0; i < m.attachments.size(); ++i) {
            out += "- Image " + std::to_string(i + 1) + ": `/api/v1/files/" + m.attachments[i] +
                   "`\n";
        }
        if (!m.attachments.empty()) out += "\n";
        if (m.status != store::MessageStatus::kComplete) {
            out += "_(" + std::string(store::ToString(m.status)) +
                   (m.error_code.empty() ? std::string() : ": " + m.error_code) + ")_\n\n";
        }
    }
    return out;
}

}  // namespace hub::services
