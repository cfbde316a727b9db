#include "services/passthrough.hpp"

#include <algorithm>
#include <chrono>

#include "bailian/responses.hpp"
#include "core/id.hpp"
#include "obs/logging.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;
using nlohmann::json;

namespace {

constexpr std::string_view kAigc = "/api/v1/services/aigc/";
constexpr std::string_view kTasks = "/api/v1/tasks/";

struct ServicePath {
    std::string_view rest;  // after /api/v1/services/aigc/
    PassKind kind;
};
constexpr ServicePath kServices[] = {
    {"text-generation/generation", PassKind::kChat},
    {"multimodal-generation/generation", PassKind::kMultimodal},
    {"text2image/image-synthesis", PassKind::kImageSubmit},
    {"image2image/image-synthesis", PassKind::kImageSubmit},
    {"image-generation/generation", PassKind::kImageSubmit},
};

bool ValidTaskId(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

const char* const kForwardedRequestHeaders[] = {"content-type",
                                                "accept",
                                                "x-dashscope-sse",
                                                "x-dashscope-async",
                                                "x-dashscope-datainspection",
                                                "x-accel-buffering"};

bool StartsWithCaseless(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char a = s[i], b = prefix[i];
        if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
        if (a != b) return false;
    }
    return true;
}

bool EqualsCaseless(std::string_view a, std::string_view b) {
    return a.size() == b.size() && StartsWithCaseless(a, b);
}

std::optional<std::string> HeaderOf(const std::vector<std::pair<std::string, std::string>>& h,
                                    std::string_view name) {
    for (const auto& [k, v] : h)
        if (EqualsCaseless(k, name)) return v;
    return std::nullopt;
}

Error NotForwarded() {
    return Error::Make(ErrorCode::kNotFound, "not_found",
                       "This path is not forwarded to DashScope by the hub.");
}

std::string JsonString(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<PassRoute> MatchPassthroughPath(std::string_view method, std::string_view path) {
    if (path.substr(0, kPassthroughPrefix.size()) != kPassthroughPrefix) return std::nullopt;
    path.remove_prefix(kPassthroughPrefix.size());
    PassRoute r;
    if (method == "POST" && path.substr(0, kAigc.size()) == kAigc) {
        std::string_view rest = path.substr(kAigc.size());
        for (const auto& s : kServices) {
            if (rest == s.rest) {
                r.kind = s.kind;
                r.upstream_path = std::string(path);
                r.endpoint = std::string(kPassthroughPrefix) + std::string(path);
                return r;
            }
        }
        return std::nullopt;
    }
    if (path.substr(0, kTasks.size()) == kTasks) {
        std::string_view rest = path.substr(kTasks.size());
        constexpr std::string_view kCancel = "/cancel";
        bool cancel =
            rest.size() > kCancel.size() && rest.substr(rest.size() - kCancel.size()) == kCancel;
        std::string_view id = cancel ? rest.substr(0, rest.size() - kCancel.size()) : rest;
        if (!ValidTaskId(id)) return std::nullopt;
        if (cancel && method == "POST") {
            r.kind = PassKind::kTaskCancel;
            r.endpoint = "/dashscope/api/v1/tasks/{id}/cancel";
        } else if (!cancel && method == "GET") {
            r.kind = PassKind::kTaskGet;
            r.endpoint = "/dashscope/api/v1/tasks/{id}";
        } else {
            return std::nullopt;
        }
        r.task_id = std::string(id);
        r.upstream_path = std::string(path);
        return r;
    }
    return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> ForwardedHeaders(
    const std::vector<std::pair<std::string, std::string>>& incoming) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [k, v] : incoming) {
        for (const char* allowed : kForwardedRequestHeaders) {
            if (EqualsCaseless(k, allowed)) {
                out.emplace_back(k, v);
                break;
            }
        }
    }
    return out;
}

std::string NativeErrorCode(const Error& e) {
    const std::string& c = e.api_code;
    if (c == "invalid_api_key" || c == "invalid_token" || c == "unauthenticated")
        return "InvalidApiKey";
    if (c == "model_not_found" || c == "unknown_model") return "ModelNotFound";
    // The hub's own budgets, in DashScope's words for a spent allocation.
    if (c == "quota_exceeded") return "Throttling.AllocationQuota";
    switch (e.code) {
        case ErrorCode::kInvalidArgument:
        case ErrorCode::kInvalidJson:
        case ErrorCode::kUnsupportedMediaType:
        case ErrorCode::kUnprocessable:
            return "InvalidParameter";
        case ErrorCode::kUnauthenticated:
            return "InvalidApiKey";
        case ErrorCode::kForbidden:
            return "AccessDenied";
        case ErrorCode::kNotFound:
            return "NotFound";
        case ErrorCode::kMethodNotAllowed:
            return "UnsupportedOperation";
        case ErrorCode::kConflict:
            return "Conflict";
        case ErrorCode::kPayloadTooLarge:
            return "BadRequest.TooLarge";
        case ErrorCode::kRateLimited:
            return "Throttling.RateQuota";
        case ErrorCode::kUpstreamTimeout:
            return "RequestTimeOut";
        case ErrorCode::kUnavailable:
            return "ServiceUnavailable";
        case ErrorCode::kInternal:
        case ErrorCode::kUpstream:
            return "InternalError";
    }
    return "InternalError";
}

json NativeErrorJson(const Error& e, const std::string& request_id) {
    std::string message = e.public_message.empty() ? "Request failed." : e.public_message;
    return {{"request_id", request_id}, {"code", NativeErrorCode(e)}, {"message", message}};
}

// ---- AnswerTap ----

AnswerTap::AnswerTap(PassKind kind, bool incremental_output, bailian::ApiStyle style,
                     std::int64_t buffer_limit)
    : kind_(kind),
      incremental_output_(incremental_output),
      style_(style),
      buffer_limit_(buffer_limit) {}

void AnswerTap::OnHead(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                       std::int64_t) {
    status_ = status;
    header_request_id_ = HeaderOf(headers, "x-request-id").value_or("");
    request_id_ = header_request_id_;
    auto ct = HeaderOf(headers, "content-type").value_or("");
    sse_ = StartsWithCaseless(ct, "text/event-stream");
    if (sse_) {
        reader_.emplace(bailian::StreamOptions{style_, incremental_output_, header_request_id_});
    }
}

void AnswerTap::OnStreamEvents(const std::vector<bailian::StreamEvent>& events,
                               std::int64_t at_ms) {
    for (const auto& ev : events) {
        if (const auto* u = std::get_if<bailian::Usage>(&ev)) {
            usage_ = *u;
        } else if (const auto* e = std::get_if<bailian::UpstreamError>(&ev)) {
            if (error_code_.empty()) {
                error_code_ = e->code.empty() ? "stream_error" : e->code;
                error_status_ = e->http_status;
            }
        } else if (std::holds_alternative<bailian::ContentDelta>(ev) ||
                   std::holds_alternative<bailian::ReasoningDelta>(ev) ||
                   std::holds_alternative<bailian::ToolCallDelta>(ev)) {
            if (first_token_ms_ < 0) first_token_ms_ = at_ms;
        }
    }
    if (reader_ && !reader_->decoder().request_id().empty())
        request_id_ = reader_->decoder().request_id();
}

void AnswerTap::OnBody(std::string_view bytes, std::int64_t at_ms) {
    if (sse_ && reader_) {
        OnStreamEvents(reader_->Feed(bytes), at_ms);
        return;
    }
    if (static_cast<std::int64_t>(body_.size() + bytes.size()) > buffer_limit_) {
        body_truncated_ = true;
        return;
    }
    body_.append(bytes);
}

void AnswerTap::OnEnd() {
    if (sse_ && reader_) {
        auto events = reader_->Finish();
        // A stream that ends without a finishing event is not an error worth a code here
        // unless nothing else went wrong (the client saw the same bytes).
        for (auto& ev : events) {
            if (auto* e = std::get_if<bailian::UpstreamError>(&ev);
                e && e->code == "incomplete_stream" && !error_code_.empty())
                continue;
            OnStreamEvents({ev}, -1);
        }
        return;
    }
    if (body_truncated_ || body_.empty()) return;
    if (status_ < 200 || status_ >= 300) {
        auto e = bailian::ParseErrorBody(status_, body_, header_request_id_);
        error_code_ = e.code.empty() ? "http_" + std::to_string(status_) : e.code;
        if (!e.request_id.empty()) request_id_ = e.request_id;
        return;
    }
    switch (kind_) {
        case PassKind::kChat:
        case PassKind::kMultimodal: {
            auto r = bailian::ParseChatResponse(style_, body_);
            if (r.ok()) {
                usage_ = r->usage;
                if (!r->request_id.empty()) request_id_ = r->request_id;
            }
            break;
        }
        case PassKind::kImageSubmit:
        case PassKind::kTaskGet:
        case PassKind::kTaskCancel: {
            auto j = json::parse(body_, nullptr, false);
            if (!j.is_object()) break;
            if (auto rid = JsonString(j, "request_id"); !rid.empty()) request_id_ = rid;
            if (auto o = j.find("output"); o != j.end() && o->is_object()) {
                task_id_ = JsonString(*o, "task_id");
                task_status_ = JsonString(*o, "task_status");
                if (task_status_ == "FAILED") {
                    error_code_ = JsonString(*o, "code");
                    if (error_code_.empty()) error_code_ = "task_failed";
                }
            }
            if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
                if (auto n = u->find("image_count"); n != u->end() && n->is_number_integer())
                    image_count_ = std::max<std::int64_t>(0, n->get<std::int64_t>());
            }
            break;
        }
    }
}

