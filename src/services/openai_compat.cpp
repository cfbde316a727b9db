#include "services/openai_compat.hpp"

#include <algorithm>
#include <chrono>

#include "core/id.hpp"
#include "core/json_text.hpp"
#include "obs/logging.hpp"
#include "services/passthrough.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;
using nlohmann::json;

namespace {

Error BadField(std::string* param, const std::string& field, std::string code,
               std::string message) {
    if (param) *param = field;
    return Error::Make(ErrorCode::kInvalidArgument, std::move(code), std::move(message));
}

Error BadType(std::string* param, const std::string& field, const std::string& expected,
              const json& got) {
    return BadField(param, field, "invalid_type",
                    "Invalid type for '" + field + "': expected " + expected + ", but got " +
                        std::string(got.type_name()) + " instead.");
}

bool IsNumber(const json& v) { return v.is_number(); }
bool IsInteger(const json& v) { return v.is_number_integer() || v.is_number_unsigned(); }

// Checks an optional field's type and copies it into the upstream parameters.
struct Passer {
    const json& body;
    json& out;
    std::string* param;

    Result<bool> Copy(const char* field, bool (*ok)(const json&), const char* expected) {
        auto it = body.find(field);
        if (it == body.end() || it->is_null()) return false;
        if (!ok(*it)) return BadType(param, field, expected, *it);
        out[field] = *it;
        return true;
    }
};

Result<void> CheckRange(std::string* param, const json& params, const char* field, double lo,
                        double hi) {
    auto it = params.find(field);
    if (it == params.end()) return core::Ok();
    double v = it->get<double>();
    if (v < lo || v > hi) {
        return BadField(param, field, "invalid_value",
                        "Invalid value for '" + std::string(field) + "': must be between " +
                            json(lo).dump() + " and " + json(hi).dump() + ".");
    }
    return core::Ok();
}

const char* const kRoles[] = {"system", "user", "assistant", "tool", "developer"};

}  // namespace

// ---- requests ----

