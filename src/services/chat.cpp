#include "services/chat.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>

#include "async/write_lane.hpp"
#include "core/id.hpp"
#include "core/text.hpp"
#include "obs/logging.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;

// ---------------------------------------------------------------------------------------------
// Pure parts

namespace {

bool IsAsciiAlnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsSpace(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

Error Invalid(const std::string& field, const std::string& problem) {
    return Error::Make(ErrorCode::kInvalidArgument, "validation_failed", field + " " + problem);
}

std::string Trim(std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e && IsSpace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && IsSpace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

std::vector<std::string> Words(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && IsSpace(static_cast<unsigned char>(s[i]))) ++i;
        std::size_t start = i;
        while (i < s.size() && !IsSpace(static_cast<unsigned char>(s[i]))) ++i;
        if (i > start) out.emplace_back(s.substr(start, i - start));
    }
    return out;
}

constexpr std::size_t kTitleMaxChars = 48;
constexpr std::size_t kTitleMaxWords = 6;

// Joins words up to the limits; "…" when something was left out.
std::string ShortenWords(const std::vector<std::string>& words, std::size_t max_words) {
    std::string out;
    std::size_t used = 0;
    bool cut = false;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i >= max_words) {
            cut = true;
            break;
        }
        std::size_t add = Utf8Length(words[i]) + (out.empty() ? 0 : 1);
        if (used + add > kTitleMaxChars) {
            if (out.empty()) out = std::string(Utf8Prefix(words[i], kTitleMaxChars));
            cut = true;
            break;
        }
        if (!out.empty()) out += ' ';
        out += words[i];
        used += add;
    }
    if (cut && !out.empty()) out += "…";
    return out;
}

}  // namespace

std::int64_t EstimateTokens(std::string_view text) {
    std::int64_t n = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        if (IsAsciiAlnum(c)) {
            std::size_t start = i;
            while (i < text.size() && IsAsciiAlnum(static_cast<unsigned char>(text[i]))) ++i;
            n += static_cast<std::int64_t>((i - start + 3) / 4);
            continue;
        }
        if (c < 0x80) {
            if (!IsSpace(c)) ++n;
        } else if ((c & 0xc0) != 0x80) {
            ++n;  // the lead byte of a non-ASCII character
        }
        ++i;
    }
    return n;
}

std::size_t Utf8Length(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
    return n;
}

std::string_view Utf8Prefix(std::string_view s, std::size_t max_chars) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) {
            if (chars == max_chars) return s.substr(0, i);
            ++chars;
        }
    }
    return s;
}

Result<void> ValidateContent(std::string_view content, std::size_t max_chars, const char* field) {
    if (Trim(content).empty()) return Invalid(field, "must not be empty.");
    std::size_t n = Utf8Length(content);
    if (n > max_chars) {
        return Error::Make(ErrorCode::kInvalidArgument, "content_too_long",
                           std::string(field) + " is " + std::to_string(n) +
                               " characters long; at most " + std::to_string(max_chars) +
                               " are allowed.");
    }
    return core::Ok();
}

nlohmann::json ChatParameters::Upstream(const ModelInfo& model) const {
    nlohmann::json j = nlohmann::json::object();
    if (temperature) j["temperature"] = *temperature;
    if (top_p) j["top_p"] = *top_p;
    if (max_tokens) j["max_tokens"] = *max_tokens;
    if (enable_search) j["enable_search"] = *enable_search;
    if (enable_thinking && model.thinking) j["enable_thinking"] = *enable_thinking;
    return j;
}

bool ChatParameters::Thinks(const ModelInfo& model) const {
    return model.always_thinks || (model.thinking && enable_thinking.value_or(false));
}

