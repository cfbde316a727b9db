#pragma once
// Chat: one turn of a conversation. The question is stored before the upstream call starts;
// the answer streams through a TurnObserver (the HTTP side) and is stored when the stream
// ends: complete, interrupted (client gone or stream broken; the text so far is kept) or error
// (with the error code). Every upstream call writes one api_calls row. A conversation's first
// answer gives it a title.
//
// The pure parts (token estimate, context trimming, parameter validation, titles) are free
// functions below, unit-tested without I/O.
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "async/offload.hpp"
#include "auth/rbac.hpp"
#include "bailian/client.hpp"
#include "core/cancel.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "services/history.hpp"
#include "services/models.hpp"
#include "services/uploads.hpp"
#include "services/usage.hpp"
#include "store/store.hpp"

namespace hub::services {

// ---- pure parts ----

// Rough token count of a text: a run of ASCII letters/digits counts ceil(len/4), other ASCII
// punctuation 1, whitespace 0, every non-ASCII character 1 (CJK is about one token each).
std::int64_t EstimateTokens(std::string_view text);
// What one message costs beyond its text (role and framing).
inline constexpr std::int64_t kMessageOverheadTokens = 4;

// Unicode code points in valid UTF-8 text.
std::size_t Utf8Length(std::string_view s);
// The longest prefix of at most `max_chars` code points.
std::string_view Utf8Prefix(std::string_view s, std::size_t max_chars);

// 400 when the text is empty (or only whitespace) or longer than max_chars code points.
core::Result<void> ValidateContent(std::string_view content, std::size_t max_chars,
                                   const char* field = "content");

// Generation parameters a client may set. Ranges follow DashScope: temperature [0, 2),
// top_p (0, 1], max_tokens 1..the model's output limit.
struct ChatParameters {
    std::optional<double> temperature;
    std::optional<double> top_p;
    std::optional<std::int64_t> max_tokens;
    std::optional<bool> enable_search;
    std::optional<bool> enable_thinking;