Result<CompatChatRequest> ParseChatCompletionRequest(const json& body, std::string* param) {
    CompatChatRequest req;
    auto model = body.find("model");
    if (model == body.end() || model->is_null())
        return BadField(param, "model", "missing_required_parameter",
                        "Missing required parameter: 'model'.");
    if (!model->is_string()) return BadType(param, "model", "a string", *model);
    if (model->get<std::string>().empty() || model->get<std::string>().size() > 128)
        return BadField(param, "model", "invalid_value", "Invalid value for 'model'.");
    req.chat.model = model->get<std::string>();

    auto messages = body.find("messages");
    if (messages == body.end() || messages->is_null())
        return BadField(param, "messages", "missing_required_parameter",
                        "Missing required parameter: 'messages'.");
    if (!messages->is_array()) return BadType(param, "messages", "an array", *messages);
    if (messages->empty())
        return BadField(
            param, "messages", "invalid_value",
            "Invalid 'messages': empty array. Expected an array with minimum length 1.");
    json out_messages = json::array();
    for (std::size_t i = 0; i < messages->size(); ++i) {
        const json& m = (*messages)[i];
        std::string at = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) return BadType(param, at, "an object", m);
        auto role = m.find("role");
        if (role == m.end() || !role->is_string())
            return BadField(param, at + ".role", "missing_required_parameter",
                            "Missing required parameter: '" + at + ".role'.");
        std::string r = role->get<std::string>();
        if (std::find(std::begin(kRoles), std::end(kRoles), r) == std::end(kRoles))
            return BadField(param, at + ".role", "invalid_value",
                            "Invalid value for '" + at + ".role': '" + r.substr(0, 32) +
                                "'. Supported values are: 'system', 'user', 'assistant', "
                                "'tool' and 'developer'.");
        auto content = m.find("content");
        bool has_tool_calls = m.contains("tool_calls") && !m["tool_calls"].is_null();
        if (content == m.end() || content->is_null()) {
            if (r != "assistant" || !has_tool_calls)
                return BadField(param, at + ".content", "missing_required_parameter",
                                "Missing required parameter: '" + at + ".content'.");
        } else if (!content->is_string() && !content->is_array()) {
            return BadType(param, at + ".content", "a string or an array", *content);
        }
        if (has_tool_calls && !m["tool_calls"].is_array())
            return BadType(param, at + ".tool_calls", "an array", m["tool_calls"]);
        if (r == "tool") {
            auto id = m.find("tool_call_id");
            if (id == m.end() || !id->is_string())
                return BadField(param, at + ".tool_call_id", "missing_required_parameter",
                                "Missing required parameter: '" + at + ".tool_call_id'.");
        }
        json copy = json::object();
        // DashScope has no "developer" role; it means a system message.
        copy["role"] = r == "developer" ? "system" : r;
        for (const char* k :
             {"content", "name", "tool_calls", "tool_call_id", "partial", "reasoning_content"}) {
            if (auto it = m.find(k); it != m.end()) copy[k] = *it;
        }
        out_messages.push_back(std::move(copy));
    }
    req.chat.messages = std::move(out_messages);

    if (auto it = body.find("stream"); it != body.end() && !it->is_null()) {
        if (!it->is_boolean()) return BadType(param, "stream", "a boolean", *it);
        req.chat.stream = it->get<bool>();
    } else {
        req.chat.stream = false;
    }
    if (auto it = body.find("stream_options"); it != body.end() && !it->is_null()) {
        if (!it->is_object()) return BadType(param, "stream_options", "an object", *it);
        if (auto iu = it->find("include_usage"); iu != it->end() && !iu->is_null()) {
            if (!iu->is_boolean())
                return BadType(param, "stream_options.include_usage", "a boolean", *iu);
            req.include_usage = iu->get<bool>();
        }
    }

    json params = json::object();
    Passer p{body, params, param};
    auto is_bool = [](const json& v) { return v.is_boolean(); };
    auto is_object = [](const json& v) { return v.is_object(); };
    auto is_array = [](const json& v) { return v.is_array(); };
    auto is_stop = [](const json& v) {
        if (v.is_string()) return true;
        if (!v.is_array() || v.size() > 4) return false;
        return std::all_of(v.begin(), v.end(), [](const json& s) { return s.is_string(); });
    };
    auto is_tool_choice = [](const json& v) { return v.is_string() || v.is_object(); };
    struct Field {
        const char* name;
        bool (*ok)(const json&);
        const char* expected;
    };
    const Field fields[] = {
        {"temperature", IsNumber, "a number"},
        {"top_p", IsNumber, "a number"},
        {"max_tokens", IsInteger, "an integer"},
        {"seed", IsInteger, "an integer"},
        {"stop", is_stop, "a string or an array of at most 4 strings"},
        {"n", IsInteger, "an integer"},
        {"tools", is_array, "an array"},
        {"tool_choice", is_tool_choice, "a string or an object"},
        {"parallel_tool_calls", is_bool, "a boolean"},
        {"response_format", is_object, "an object"},
        {"presence_penalty", IsNumber, "a number"},
        {"logprobs", is_bool, "a boolean"},
        {"top_logprobs", IsInteger, "an integer"},
        // DashScope extensions (extra_body in the OpenAI SDKs).
        {"enable_thinking", is_bool, "a boolean"},
        {"thinking_budget", IsInteger, "an integer"},
        {"enable_search", is_bool, "a boolean"},
        {"search_options", is_object, "an object"},
        {"top_k", IsInteger, "an integer"},
        {"repetition_penalty", IsNumber, "a number"},
        {"vl_high_resolution_images", is_bool, "a boolean"},
    };
    for (const auto& f : fields) {
        auto r = p.Copy(f.name, f.ok, f.expected);
        if (!r.ok()) return r.error();
    }
    // Newer SDKs send max_completion_tokens; DashScope knows max_tokens.
    if (!params.contains("max_tokens")) {
        auto r = p.Copy("max_completion_tokens", IsInteger, "an integer");
        if (!r.ok()) return r.error();
        if (*r) {
            params["max_tokens"] = params["max_completion_tokens"];
            params.erase("max_completion_tokens");
        }
    }
    for (auto [field, lo, hi] :
         {std::tuple{"temperature", 0.0, 2.0}, std::tuple{"top_p", 0.0, 1.0},
          std::tuple{"presence_penalty", -2.0, 2.0}, std::tuple{"top_logprobs", 0.0, 20.0}}) {
        if (auto r = CheckRange(param, params, field, lo, hi); !r.ok()) return r.error();
    }
    if (params.contains("max_tokens") && params["max_tokens"].get<std::int64_t>() < 1)
        return BadField(param, "max_tokens", "invalid_value",
                        "Invalid value for 'max_tokens': must be at least 1.");
    if (params.contains("n")) {
        std::int64_t n = params["n"].get<std::int64_t>();
        if (n < 1 || n > 4)
            return BadField(param, "n", "invalid_value",
                            "Invalid value for 'n': must be between 1 and 4.");
        req.n = static_cast<int>(n);
        if (n == 1) params.erase("n");
    }
    if (params.contains("response_format")) {
        const json& rf = params["response_format"];
        auto type = rf.find("type");
        if (type == rf.end() || !type->is_string() ||
            (*type != "text" && *type != "json_object" && *type != "json_schema"))
            return BadField(param, "response_format.type", "invalid_value",
                            "Invalid value for 'response_format.type': expected 'text', "
                            "'json_object' or 'json_schema'.");
    }
    req.chat.parameters = std::move(params);
    return req;
}

