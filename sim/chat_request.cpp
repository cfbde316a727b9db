#include "chat_request.hpp"

#include "json_text.hpp"

namespace hub::sim {
namespace {

using json = nlohmann::json;

constexpr const char* kAlgoPrefix = "<400> InternalError.Algo.InvalidParameter: ";
constexpr const char* kRoleMsg =
    "Role must be user or assistant and Content length must be greater than 0";

SimError Invalid(Api api, const std::string& msg, std::string param = {}) {
    if (api == Api::kCompat) return SimError::InvalidParameter(kAlgoPrefix + msg, std::move(param));
    return SimError::InvalidParameter(msg, std::move(param));
}

std::optional<double> Number(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (it->is_number()) return it->get<double>();
    return std::nullopt;
}

bool WrongType(const json& j, const char* key, json::value_t a, json::value_t b = json::value_t::discarded) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return false;
    auto t = it->type();
    if (t == a || t == b) return false;
    if (a == json::value_t::number_integer &&
        (t == json::value_t::number_unsigned || t == json::value_t::number_integer))
        return false;
    if (a == json::value_t::number_float && it->is_number()) return false;
    return true;
}

// Common sampling parameters, found at the top level (compat) or under "parameters" (native).
std::optional<SimError> ParseParameters(const json& p, Api api, ChatRequest* r) {
    if (auto t = Number(p, "temperature"); t && (*t < 0.0 || *t >= 2.0))
        return Invalid(api, "Range of temperature should be [0.0, 2.0)", "temperature");
    if (auto t = Number(p, "top_p"); t && (*t <= 0.0 || *t > 1.0))
        return Invalid(api, "Range of top_p should be (0.0, 1.0]", "top_p");
    if (auto t = Number(p, "presence_penalty"); t && (*t < -2.0 || *t > 2.0))
        return Invalid(api, "Range of presence_penalty should be [-2.0, 2.0]", "presence_penalty");
    for (const char* key : {"max_tokens", "max_completion_tokens"}) {
        if (WrongType(p, key, json::value_t::number_integer))
            return Invalid(api, std::string("Parameter ") + key + " should be an integer", key);
        if (auto t = Number(p, key)) {
            if (*t < 1) return Invalid(api, "Range of max_tokens should be [1, 2147483647]", key);
            r->max_tokens = static_cast<int>(std::min(*t, 2147483647.0));
        }
    }
    if (auto t = Number(p, "n")) {
        if (*t < 1 || *t > 4) return Invalid(api, "Range of n should be [1, 4]", "n");
        r->n = static_cast<int>(*t);
    }
    if (auto t = Number(p, "seed")) r->seed = static_cast<std::int64_t>(*t);
    if (auto it = p.find("enable_thinking"); it != p.end() && it->is_boolean())
        r->enable_thinking = it->get<bool>();
    if (auto t = Number(p, "thinking_budget")) {
        if (*t < 1) return Invalid(api, "Range of thinking_budget should be [1, 2147483647]",
                                   "thinking_budget");
        r->thinking_budget = static_cast<int>(std::min(*t, 2147483647.0));
    }
    if (auto it = p.find("incremental_output"); it != p.end() && it->is_boolean())
        r->incremental_output = it->get<bool>();
    if (auto it = p.find("logprobs"); it != p.end() && it->is_boolean()) r->logprobs = it->get<bool>();
    if (auto t = Number(p, "top_logprobs")) {
        if (*t < 0 || *t > 5) return Invalid(api, "Range of top_logprobs should be [0, 5]", "top_logprobs");
        r->top_logprobs = static_cast<int>(*t);
    }
    if (auto it = p.find("stop"); it != p.end()) {
        if (it->is_string()) {
            r->stop.push_back(it->get<std::string>());
        } else if (it->is_array()) {
            for (const auto& s : *it) {
                if (s.is_string()) r->stop.push_back(s.get<std::string>());
            }
        }
    }
    if (auto it = p.find("response_format"); it != p.end() && it->is_object()) {
        auto type = it->value("type", std::string{});
        if (type == "json_object") {
            r->json_mode = true;
        } else if (!type.empty() && type != "text" && type != "json_schema") {
            return Invalid(api, "Unknown format of response_format, response_format should be a "
                                "dict, includes 'type' and the type only support 'text' and "
                                "'json_object'",
                           "response_format");
        }
    }
    if (auto it = p.find("tools"); it != p.end() && !it->is_null()) {
        if (!it->is_array()) return Invalid(api, "tools should be an array", "tools");
        for (const auto& t : *it) {
            const json* fn = t.is_object() && t.contains("function") ? &t["function"] : nullptr;
            if (!fn || !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string() ||
                (*fn)["name"].get<std::string>().empty())
                return Invalid(api, "tools[].function.name is required", "tools");
            ToolDef d;
            d.name = (*fn)["name"].get<std::string>();
            d.parameters = fn->value("parameters", json());
            r->tools.push_back(std::move(d));
        }
        if (!r->tools.empty()) r->tools_text = it->dump();
    }
    if (auto it = p.find("tool_choice"); it != p.end() && !it->is_null()) {
        if (it->is_string()) {
            r->tool_choice = it->get<std::string>();
        } else if (it->is_object()) {
            r->tool_choice = "function";
            if (auto f = it->find("function"); f != it->end() && f->is_object())
                r->forced_tool = f->value("name", std::string{});
        }
    }
    return std::nullopt;
}

// Content: a string, or an array of parts in OpenAI shape ({"type":"text","text":…},
// {"type":"image_url",…}) or DashScope shape ({"text":…}, {"image":…}).
bool ReadContent(const json& c, ChatMessage* m) {
    if (c.is_null()) return true;
    if (c.is_string()) {
        m->text = c.get<std::string>();
        return true;
    }
    if (!c.is_array()) return false;
    for (const auto& part : c) {
        if (part.is_string()) {
            m->text += part.get<std::string>();
            continue;
        }
        if (!part.is_object()) return false;
        if (auto t = part.find("text"); t != part.end() && t->is_string()) {
            m->text += t->get<std::string>();
        } else if (part.contains("image") || part.contains("image_url")) {
            ++m->images;
        } else if (part.contains("video") || part.contains("video_url")) {
            ++m->videos;
        } else if (part.contains("audio") || part.contains("input_audio")) {
            ++m->audios;
        }
    }
    return true;
}

bool KnownRole(const std::string& r) {
    return r == "system" || r == "user" || r == "assistant" || r == "tool";
}

std::optional<SimError> CheckJsonWord(const ChatRequest& r) {
    if (r.json_mode && !ContainsIgnoreCase(r.AllText(), "json")) {
        return SimError::InvalidParameter(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of "
            "type 'json_object'.",
            "messages");
    }
    return std::nullopt;
}

}  // namespace