// ---- the service ----

net::awaitable<bool> TapSink::OnHead(int status,
                                     std::vector<std::pair<std::string, std::string>> headers) {
    tap_.OnHead(status, headers, clock_.NowMs() - start_ms_);
    co_return co_await out_.OnHead(status, std::move(headers));
}

net::awaitable<bool> TapSink::OnBody(std::string bytes) {
    tap_.OnBody(bytes, clock_.NowMs() - start_ms_);
    co_return co_await out_.OnBody(std::move(bytes));
}

Passthrough::Passthrough(bailian::Client& upstream, const Catalog& catalog, UsageRecorder& usage,
                         store::Store& store, async::WorkerPool& db, const core::Clock& clock)
    : upstream_(upstream),
      catalog_(catalog),
      usage_(usage),
      store_(store),
      db_(db),
      clock_(clock) {}

net::awaitable<Result<Passthrough::Run>> Passthrough::Forward(Caller caller, PassRequest req,
                                                              bailian::RawSink& out,
                                                              bailian::Cancel& cancel) {
    const std::int64_t started_ms = clock_.NowMs();
    auto route = MatchPassthroughPath(req.method, req.path);
    if (!route) co_return NotForwarded();

    std::string model;
    bool thinking = false;
    bool incremental = false;
    if (route->kind == PassKind::kTaskGet || route->kind == PassKind::kTaskCancel) {
        auto task = co_await db_.Run(
            [this](std::string uid, std::string id) { return store_.UpstreamTasks().Get(uid, id); },
            caller.principal.user_id, route->task_id);
        if (!task.ok()) {
            if (task.error().code == ErrorCode::kNotFound) {
                co_return Error::Make(ErrorCode::kNotFound, "task_not_found",
                                      "No task with this id was submitted by you.");
            }
            co_return task.error();
        }
        model = task->model;
        req.body.clear();
    } else {
        auto body = json::parse(req.body, nullptr, false);
        if (!body.is_object()) {
            co_return Error::Make(ErrorCode::kInvalidArgument, "invalid_json",
                                  "The request body must be a JSON object.");
        }
        model = JsonString(body, "model");
        if (model.empty()) {
            co_return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                                  "Required parameter \"model\" missing from request.");
        }
        auto info = route->kind == PassKind::kImageSubmit
                        ? catalog_.Require(model, {ModelKind::kImage})
                    : route->kind == PassKind::kMultimodal
                        ? catalog_.Require(model, {ModelKind::kVision, ModelKind::kChat})
                        : catalog_.Require(model, {ModelKind::kChat});
        if (!info.ok()) {
            co_return Error::Make(ErrorCode::kNotFound, "model_not_found",
                                  "Model '" + model.substr(0, 64) +
                                      "' is not available through this hub for this API.");
        }
        if (auto r = auth::Require(caller.principal, auth::perm::kModelsPassthrough); !r.ok())
            co_return r.error();
        if (!caller.MayUse((*info)->id)) co_return auth::ModelNotAllowed(model);
        const json params = body.contains("parameters") && body["parameters"].is_object()
                                ? body["parameters"]
                                : json::object();
        thinking = (*info)->always_thinks ||
                   (params.contains("enable_thinking") && params["enable_thinking"] == true);
        incremental =
            params.contains("incremental_output") && params["incremental_output"].is_boolean()
                ? params["incremental_output"].get<bool>()
                : (*info)->always_thinks;
    }

    bailian::RawRequest raw;
    raw.method = req.method;
    raw.path = route->upstream_path;
    raw.query = req.query;
    raw.headers = ForwardedHeaders(req.headers);
    raw.body = std::move(req.body);
    raw.request_id = req.request_id;

    AnswerTap tap(route->kind, incremental);
    TapSink sink(out, tap, clock_, started_ms);
    Run run;
    auto t0 = std::chrono::steady_clock::now();
    run.outcome = co_await upstream_.Forward(std::move(raw), sink, cancel);
    run.upstream_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    tap.OnEnd();

    // The api_calls row.
    store::ApiCall row;
    row.id = core::NewId();
    row.user_id = caller.principal.user_id;
    row.api_key_id = caller.principal.api_key_id;
    row.endpoint = route->endpoint;
    row.model = model.substr(0, 128);
    row.latency_ms = run.outcome.latency_ms;
    row.created_at = started_ms;
    row.input_tokens = tap.usage().input_tokens;
    row.output_tokens = tap.usage().output_tokens;
    row.image_tokens = tap.usage().image_tokens;  // native VL (multimodal-generation)
    if (tap.first_token_ms() >= 0) {
        row.first_token_ms = tap.first_token_ms();
    } else if (!tap.sse() && run.outcome.first_byte_ms >= 0 &&
               (route->kind == PassKind::kChat || route->kind == PassKind::kMultimodal)) {
        row.first_token_ms = run.outcome.first_byte_ms;  // a whole answer: when it arrived
    }
    row.upstream_request_id =
        !tap.request_id().empty() ? tap.request_id() : run.outcome.upstream_request_id;
    if (!run.outcome.ok) {
        row.status_code =
            run.outcome.cancelled ? kClientClosedStatus : usage_.StatusOf(run.outcome.error.code);
        row.error_code = run.outcome.cancelled                ? "client_closed"
                         : run.outcome.error.api_code.empty() ? "upstream_error"
                                                              : run.outcome.error.api_code;
    } else {
        row.status_code = tap.error_status() > 0 ? tap.error_status() : run.outcome.status;
        row.error_code = tap.error_code();
        if (run.outcome.cancelled) {
            row.status_code = kClientClosedStatus;
            if (row.error_code.empty()) row.error_code = "client_closed";
        }
    }
    if (route->kind == PassKind::kChat || route->kind == PassKind::kMultimodal) {
        row.cost_micro_cny = catalog_.CostMicroCny(model, tap.usage(), thinking);
    }

    bool ok2xx = run.outcome.ok && tap.status() >= 200 && tap.status() < 300;
    if (route->kind == PassKind::kImageSubmit && ok2xx && !tap.task_id().empty()) {
        store::UpstreamTask t;
        t.task_id = tap.task_id();
        t.user_id = caller.principal.user_id;
        t.api_key_id = caller.principal.api_key_id;
        t.model = model;
        t.created_at = started_ms;
        auto rec = co_await db_.Run(
            [this](store::UpstreamTask t) { return store_.UpstreamTasks().Create(std::move(t)); },
            std::move(t));
        if (!rec.ok()) {
            obs::Error("upstream_task_record_failed",
                       {{"request_id", req.request_id}, {"detail", rec.error().detail}});
        }
    }
    if (route->kind == PassKind::kTaskGet && ok2xx && tap.task_status() == "SUCCEEDED" &&
        tap.image_count() > 0) {
        auto first = co_await db_.Run(
            [this](std::string id, std::int64_t at) {
                return store_.UpstreamTasks().MarkAccounted(id, at);
            },
            route->task_id, clock_.NowMs());
        if (first.ok() && *first) {
            row.image_count = tap.image_count();
            row.cost_micro_cny = catalog_.ImageCostMicroCny(model, tap.image_count());
        }
    }
    co_await usage_.Record(std::move(row));
    co_return run;
}

}  // namespace hub::services