// ---- responses ----

std::string NewCompletionId() { return "chatcmpl-" + core::NewId(); }

json UsageJson(const bailian::Usage& u) {
    std::int64_t total = u.total_tokens > 0 ? u.total_tokens : u.input_tokens + u.output_tokens;
    json j = {{"prompt_tokens", u.input_tokens},
              {"completion_tokens", u.output_tokens},
              {"total_tokens", total},
              {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
    if (u.reasoning_tokens > 0)
        j["completion_tokens_details"] = {{"reasoning_tokens", u.reasoning_tokens}};
    return j;
}

std::string OpenAiFinishReason(std::string_view reason, bool has_tool_calls) {
    if (reason.empty() || reason == "null") return has_tool_calls ? "tool_calls" : "stop";
    if (reason == "stop" && has_tool_calls) return "tool_calls";
    return std::string(reason);
}

json CompletionJson(const bailian::ChatResult& result, const std::string& id,
                    const std::string& model, std::int64_t created_s) {
    bool tools = result.tool_calls.is_array() && !result.tool_calls.empty();
    json message = {{"role", "assistant"}};
    message["content"] = (tools && result.content.empty()) ? json(nullptr) : json(result.content);
    if (!result.reasoning.empty()) message["reasoning_content"] = result.reasoning;
    if (tools) {
        json calls = json::array();
        for (const auto& c : result.tool_calls) {
            json call = c;
            if (!call.contains("type")) call["type"] = "function";
            call.erase("index");
            calls.push_back(std::move(call));
        }
        message["tool_calls"] = std::move(calls);
    }
    return {{"id", id},
            {"object", "chat.completion"},
            {"created", created_s},
            {"model", model},
            {"choices",
             json::array({{{"index", 0},
                           {"message", std::move(message)},
                           {"logprobs", nullptr},
                           {"finish_reason", OpenAiFinishReason(result.finish_reason, tools)}}})},
            {"usage", UsageJson(result.usage)},
            {"system_fingerprint", nullptr}};
}

std::string OpenAiErrorType(int status) {
    if (status == 403) return "permission_error";
    if (status == 429) return "rate_limit_error";
    if (status >= 500) return "server_error";
    return "invalid_request_error";
}

json OpenAiErrorJson(const Error& e, int status, const std::optional<std::string>& param) {
    std::string code = e.api_code;
    std::string message = e.public_message;
    if (code == "unknown_model") {
        code = "model_not_found";
    }
    if (message.empty()) message = status >= 500 ? "Internal error." : "Request failed.";
    return {{"error",
             {{"message", message},
              {"type", code == "quota_exceeded" ? std::string("insufficient_quota")
                                                : OpenAiErrorType(status)},
              {"param", param ? json(*param) : json(nullptr)},
              {"code", code.empty() ? json(nullptr) : json(code)}}}};
}

// ---- chunks ----

ChunkRenderer::ChunkRenderer(std::string id, std::string model, std::int64_t created_s,
                             bool include_usage, bool dom_reference)
    : id_(std::move(id)),
      model_(std::move(model)),
      created_s_(created_s),
      include_usage_(include_usage),
      dom_reference_(dom_reference) {
    // nlohmann's objects are std::maps: keys are written in sorted order.
    tail_ = ",\"index\":0,\"logprobs\":null}],\"created\":" + std::to_string(created_s_) +
            ",\"id\":";
    core::AppendJsonString(tail_, id_);
    tail_ += ",\"model\":";
    core::AppendJsonString(tail_, model_);
    tail_ += ",\"object\":\"chat.completion.chunk\",\"system_fingerprint\":null";
    if (include_usage_) tail_ += ",\"usage\":null";
    tail_ += "}\n\n";
}

json ChunkRenderer::Chunk(json delta, const json& finish_reason) const {
    json j = {{"id", id_},
              {"object", "chat.completion.chunk"},
              {"created", created_s_},
              {"model", model_},
              {"system_fingerprint", nullptr},
              {"choices", json::array({{{"index", 0},
                                        {"delta", std::move(delta)},
                                        {"logprobs", nullptr},
                                        {"finish_reason", finish_reason}}})}};
    if (include_usage_) j["usage"] = nullptr;
    return j;
}

std::string ChunkRenderer::Frame(const json& j) const {
    std::string out = "data: ";
    core::AppendJson(out, j);
    out += "\n\n";
    return out;
}

void ChunkRenderer::AppendFrame(std::string& out, std::string_view delta_json,
                                const std::string_view* finish_reason) const {
    out += "data: {\"choices\":[{\"delta\":";
    out += delta_json;
    out += ",\"finish_reason\":";
    if (finish_reason == nullptr) {
        out += "null";
    } else {
        core::AppendJsonString(out, *finish_reason);
    }
    out += tail_;
}

void ChunkRenderer::AppendTextDelta(std::string& out, std::string_view key,
                                    const std::string& text) {
    AppendRoleFrameOnce(out);
    if (text.empty()) return;
    if (dom_reference_) {
        out += Frame(Chunk({{std::string(key), text}}, nullptr));
        return;
    }
    out.reserve(out.size() + text.size() + tail_.size() + 64);
    out += "data: {\"choices\":[{\"delta\":{\"";
    out += key;
    out += "\":";
    core::AppendJsonString(out, text);
    out += "},\"finish_reason\":null";
    out += tail_;
}

void ChunkRenderer::AppendFinishFrame(std::string& out, std::string_view upstream_reason) {
    finished_ = true;
    const std::string reason = OpenAiFinishReason(upstream_reason, saw_tool_calls_);
    if (dom_reference_) {
        out += Frame(Chunk(json::object(), reason));
    } else {
        const std::string_view view = reason;
        AppendFrame(out, "{}", &view);
    }
}

std::string ChunkRenderer::RoleFrameOnce() {
    std::string out;
    AppendRoleFrameOnce(out);
    return out;
}

void ChunkRenderer::AppendRoleFrameOnce(std::string& out) {
    if (started_) return;
    started_ = true;
    if (dom_reference_) {
        out += Frame(Chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
    } else {
        AppendFrame(out, R"({"content":"","role":"assistant"})", nullptr);
    }
}

std::string ChunkRenderer::OnEvent(const bailian::StreamEvent& event) {
    std::string out;
    Append(event, out);
    return out;
}

void ChunkRenderer::Append(const bailian::StreamEvent& event, std::string& out) {
    if (finished_) return;
    if (const auto* c = std::get_if<bailian::ContentDelta>(&event)) {
        AppendTextDelta(out, "content", c->text);
        return;
    }
    if (const auto* r = std::get_if<bailian::ReasoningDelta>(&event)) {
        AppendTextDelta(out, "reasoning_content", r->text);
        return;
    }
    if (const auto* t = std::get_if<bailian::ToolCallDelta>(&event)) {
        AppendRoleFrameOnce(out);
        saw_tool_calls_ = true;
        json call = {{"index", t->index}};
        if (!t->id.empty()) call["id"] = t->id;
        if (!t->type.empty() || !t->id.empty())
            call["type"] = t->type.empty() ? "function" : t->type;
        json fn = {{"arguments", t->arguments}};
        if (!t->name.empty()) fn["name"] = t->name;
        call["function"] = std::move(fn);
        out += Frame(Chunk({{"tool_calls", json::array({std::move(call)})}}, nullptr));
        return;
    }
    if (const auto* f = std::get_if<bailian::Finish>(&event)) {
        AppendRoleFrameOnce(out);
        AppendFinishFrame(out, f->reason);
        return;
    }
    // Usage, Done and errors are rendered by Finish() / Fail()
}

std::string ChunkRenderer::Finish(const bailian::Usage& usage, std::string_view finish_reason) {
    std::string out = RoleFrameOnce();
    if (!finished_) AppendFinishFrame(out, finish_reason);
    if (include_usage_) {
        out += Frame({{"id", id_},
                      {"object", "chat.completion.chunk"},
                      {"created", created_s_},
                      {"model", model_},
                      {"system_fingerprint", nullptr},
                      {"choices", json::array()},
                      {"usage", UsageJson(usage)}});
    }
    out += "data: [DONE]\n\n";
    return out;
}

std::string ChunkRenderer::Fail(const Error& e, int status) {
    finished_ = true;
    return Frame(OpenAiErrorJson(e, status));
}

// ---- models ----

json ModelObjectJson(const ModelInfo& m) {
    return {{"id", m.id},
            {"object", "model"},
            {"created", 0},
            {"owned_by", "bailian"},
            {"kind", std::string(ToString(m.kind))},
            {"context_window", m.context_window}};
}

json ModelListJson(const Catalog& catalog, const Caller& caller) {
    json data = json::array();
    for (const auto& m : catalog.All()) {
        if (!m.enabled || !caller.MayCall(m)) continue;
        if (!catalog.Require(m.id, {m.kind}).ok()) continue;
        data.push_back(ModelObjectJson(m));
    }
    return {{"object", "list"}, {"data", std::move(data)}};
}

// ---- the service ----

OpenAiCompat::OpenAiCompat(bailian::Client& upstream, const Catalog& catalog, UsageRecorder& usage,
                           const core::Clock& clock)
    : upstream_(upstream), catalog_(catalog), usage_(usage), clock_(clock) {}

Result<const ModelInfo*> OpenAiCompat::FindModel(const Caller& caller,
                                                 std::string_view model) const {
    auto m = catalog_.Require(model, {ModelKind::kChat, ModelKind::kVision, ModelKind::kImage});
    if (!m.ok() || !caller.MayCall(**m)) {
        return Error::Make(ErrorCode::kNotFound, "model_not_found",
                           "The model '" + std::string(model.substr(0, 64)) +
                               "' does not exist or you do not have access to it.");
    }
    return m;
}

Result<const ModelInfo*> OpenAiCompat::CheckModel(const Caller& caller,
                                                  std::string_view model) const {
    auto m = catalog_.RequireChat(model);
    if (!m.ok()) {
        return Error::Make(ErrorCode::kInvalidArgument, "model_not_found",
                           "The model '" + std::string(model.substr(0, 64)) +
                               "' does not exist or is not available for chat. GET /v1/models "
                               "lists the models.");
    }
    if (auto r = auth::Require(caller.principal, auth::perm::kModelsChat); !r.ok())
        return r.error();
    if (!caller.MayUse((*m)->id)) return auth::ModelNotAllowed(model);
    return m;
}

net::awaitable<void> OpenAiCompat::RecordRefusal(CallSource source, Error error,
                                                 std::int64_t started_ms) {
    store::ApiCall row;
    row.user_id = source.user_id;
    row.api_key_id = source.api_key_id;
    row.endpoint = source.endpoint;
    row.model = source.model.substr(0, 128);
    row.status_code = usage_.StatusOf(error.code);
    row.error_code = error.api_code;
    row.created_at = started_ms;
    co_await usage_.Record(std::move(row));
}

namespace {

// Who made a /v1/chat/completions call (the api_calls row's source).
CallSource CompletionSource(const Caller& caller, const std::string& model) {
    CallSource source;
    source.user_id = caller.principal.user_id;
    source.api_key_id = caller.principal.api_key_id;
    source.endpoint = std::string(kChatCompletionsEndpoint);
    source.model = model;
    return source;
}

// Whether the call is billed at the thinking price: the model always thinks, or the request
// turned thinking on.
bool Thinks(const ModelInfo& info, const json& parameters) {
    auto it = parameters.find("enable_thinking");
    return info.always_thinks || (it != parameters.end() && it->is_boolean() && it->get<bool>());
}

// The api_calls row of a completion, in its own frame rather than in Complete's, which
// lives as long as the stream.
net::awaitable<void> RecordRun(UsageRecorder& usage, const Caller& caller,
                               const std::string& model, const bailian::ChatOutcome& outcome,
                               std::int64_t started_ms, bool thinking) {
    store::ApiCall row = usage.ChatRow(CompletionSource(caller, model), outcome, started_ms,
                                       thinking);
    co_await usage.Record(std::move(row));
}

}  // namespace

net::awaitable<void> OpenAiCompat::RecordCompletionRefusal(const Caller& caller,
                                                           const std::string& model,
                                                           const Error& error,
                                                           std::int64_t started_ms) {
    co_await RecordRefusal(CompletionSource(caller, model), error, started_ms);
}

const ModelInfo* OpenAiCompat::AdmitModel(const Caller& caller, const std::string& model,
                                          Error& refusal) const {
    auto m = CheckModel(caller, model);
    if (m.ok()) return *m;
    refusal = std::move(m.error());
    return nullptr;
}

net::awaitable<void> OpenAiCompat::Complete(const Caller& caller, CompatChatRequest& req,
                                            bailian::EventSink* sink, bailian::Cancel& cancel,
                                            Run& run) {
    // Every local here stays in the frame for the whole of a stream: what is needed only
    // before the upstream call or after it is in the functions called, not here.
    const std::int64_t started_ms = clock_.NowMs();
    const ModelInfo* info = AdmitModel(caller, req.chat.model, run.outcome.error);
    if (info == nullptr) {
        co_await RecordCompletionRefusal(caller, req.chat.model, run.outcome.error, started_ms);
        co_return;
    }
    const bool thinking = Thinks(*info, req.chat.parameters);
    if (!req.chat.stream) {
        sink = nullptr;
        // DashScope refuses non-stream calls to stream-only models: stream upstream and
        // aggregate, so the client still gets one chat.completion.
        if (info->stream_only) req.chat.stream = true;
    } else if (sink != nullptr) {
        req.chat.keep_text = false;  // relayed as it comes: only usage and finish are read
    }
    // The model's name as asked, for the api_calls row (the request is moved upstream).
    std::string model = req.chat.model;
    auto t0 = std::chrono::steady_clock::now();
    co_await upstream_.ChatInto(std::move(req.chat), sink, cancel, run.outcome);
    run.upstream_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    co_await RecordRun(usage_, caller, model, run.outcome, started_ms, thinking);
}

net::awaitable<Result<OpenAiCompat::Run>> OpenAiCompat::CompleteRelayed(Caller caller,
                                                                        CompatChatRequest req,
                                                                        bailian::RawSink& out,
                                                                        bailian::Cancel& cancel) {
    const std::int64_t started_ms = clock_.NowMs();
    CallSource source = CompletionSource(caller, req.chat.model);
    auto model = CheckModel(caller, req.chat.model);
    if (!model.ok()) {
        co_await RecordRefusal(source, model.error(), started_ms);
        co_return model.error();
    }
    const bool thinking = Thinks(**model, req.chat.parameters);

    json body = req.chat.parameters;
    body["model"] = req.chat.model;
    body["messages"] = req.chat.messages;
    body["stream"] = req.chat.stream;
    if (req.chat.stream) body["stream_options"] = {{"include_usage", true}};
    bailian::RawRequest raw;
    raw.method = "POST";
    raw.path = "/compatible-mode/v1/chat/completions";
    raw.headers = {{"Content-Type", "application/json"},
                   {"Accept", req.chat.stream ? "text/event-stream" : "application/json"}};
    raw.body = core::DumpJson(body);
    raw.request_id = req.chat.request_id;

    AnswerTap tap(PassKind::kChat, true, bailian::ApiStyle::kCompatible);
    TapSink sink(out, tap, clock_, started_ms);
    Run run;
    auto t0 = std::chrono::steady_clock::now();
    bailian::RawOutcome raw_out = co_await upstream_.Forward(std::move(raw), sink, cancel);
    run.upstream_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    tap.OnEnd();

    bailian::ChatOutcome& o = run.outcome;
    o.ok = raw_out.ok && tap.status() >= 200 && tap.status() < 300 && tap.error_code().empty();
    o.cancelled = raw_out.cancelled;
    o.error = raw_out.error;
    o.latency_ms = raw_out.latency_ms;
    // Streams: the first delta; whole answers: when the answer arrived.
    o.first_token_ms = tap.sse() ? tap.first_token_ms() : raw_out.first_byte_ms;
    o.upstream_request_id =
        !tap.request_id().empty() ? tap.request_id() : raw_out.upstream_request_id;
    o.result.usage = tap.usage();
    o.error_code = tap.error_code();
    store::ApiCall row = usage_.ChatRow(source, o, started_ms, thinking);
    if (raw_out.ok && !o.cancelled) {
        // The status DashScope answered with (the error, if any, went to the client as is).
        row.status_code = tap.error_status() > 0 ? tap.error_status() : tap.status();
        row.error_code = tap.error_code();
    }
    co_await usage_.Record(std::move(row));
    // What the caller needs: whether a response reached `out`, and the error otherwise.
    o.ok = raw_out.ok;
    co_return run;
}

}  // namespace hub::services