const ChatMessage* ChatRequest::LastUser() const {
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
        if (it->role == "user") return &*it;
    }
    return nullptr;
}

std::string ChatRequest::AllText() const {
    std::string s;
    for (const auto& m : messages) {
        s += m.text;
        s.push_back('\n');
    }
    return s;
}

void SplitModelFault(const std::string& model, std::string* name, std::string* fault) {
    auto at = model.find('@');
    if (at == std::string::npos) {
        *name = model;
        fault->clear();
    } else {
        *name = model.substr(0, at);
        *fault = model.substr(at + 1);
    }
}

std::optional<SimError> ParseCompatRequest(const json& body, ChatRequest* r) {
    r->api = Api::kCompat;
    if (!body.is_object()) return Invalid(Api::kCompat, "Request body must be a JSON object");
    auto model = body.find("model");
    if (model == body.end() || !model->is_string() || model->get<std::string>().empty())
        return SimError::Of(ErrorKind::kEmptyModel);
    r->model = model->get<std::string>();
    SplitModelFault(r->model, &r->model_name, &r->model_fault);
    auto msgs = body.find("messages");
    if (msgs == body.end() || !msgs->is_array() || msgs->empty())
        return Invalid(Api::kCompat, "Input should be a valid list: messages", "messages");
    for (const auto& jm : *msgs) {
        if (!jm.is_object()) return Invalid(Api::kCompat, kRoleMsg, "messages");
        ChatMessage m;
        m.role = jm.value("role", std::string{});
        if (!KnownRole(m.role)) return Invalid(Api::kCompat, kRoleMsg, "messages");
        auto c = jm.find("content");
        if (c != jm.end() && !ReadContent(*c, &m)) return Invalid(Api::kCompat, kRoleMsg, "messages");
        m.has_tool_calls = jm.contains("tool_calls") && jm["tool_calls"].is_array() &&
                           !jm["tool_calls"].empty();
        if (m.role != "assistant" && m.text.empty() && m.images == 0 && m.videos == 0 &&
            m.audios == 0)
            return Invalid(Api::kCompat, kRoleMsg, "messages");
        r->messages.push_back(std::move(m));
    }
    if (auto it = body.find("stream"); it != body.end() && it->is_boolean()) r->stream = it->get<bool>();
    if (auto so = body.find("stream_options"); so != body.end() && so->is_object()) {
        if (auto iu = so->find("include_usage"); iu != so->end() && iu->is_boolean())
            r->include_usage = iu->get<bool>();
    }
    if (auto e = ParseParameters(body, Api::kCompat, r)) return e;
    // OpenAI spells logprobs as a top-level bool too; top_logprobs as an int (0..20 in OpenAI).
    return CheckJsonWord(*r);
}