Result<ChatParameters> ParseChatParameters(const nlohmann::json& params, const ModelInfo& model) {
    ChatParameters p;
    if (params.is_null()) return p;
    if (!params.is_object()) return Invalid("parameters", "must be an object.");
    for (auto it = params.begin(); it != params.end(); ++it) {
        const std::string& key = it.key();
        const nlohmann::json& v = it.value();
        std::string field = "parameters." + key;
        if (v.is_null()) continue;
        if (key == "temperature") {
            if (!v.is_number()) return Invalid(field, "must be a number.");
            double t = v.get<double>();
            if (!std::isfinite(t) || t < 0 || t >= 2)
                return Invalid(field, "must be at least 0 and below 2.");
            p.temperature = t;
        } else if (key == "top_p") {
            if (!v.is_number()) return Invalid(field, "must be a number.");
            double t = v.get<double>();
            if (!std::isfinite(t) || t <= 0 || t > 1)
                return Invalid(field, "must be above 0 and at most 1.");
            p.top_p = t;
        } else if (key == "max_tokens") {
            std::int64_t limit = model.max_output_tokens > 0 ? model.max_output_tokens : 1'000'000;
            std::int64_t n = 0;
            if (v.is_number_unsigned()) {
                n = static_cast<std::int64_t>(
                    std::min<std::uint64_t>(v.get<std::uint64_t>(), 1ull << 62));
            } else if (v.is_number_integer()) {
                n = v.get<std::int64_t>();
            } else if (v.is_number_float() && std::isfinite(v.get<double>()) &&
                       std::floor(v.get<double>()) == v.get<double>() &&
                       std::abs(v.get<double>()) < 1e15) {
                n = static_cast<std::int64_t>(v.get<double>());
            } else {
                return Invalid(field, "must be a whole number.");
            }
            if (n < 1 || n > limit)
                return Invalid(
                    field, "must be from 1 to " + std::to_string(limit) + " for " + model.id + ".");
            p.max_tokens = n;
        } else if (key == "enable_search" || key == "enable_thinking") {
            if (!v.is_boolean()) return Invalid(field, "must be true or false.");
            if (key == "enable_search") {
                p.enable_search = v.get<bool>();
            } else {
                p.enable_thinking = v.get<bool>();
                if (*p.enable_thinking && !model.thinking && !model.always_thinks)
                    return Invalid(field, "is not supported by " + model.id + ".");
            }
        } else {
            return Invalid(field,
                           "is not a known parameter (temperature, top_p, max_tokens, "
                           "enable_search, enable_thinking).");
        }
    }
    return p;
}

std::int64_t ContextBudget(const ModelInfo& model, const ChatParameters& params) {
    std::int64_t budget = model.InputLimit();
    if (params.max_tokens && model.context_window > 0)
        budget = std::min(budget, model.context_window - *params.max_tokens);
    return std::max<std::int64_t>(0, budget);
}

namespace {

// A user message's content: plain text, or picture parts (placeholders) before its text.
nlohmann::json MessageContent(const std::string& text, const std::vector<std::string>& images) {
    if (images.empty()) return text;
    nlohmann::json parts = nlohmann::json::array();
    for (const auto& id : images) {
        parts.push_back({{"type", "image_url"},
                         {"image_url", {{"url", std::string(kUploadUrlPrefix) + id}}}});
    }
    if (!text.empty()) parts.push_back({{"type", "text"}, {"text", text}});
    return parts;
}

}  // namespace