    // The body fields sent upstream (only what was set; enable_thinking only where it means
    // something).
    nlohmann::json Upstream(const ModelInfo& model) const;
    // Whether this call thinks (priced as thinking output).
    bool Thinks(const ModelInfo& model) const;
};
// `params` is the request's "parameters" value (absent/null = none). Unknown fields, wrong
// types and values out of range are 400 validation_failed naming the field.
core::Result<ChatParameters> ParseChatParameters(const nlohmann::json& params,
                                                 const ModelInfo& model);

// The prompt budget for a model: its input limit, less the answer room asked for.
std::int64_t ContextBudget(const ModelInfo& model, const ChatParameters& params);

// Pictures in the context: how many a model call may carry and what each is reckoned to cost.
// max_images 0 = a text-only model (history pictures are left out, their text stays).
struct ImageBudget {
    std::size_t max_images = 0;
    std::int64_t tokens_per_image = 1282;  // a picture of at most 1280 patches of 28x28 px
};

// The placeholder URL of an upload in a built context, replaced by InlineImages.
inline constexpr std::string_view kUploadUrlPrefix = "hub-upload:";

struct BuiltContext {
    nlohmann::json messages = nlohmann::json::array();  // [{role, content}], OpenAI shape
    std::int64_t estimated_tokens = 0;
    std::size_t history_used = 0;     // history messages included
    std::size_t history_dropped = 0;  // usable history messages left out (too old to fit)
    std::vector<std::string> image_ids;  // uploads referenced (oldest first; question's last)
    std::size_t images_dropped = 0;      // history pictures left out (their text kept)
};
// The context sent upstream: the system prompt, as much recent history as fits in `budget`
// tokens (newest kept; contiguous), then the new question. From the history it leaves out
// system rows, answers that failed or are empty, and superseded answers (an assistant message
// with a later sibling of the same parent_id, i.e. it was regenerated); it never starts the
// history with an answer whose question did not fit. 400 "context_too_long" when the system
// prompt and the question alone exceed the budget.
//
// Pictures: a message with attachments becomes OpenAI content parts, its pictures
// (`image_url` with a kUploadUrlPrefix placeholder) before its text. The question's pictures
// always go; history pictures go newest first while `images` and the token budget allow,
// so the oldest are dropped first and their text is kept.
core::Result<BuiltContext> BuildContext(std::string_view system_prompt,
                                        const std::vector<store::Message>& history,
                                        std::string_view question, std::int64_t budget,
                                        const std::vector<std::string>& question_images = {},
                                        const ImageBudget& images = {});

// Replaces each placeholder image URL with its data: URL from `urls` (upload id -> URL); a
// part whose upload has no URL any more is left out. Returns how many were left out.
std::size_t InlineImages(nlohmann::json& messages, const std::map<std::string, std::string>& urls);

// Title from the first words of a question (at most 6 words / 48 characters, "…" when cut).
std::string FallbackTitle(std::string_view question);
// A title model's answer, cleaned: first non-empty line, no quotes, markdown marks, "Title:"
// prefix or trailing punctuation, at most 48 characters. "" when nothing usable is left.
std::string CleanTitle(std::string_view model_output);

// ---- the service ----

struct ChatConfig {
    std::size_t max_content_chars = 32'000;
    std::string title_model = "qwen-flash";  // empty = always the fallback title
    std::chrono::milliseconds title_timeout{8'000};
    // SSE keep-alive: a comment line after this much silence (used by the HTTP side).
    std::chrono::milliseconds heartbeat{15'000};
    std::size_t max_attachments = 4;      // pictures on one message
    std::size_t max_context_images = 8;   // pictures in one vision call, history included
};

struct TurnRequest {
    std::string user_id;
    std::optional<std::string> api_key_id;
    std::string conversation_id;
    std::string content;                       // a new question (send)
    std::vector<std::string> attachments;      // upload ids sent with the question
    std::optional<std::string> regenerate_id;  // regenerate: an assistant or user message id
    std::optional<std::string> model;          // else the conversation's, else the default
    auth::ModelAllowList allowed_models;       // the caller's role's (403 model_not_allowed)
    nlohmann::json parameters;                 // raw "parameters" (validated here)
    std::string request_id;
    // false: the client wants one JSON answer, so the upstream call need not stream (see Run).
    bool stream = true;
};

// The HTTP side of a turn.
class TurnObserver {
public:
    virtual ~TurnObserver() = default;
    // Every check passed and the question is stored (for regenerate: the question answered
    // again). From here on the turn always ends with a stored answer.
    virtual net::awaitable<void> OnStarted(const store::Message& question) = 0;
    // A piece of the answer (content) or of the reasoning. false = the client is gone: the
    // upstream call is cancelled.
    virtual net::awaitable<bool> OnDelta(std::string content, std::string reasoning) = 0;
};

struct TurnResult {
    store::Message question;
    store::Message answer;             // as stored: complete | interrupted | error
    std::optional<core::Error> error;  // why the answer is not complete
    store::Conversation conversation;  // after the turn (it may have a title now), from the write
};

class Chat {
public:
    Chat(store::Store& store, async::WorkerPool& db, bailian::Client& upstream,
         const Catalog& catalog, UsageRecorder& usage, HistoryCache& history,
         const core::Clock& clock, ChatConfig cfg, AttachmentSource* attachments = nullptr);

    // A failed Result means the turn was refused before anything was stored (404 for a
    // missing or foreign conversation or message, 400 for bad input, 409 for regenerating an
    // answer that is not the last one).
    net::awaitable<core::Result<TurnResult>> Run(TurnRequest req, TurnObserver& observer,
                                                 core::Cancel& cancel);

    const ChatConfig& config() const { return cfg_; }

private:
    // What a turn is checked and built from, before anything is stored.
    struct Prepared {
        store::Conversation conv;
        std::string model_id;
        const ModelInfo* info = nullptr;
        ChatParameters params;
        store::Message question;  // regenerate: the question answered again
        BuiltContext context;
    };
    // The model, parameters, pictures, history and context of the turn `req` on `conv`; a
    // refusal (404, 400, 403, 409) as Run describes.
    net::awaitable<core::Result<Prepared>> Prepare(TurnRequest req, store::Conversation conv);
    // The cached history when it is current for `conv` (HistoryCache::IsCurrent), else the
    // latest messages from the database.
    net::awaitable<core::Result<std::vector<store::Message>>> LoadHistory(
        std::string user_id, std::string conv_id, store::Conversation conv);
    // The prompt with its pictures' placeholders replaced by data: URLs, and the image tokens
    // they are reckoned to cost.
    struct Pictured {
        nlohmann::json messages;
        std::int64_t image_tokens = 0;
    };
    net::awaitable<Pictured> WithPictures(std::string user_id, std::string request_id,
                                          nlohmann::json messages,
                                          std::vector<std::string> image_ids);
    net::awaitable<store::Conversation> NameConversation(store::Conversation conv,
                                                         std::string user_id,
                                                         std::optional<std::string> api_key_id,
                                                         std::string question, std::string answer,
                                                         bool complete, std::string request_id);

    store::Store& store_;
    async::WorkerPool& db_;
    bailian::Client& upstream_;
    const Catalog& catalog_;
    UsageRecorder& usage_;
    HistoryCache& history_;
    const core::Clock& clock_;
    ChatConfig cfg_;
    AttachmentSource* attachments_;  // null: pictures are refused
};

}  // namespace hub::services