std::optional<SimError> ParseNativeRequest(const json& body, Api api, ChatRequest* r) {
    r->api = api;
    if (!body.is_object()) return Invalid(api, "Request body must be a JSON object");
    auto model = body.find("model");
    if (model == body.end() || !model->is_string() || model->get<std::string>().empty())
        return SimError::Of(ErrorKind::kEmptyModel);
    r->model = model->get<std::string>();
    SplitModelFault(r->model, &r->model_name, &r->model_fault);
    auto input = body.find("input");
    if (input == body.end() || !input->is_object()) return SimError::Of(ErrorKind::kEmptyInput);
    auto prompt = input->find("prompt");
    auto msgs = input->find("messages");
    bool has_prompt = prompt != input->end() && !prompt->is_null();
    bool has_msgs = msgs != input->end() && !msgs->is_null();
    if (!has_prompt && !has_msgs)
        return Invalid(api, "Either \"prompt\" or \"messages\" must exist and cannot both be none.",
                       "input");
    if (has_msgs) {
        if (!msgs->is_array() || msgs->empty()) return Invalid(api, kRoleMsg, "messages");
        for (const auto& jm : *msgs) {
            if (!jm.is_object()) return Invalid(api, kRoleMsg, "messages");
            ChatMessage m;
            m.role = jm.value("role", std::string{});
            if (!KnownRole(m.role)) return Invalid(api, kRoleMsg, "messages");
            auto c = jm.find("content");
            if (c != jm.end() && !ReadContent(*c, &m)) return Invalid(api, kRoleMsg, "messages");
            m.has_tool_calls = jm.contains("tool_calls") && jm["tool_calls"].is_array() &&
                               !jm["tool_calls"].empty();
            if (m.role != "assistant" && m.text.empty() && m.images == 0 && m.videos == 0 &&
                m.audios == 0)
                return Invalid(api, kRoleMsg, "messages");
            r->messages.push_back(std::move(m));
        }
    } else {
        if (!prompt->is_string() || prompt->get<std::string>().empty())
            return Invalid(api, "Range of input length should be [1, 30720]", "prompt");
        ChatMessage m;
        m.role = "user";
        m.text = prompt->get<std::string>();
        r->messages.push_back(std::move(m));
        r->used_prompt = true;
    }
    if (auto p = body.find("parameters"); p != body.end() && p->is_object()) {
        r->result_format = p->value("result_format", std::string{});
        if (!r->result_format.empty() && r->result_format != "text" && r->result_format != "message")
            return Invalid(api, "result_format should be 'text' or 'message'", "result_format");
        if (auto e = ParseParameters(*p, api, r)) return e;
    }
    return CheckJsonWord(*r);
}

}  // namespace hub::sim