Result<BuiltContext> BuildContext(std::string_view system_prompt,
                                  const std::vector<store::Message>& history,
                                  std::string_view question, std::int64_t budget,
                                  const std::vector<std::string>& question_images,
                                  const ImageBudget& images) {
    BuiltContext out;
    std::int64_t fixed = EstimateTokens(question) + kMessageOverheadTokens +
                         static_cast<std::int64_t>(question_images.size()) * images.tokens_per_image;
    if (!system_prompt.empty()) fixed += EstimateTokens(system_prompt) + kMessageOverheadTokens;
    if (fixed > budget) {
        return Error::Make(ErrorCode::kInvalidArgument, "context_too_long",
                           "The system prompt and the message (about " + std::to_string(fixed) +
                               " tokens) do not fit the model's context (" +
                               std::to_string(budget) + " tokens).");
    }
    // The latest answer per question: earlier ones were regenerated.
    std::map<std::string, std::size_t> latest_answer;
    for (std::size_t i = 0; i < history.size(); ++i) {
        const auto& m = history[i];
        if (m.role == store::MessageRole::kAssistant && m.parent_id)
            latest_answer[*m.parent_id] = i;
    }
    std::vector<const store::Message*> usable;
    for (std::size_t i = 0; i < history.size(); ++i) {
        const auto& m = history[i];
        if (m.role == store::MessageRole::kSystem) continue;
        if (m.content.empty() && m.attachments.empty()) continue;
        if (m.role == store::MessageRole::kAssistant) {
            if (m.content.empty() || m.status == store::MessageStatus::kError) continue;
            if (m.parent_id && latest_answer[*m.parent_id] != i) continue;
        }
        usable.push_back(&m);
    }
    std::int64_t total = fixed;
    std::size_t first = usable.size();  // index of the oldest message kept
    while (first > 0) {
        const store::Message* m = usable[first - 1];
        std::int64_t cost = EstimateTokens(m->content) + kMessageOverheadTokens;
        if (total + cost > budget) break;
        total += cost;
        --first;
    }
    // Never open with an answer whose question was left out.
    while (first < usable.size() && usable[first]->role == store::MessageRole::kAssistant) {
        total -= EstimateTokens(usable[first]->content) + kMessageOverheadTokens;
        ++first;
    }
    // History pictures, newest first, while the model takes more and they fit.
    std::size_t room = images.max_images > question_images.size()
                           ? images.max_images - question_images.size()
                           : 0;
    std::vector<std::vector<std::string>> kept(usable.size());
    for (std::size_t i = usable.size(); i-- > first;) {
        const auto& ids = usable[i]->attachments;
        if (usable[i]->role != store::MessageRole::kUser) continue;
        std::vector<std::string> take;
        for (std::size_t k = ids.size(); k-- > 0;) {
            if (room > 0 && total + images.tokens_per_image <= budget) {
                take.insert(take.begin(), ids[k]);
                total += images.tokens_per_image;
                --room;
            } else {
                ++out.images_dropped;
            }
        }
        kept[i] = std::move(take);
    }
    if (!system_prompt.empty())
        out.messages.push_back({{"role", "system"}, {"content", std::string(system_prompt)}});
    for (std::size_t i = first; i < usable.size(); ++i) {
        // A message that was only pictures, all of them dropped, still says something was there.
        std::string text = usable[i]->content;
        if (text.empty() && kept[i].empty()) text = "[image]";
        out.messages.push_back({{"role", std::string(store::ToString(usable[i]->role))},
                                {"content", MessageContent(text, kept[i])}});
        out.image_ids.insert(out.image_ids.end(), kept[i].begin(), kept[i].end());
    }
    out.messages.push_back(
        {{"role", "user"}, {"content", MessageContent(std::string(question), question_images)}});
    out.image_ids.insert(out.image_ids.end(), question_images.begin(), question_images.end());
    out.estimated_tokens = total;
    out.history_used = usable.size() - first;
    out.history_dropped = first;
    return out;
}

std::size_t InlineImages(nlohmann::json& messages, const std::map<std::string, std::string>& urls) {
    std::size_t dropped = 0;
    for (auto& m : messages) {
        auto c = m.find("content");
        if (c == m.end() || !c->is_array()) continue;
        nlohmann::json parts = nlohmann::json::array();
        for (auto& part : *c) {
            const nlohmann::json* url = nullptr;
            if (auto iu = part.find("image_url"); iu != part.end() && iu->is_object()) {
                if (auto u = iu->find("url"); u != iu->end() && u->is_string()) url = &*u;
            }
            if (url == nullptr || url->get_ref<const std::string&>().rfind(kUploadUrlPrefix, 0) != 0) {
                parts.push_back(std::move(part));
                continue;
            }
            std::string id = url->get<std::string>().substr(kUploadUrlPrefix.size());
            auto it = urls.find(id);
            if (it == urls.end()) {
                ++dropped;
                continue;
            }
            parts.push_back({{"type", "image_url"}, {"image_url", {{"url", it->second}}}});
        }
        if (parts.empty()) parts.push_back({{"type", "text"}, {"text", "[image]"}});
        *c = std::move(parts);
    }
    return dropped;
}

std::string FallbackTitle(std::string_view question) {
    std::string t = ShortenWords(Words(question), kTitleMaxWords);
    return t.empty() ? "New conversation" : t;
}

std::string CleanTitle(std::string_view model_output) {
    std::string line;
    std::size_t i = 0;
    while (i <= model_output.size()) {
        auto nl = model_output.find('\n', i);
        std::string_view l =
            model_output.substr(i, nl == std::string_view::npos ? std::string_view::npos : nl - i);
        line = Trim(l);
        if (!line.empty() || nl == std::string_view::npos) break;
        i = nl + 1;
    }
    // Only the first sentence: a model sometimes goes on after its title.
    for (std::string_view stop : {". ", "。", "! ", "? ", "！", "？"}) {
        auto at = line.find(stop);
        if (at != std::string::npos && at > 0) line = Trim(std::string_view(line).substr(0, at));
    }
    auto strip_prefix = [&](std::string_view p) {
        if (core::IEquals(std::string_view(line).substr(0, p.size()), p)) {
            line = Trim(std::string_view(line).substr(p.size()));
            return true;
        }
        return false;
    };
    for (bool again = true; again && !line.empty();) {
        again = false;
        while (!line.empty() &&
               std::string_view("#*-_>`\"'").find(line.front()) != std::string_view::npos) {
            line.erase(0, 1);
            again = true;
        }
        line = Trim(line);
        for (std::string_view p : {"title:", "标题：", "标题:", "“", "「", "《"})
            again = strip_prefix(p) || again;
    }
    auto ends_with = [&](std::string_view p) {
        return line.size() >= p.size() &&
               std::string_view(line).substr(line.size() - p.size()) == p;
    };
    for (bool again = true; again && !line.empty();) {
        again = false;
        for (std::string_view p : {".", "!", "?", ",", ";", ":", "\"", "'", "*", "`", "。", "！",
                                   "？", "，", "”", "」", "》"}) {
            if (ends_with(p)) {
                line.erase(line.size() - p.size());
                line = Trim(line);
                again = true;
            }
        }
    }
    std::vector<std::string> words = Words(line);
    if (words.empty()) return "";
    std::string out = ShortenWords(words, 10);
    // A model title that runs long is cut without the ellipsis mark.
    if (out.size() >= 3 && out.substr(out.size() - 3) == "…") out.erase(out.size() - 3);
    return Trim(out);
}

// ---------------------------------------------------------------------------------------------
// The service

namespace {

Error MessageNotFound() {
    return Error::Make(ErrorCode::kNotFound, "message_not_found", "Message not found.");
}

// Pictures sent to a model that reads only text: 400 naming the field and what would work.
Error NotVisionModel(const ModelInfo& model, const Catalog& catalog) {
    std::string vision;
    for (const auto& m : catalog.All()) {
        if (m.kind != ModelKind::kVision || !m.enabled) continue;
        vision += (vision.empty() ? "" : ", ") + m.id;
    }
    return Error::Make(ErrorCode::kInvalidArgument, "model_not_vision",
                       "attachments: " + model.id + " does not read images; choose a vision model" +
                           (vision.empty() ? std::string(".") : " (" + vision + ")."));
}

// Upstream stream events -> the observer.
class TurnSink final : public bailian::EventSink {
public:
    explicit TurnSink(TurnObserver& observer) : observer_(observer) {}
    net::awaitable<bool> OnEvent(const bailian::StreamEvent& event) override {
        if (const auto* c = std::get_if<bailian::ContentDelta>(&event)) {
            if (c->text.empty()) co_return true;
            co_return co_await observer_.OnDelta(c->text, std::string());
        }
        if (const auto* r = std::get_if<bailian::ReasoningDelta>(&event)) {
            if (r->text.empty()) co_return true;
            co_return co_await observer_.OnDelta(std::string(), r->text);
        }
        co_return true;
    }

private:
    TurnObserver& observer_;
};

}  // namespace

Chat::Chat(store::Store& store, async::WorkerPool& db, bailian::Client& upstream,
           const Catalog& catalog, UsageRecorder& usage, HistoryCache& history,
           const core::Clock& clock, ChatConfig cfg, AttachmentSource* attachments)
    : store_(store), db_(db), upstream_(upstream), catalog_(catalog), usage_(usage),
      history_(history), clock_(clock), cfg_(std::move(cfg)), attachments_(attachments) {}

net::awaitable<Result<std::vector<store::Message>>> Chat::LoadHistory(
    std::string user_id, std::string conv_id, store::Conversation conv) {
    HistoryCache::Lookup look = history_.Get(conv_id);
    // Checked against the conversation row the turn has read anyway (no extra round trip):
    // another hub may have written it, and its event be late or lost.
    if (look.messages) {
        if (HistoryCache::IsCurrent(*look.messages, conv)) co_return std::move(*look.messages);
        history_.CountStaleReload();
    }
    auto rows = co_await db_.Run(
        [this](std::string u, std::string c, int n) { return store_.Messages().Latest(u, c, n); },
        user_id, conv_id, static_cast<int>(history_.max_messages()));
    if (!rows.ok()) co_return rows.error();
    history_.Install(conv_id, rows.value(), look.seen);
    co_return std::move(rows.value());
}

net::awaitable<Result<Chat::Prepared>> Chat::Prepare(TurnRequest req, store::Conversation conv) {
    const bool regenerate = req.regenerate_id.has_value();
    Prepared p;
    p.model_id = req.model && !req.model->empty() ? *req.model
                 : !conv.model.empty()            ? conv.model
                                                  : catalog_.DefaultModel();
    auto model = catalog_.RequireChat(p.model_id);
    if (!model.ok()) co_return model.error();
    p.info = model.value();
    const ModelInfo& info = *p.info;
    if (!req.allowed_models.Allows(info.id)) co_return auth::ModelNotAllowed(p.model_id);
    auto params = ParseChatParameters(req.parameters, info);
    if (!params.ok()) co_return params.error();
    p.params = std::move(params.value());
    if (!req.attachments.empty()) {
        if (info.kind != ModelKind::kVision) co_return NotVisionModel(info, catalog_);
        // Unknown or another user's file: 404, and nothing is stored or sent.
        std::string owner = req.user_id;
        std::vector<std::string> ids = req.attachments;
        auto found = co_await attachments_->Resolve(std::move(owner), std::move(ids));
        if (!found.ok()) co_return found.error();
    }

    auto loaded = co_await LoadHistory(req.user_id, req.conversation_id, conv);
    if (!loaded.ok()) co_return loaded.error();
    std::vector<store::Message> history = std::move(loaded.value());

    if (regenerate) {
        auto target = co_await db_.Run(
            [this](std::string u, std::string id) { return store_.Messages().Get(u, id); },
            req.user_id, *req.regenerate_id);
        if (!target.ok() || target->conversation_id != req.conversation_id)
            co_return MessageNotFound();
        std::string anchor_id;
        if (target->role == store::MessageRole::kUser) {
            anchor_id = target->id;
        } else if (target->role == store::MessageRole::kAssistant && target->parent_id) {
            anchor_id = *target->parent_id;
        }
        auto anchor = std::find_if(history.begin(), history.end(), [&](const store::Message& m) {
            return m.id == anchor_id && m.role == store::MessageRole::kUser;
        });
        bool last = anchor != history.end() &&
                    std::none_of(anchor + 1, history.end(), [](const store::Message& m) {
                        return m.role == store::MessageRole::kUser;
                    });
        if (!last) {
            co_return Error::Make(ErrorCode::kConflict, "not_last_answer",
                                  "Only the answer to the last question can be regenerated.");
        }
        p.question = *anchor;
        history.erase(anchor, history.end());  // the context is what came before the question
        if (!p.question.attachments.empty() && info.kind != ModelKind::kVision)
            co_return NotVisionModel(info, catalog_);
    }
    const std::string& question_text = regenerate ? p.question.content : req.content;
    const std::vector<std::string>& question_images =
        regenerate ? p.question.attachments : req.attachments;
    ImageBudget image_budget;
    if (info.kind == ModelKind::kVision && attachments_ != nullptr)
        image_budget.max_images = std::max(cfg_.max_context_images, question_images.size());
    auto context = BuildContext(conv.system_prompt, history, question_text,
                                ContextBudget(info, p.params), question_images, image_budget);
    if (!context.ok()) co_return context.error();
    p.context = std::move(context.value());
    p.conv = std::move(conv);
    co_return p;
}

net::awaitable<Result<TurnResult>> Chat::Run(TurnRequest req, TurnObserver& observer,
                                             core::Cancel& cancel) {
    const bool regenerate = req.regenerate_id.has_value();
    if (!regenerate) {
        if (req.attachments.size() > cfg_.max_attachments) {
            co_return Invalid("attachments", "may name at most " +
                                                 std::to_string(cfg_.max_attachments) + " images.");
        }
        // A message of pictures only may leave its text empty.
        if (!req.attachments.empty() && Trim(req.content).empty()) req.content.clear();
        if (!req.content.empty() || req.attachments.empty()) {
            if (auto v = ValidateContent(req.content, cfg_.max_content_chars); !v.ok())
                co_return v.error();
        }
        if (!req.attachments.empty() && attachments_ == nullptr)
            co_return Invalid("attachments", "are not supported here.");
    }
    // A new question is prepared from the conversation row the last turn here cached: no
    // database read. Storing the question checks that row (AppendQuestion), and a turn that
    // would be refused on it is prepared again from the database (the refusal may be stale).
    std::optional<store::Conversation> cached;
    if (!regenerate) cached = history_.GetRow(req.conversation_id, req.user_id);
    Result<Prepared> prep;
    if (cached) {
        prep = co_await Prepare(req, *cached);
        if (!prep.ok()) cached.reset();
    }
    if (!cached) {
        auto conv = co_await db_.Run(
            [this](std::string u, std::string id) { return store_.Conversations().Get(u, id); },
            req.user_id, req.conversation_id);
        if (!conv.ok()) co_return conv.error();
        prep = co_await Prepare(req, std::move(conv.value()));
        if (!prep.ok()) co_return prep.error();
    }

    store::Message question;
    if (regenerate) {
        question = std::move(prep->question);
    } else {
        store::Message q;
        q.conversation_id = req.conversation_id;
        q.role = store::MessageRole::kUser;
        q.content = req.content;
        q.attachments = req.attachments;
        q.status = store::MessageStatus::kComplete;
        auto ask = [this](std::string u, store::Message m,
                          std::optional<store::Conversation> expected) {
            return store_.Messages().AppendQuestion(u, std::move(m), expected);
        };
        q.model = prep->model_id;
        auto stored = co_await async::RunWrite(db_, ask, req.user_id, q, std::move(cached));
        if (stored.ok() && !stored->question) {
            // The cached row was stale (another hub's turn, an edit): prepared again from the
            // row as it is now, and stored without a check, as a turn that read it would be.
            history_.CountStaleRow();
            prep = co_await Prepare(req, std::move(stored->conversation));
            if (!prep.ok()) co_return prep.error();
            q.model = prep->model_id;
            stored = co_await async::RunWrite(db_, ask, req.user_id, std::move(q), std::nullopt);
        }
        if (!stored.ok()) {
            if (stored.error().code == ErrorCode::kNotFound)
                history_.ForgetRow(req.conversation_id);
            co_return stored.error();
        }
        question = std::move(*stored->question);
        prep->conv = std::move(stored->conversation);
        history_.Append(req.conversation_id, question);
    }
    const std::string model_id = std::move(prep->model_id);
    const ModelInfo& info = *prep->info;
    const ChatParameters& params = prep->params;
    BuiltContext& context = prep->context;
    co_await observer.OnStarted(question);

    // ---- upstream ----
    std::string owner = req.user_id;
    std::string rid = req.request_id;
    nlohmann::json prompt = std::move(context.messages);
    std::vector<std::string> image_ids = std::move(context.image_ids);
    Pictured pictured =
        co_await WithPictures(std::move(owner), std::move(rid), std::move(prompt), std::move(image_ids));
    const std::int64_t image_tokens = pictured.image_tokens;
    bailian::ChatRequest creq;
    creq.model = model_id;
    creq.messages = std::move(pictured.messages);
    creq.parameters = params.Upstream(info);
    // A streamed turn streams from upstream (first-token time). A whole-answer turn asks for a
    // whole answer (one JSON body over a pooled keep-alive connection, where a stream ends with
    // the connection closed) unless the model only streams or thinks (thinking is stream-only
    // upstream): then it streams and the answer is aggregated, as before.
    const bool thinks = params.Thinks(info);
    creq.stream = req.stream || info.stream_only || thinks;
    creq.request_id = req.request_id;
    TurnSink sink(observer);
    const std::int64_t started_at = clock_.NowMs();
    bailian::ChatOutcome outcome;  // written in place: one copy in a streamed turn's frames
    co_await upstream_.ChatInto(std::move(creq), &sink, cancel, outcome);

    bailian::Usage& usage = outcome.result.usage;
    if (usage.input_tokens == 0 && usage.output_tokens == 0 &&
        (outcome.any_output || !outcome.result.content.empty())) {
        // The stream broke before DashScope reported usage: estimate what was billed.
        usage.input_tokens = context.estimated_tokens;
        usage.output_tokens =
            EstimateTokens(outcome.result.content) + EstimateTokens(outcome.result.reasoning);
        usage.total_tokens = usage.input_tokens + usage.output_tokens;
    }
    // Compatible mode does not always break the prompt down: then the hub's own reckoning.
    if (usage.image_tokens == 0 && usage.input_tokens > 0)
        usage.image_tokens = std::min(image_tokens, usage.input_tokens);

    store::Message answer;
    answer.conversation_id = req.conversation_id;
    answer.role = store::MessageRole::kAssistant;
    answer.content = outcome.result.content;
    answer.reasoning = outcome.result.reasoning;
    answer.model = model_id;
    answer.parent_id = question.id;
    answer.input_tokens = usage.input_tokens;
    answer.output_tokens = usage.output_tokens;
    std::optional<Error> turn_error;
    if (outcome.ok) {
        answer.status = store::MessageStatus::kComplete;
    } else {
        turn_error = outcome.error;
        if (outcome.cancelled) {
            answer.status = store::MessageStatus::kInterrupted;  // the client went away
        } else {
            std::string code = !outcome.error.api_code.empty() ? outcome.error.api_code
                                                               : std::string("upstream_error");
            answer.error_code = code;
            answer.status = outcome.any_output || !answer.content.empty()
                                ? store::MessageStatus::kInterrupted
                                : store::MessageStatus::kError;
        }
    }
    // ONE write after upstream: the answer, its api_calls row and the conversation's
    // updated_at, in one transaction; it gives back the conversation row too (no second read).
    CallSource source{req.user_id, req.api_key_id, req.conversation_id, "chat", model_id};
    store::ApiCall call = usage_.ChatRow(source, outcome, started_at, thinks);
    store::Conversation after = std::move(prep->conv);
    auto append_answer = [this](std::string u, store::Message m, store::ApiCall c) {
        return store_.Messages().AppendAnswer(u, std::move(m), c);
    };
    auto stored = co_await async::RunWrite(db_, append_answer, req.user_id, answer, call);
    if (!stored.ok() && stored.error().code != ErrorCode::kNotFound) {
        // One retry (a busy or briefly unreachable database); a deleted conversation is final.
        stored = co_await async::RunWrite(db_, append_answer, req.user_id, answer, call);
    }
    if (stored.ok()) {
        answer = std::move(stored->answer);
        after = std::move(stored->conversation);
        history_.Append(req.conversation_id, answer);
        history_.PutRow(after);
        usage_.Recorded(call);  // counted, observed and metered as Record would
    } else {
        // The operator log keeps the text; the call's row is still written (alone): every
        // upstream call has one, whatever became of the conversation.
        obs::Error("answer_write_failed", {{"request_id", req.request_id},
                                           {"conversation_id", req.conversation_id},
                                           {"detail", stored.error().detail},
                                           {"content", answer.content}});
        if (!turn_error) turn_error = stored.error();
        co_await usage_.Record(std::move(call));
    }

    if (stored.ok() && after.title.empty()) {  // not for a conversation deleted meanwhile
        after = co_await NameConversation(after, req.user_id, req.api_key_id, question.content,
                                          answer.content, outcome.ok, req.request_id);
    }

    TurnResult result;
    result.question = std::move(question);
    result.answer = std::move(answer);
    result.error = std::move(turn_error);
    result.conversation = std::move(after);
    co_return result;
}

net::awaitable<Chat::Pictured> Chat::WithPictures(std::string user_id, std::string request_id,
                                                   nlohmann::json messages,
                                                   std::vector<std::string> image_ids) {
    Pictured out{std::move(messages), 0};
    if (image_ids.empty() || attachments_ == nullptr) co_return out;
    // Pictures travel as data: URLs (DashScope cannot reach the hub's files).
    std::map<std::string, InlinePicture> pictures =
        co_await attachments_->DataUrls(std::move(user_id), std::move(image_ids));
    std::map<std::string, std::string> urls;
    for (auto& [id, p] : pictures) {
        out.image_tokens += EstimateImageTokens(p.width, p.height);
        urls[id] = std::move(p.data_url);
    }
    if (std::size_t missing = InlineImages(out.messages, urls); missing > 0)
        obs::Warn("chat_images_missing", {{"request_id", request_id}, {"count", missing}});
    co_return out;
}

net::awaitable<store::Conversation> Chat::NameConversation(store::Conversation conv,
                                                           std::string user_id,
                                                           std::optional<std::string> api_key_id,
                                                           std::string question, std::string answer,
                                                           bool complete, std::string request_id) {
    std::string title;
    if (complete && !cfg_.title_model.empty() && catalog_.RequireChat(cfg_.title_model).ok()) {
        const ModelInfo* tm = catalog_.Find(cfg_.title_model);
        bailian::ChatRequest t;
        t.model = cfg_.title_model;
        t.messages = nlohmann::json::array(
            {{{"role", "system"},
              {"content",
               "You name conversations. Reply with a short title (at most 6 words) for the "
               "conversation below, in the language of the question. No quotes, no "
               "punctuation at the end, nothing else."}},
             {{"role", "user"},
              {"content", "Question: " + std::string(Utf8Prefix(question, 1000)) +
                              "\n\nAnswer: " + std::string(Utf8Prefix(answer, 1000))}}});
        t.parameters = {{"max_tokens", 24}};
        if (tm && tm->thinking) t.parameters["enable_thinking"] = false;
        t.stream = false;
        t.request_id = request_id + ":title";
        auto cancel = std::make_shared<core::Cancel>();
        net::steady_timer timer(co_await net::this_coro::executor, cfg_.title_timeout);
        timer.async_wait([cancel](const boost::system::error_code& ec) {
            if (!ec) cancel->Trigger();
        });
        const std::int64_t started_at = clock_.NowMs();
        bailian::ChatOutcome out = co_await upstream_.Chat(std::move(t), nullptr, *cancel);
        timer.cancel();
        CallSource source{user_id, api_key_id, conv.id, "chat.title", cfg_.title_model};
        co_await usage_.Record(usage_.ChatRow(source, out, started_at));
        if (out.ok) title = CleanTitle(out.result.content);
    }
    if (title.empty()) title = FallbackTitle(question);
    auto set = co_await async::RunWrite(db_,
        [this](std::string u, std::string id, std::string title) {
            return store_.Conversations().SetTitleIfEmpty(u, id, title);
        },
        user_id, conv.id, title);
    if (set.ok() && set.value()) conv.title = title;
    co_return conv;
}

}  // namespace hub::services
