#include "protocol_native.hpp"

#include <nlohmann/json.hpp>

#include "json_text.hpp"

namespace hub::sim {
namespace {

using ojson = nlohmann::ordered_json;

ojson Logprobs(const ChoicePlan& p, int top) {
    // Recorded shape: {"content":[{"top_logprobs":[{"logprob":0.0,"bytes":[50],"token":"2"}],
    //                  "logprob":0.0,"bytes":[50],"token":"2"}]}
    ojson content = ojson::array();
    for (const auto& tok : p.content) {
        ojson bytes = ojson::array();
        for (unsigned char b : tok) bytes.push_back(static_cast<int>(b));
        ojson tops = ojson::array();
        for (int k = 0; k < top; ++k) {
            ojson t;
            t["logprob"] = k == 0 ? 0.0 : -1.0 * k;
            t["bytes"] = bytes;
            t["token"] = k == 0 ? tok : tok + std::string(static_cast<std::size_t>(k), '_');
            tops.push_back(std::move(t));
        }
        ojson e;
        e["top_logprobs"] = std::move(tops);
        e["logprob"] = 0.0;
        e["bytes"] = std::move(bytes);
        e["token"] = tok;
        content.push_back(std::move(e));
    }
    ojson j;
    j["content"] = std::move(content);
    return j;
}

ojson ToolCalls(const ToolCallPlan& t) {
    ojson fn;
    fn["name"] = t.name;
    fn["arguments"] = t.arguments;
    ojson tc;
    tc["function"] = std::move(fn);
    tc["index"] = 0;
    tc["id"] = t.id;
    tc["type"] = "function";
    return ojson::array({std::move(tc)});
}

struct Counts {
    int input = 0;
    int output = 0;
    int reasoning = 0;
    int image = 0;
};

void AppendUsage(std::string& s, const Counts& k, const Completion& c, const NativeShape& shape) {
    s += "\"usage\":{";
    if (shape.multimodal) {
        s += "\"input_tokens\":" + std::to_string(k.input) +
             ",\"output_tokens\":" + std::to_string(k.output) +
             ",\"image_tokens\":" + std::to_string(k.image);
        if (c.thinking) {
            s += ",\"output_tokens_details\":{\"reasoning_tokens\":" + std::to_string(k.reasoning) +
                 "}";
        }
    } else if (c.thinking) {
        s += "\"total_tokens\":" + std::to_string(k.input + k.output) +
             ",\"output_tokens\":" + std::to_string(k.output) +
             ",\"input_tokens\":" + std::to_string(k.input) +
             ",\"output_tokens_details\":{\"reasoning_tokens\":" + std::to_string(k.reasoning) + "}";
    } else if (c.after_tool) {
        // Recorded tool follow-up streams order usage total, output, input.
        s += "\"total_tokens\":" + std::to_string(k.input + k.output) +
             ",\"output_tokens\":" + std::to_string(k.output) +
             ",\"input_tokens\":" + std::to_string(k.input);
    } else {
        s += "\"total_tokens\":" + std::to_string(k.input + k.output) +
             ",\"input_tokens\":" + std::to_string(k.input) +
             ",\"output_tokens\":" + std::to_string(k.output);
    }
    if (c.after_tool) s += ",\"prompt_tokens_details\":{\"cached_tokens\":0}";
    s += "}";
}

}  // namespace

NativeShape NativeShapeFor(const ChatRequest& req, const ModelInfo& model, const Completion& c) {
    NativeShape s;
    s.multimodal = req.api == Api::kNativeMultimodal;
    if (s.multimodal) {
        s.message = true;
    } else if (c.thinking || !req.tools.empty()) {
        s.message = true;
    } else if (!req.result_format.empty()) {
        s.message = req.result_format == "message";
    } else {
        s.message = model.default_message_format;
    }
    s.incremental = req.incremental_output.value_or(model.thinking == Thinking::kAlways);
    return s;
}

std::string NativeBody(const ChatRequest& req, const Completion& c, const NativeShape& shape,
                       const std::string& request_id) {
    const ChoicePlan& p = c.choices.front();
    int out = p.OutputTokens();
    ojson output;
    ojson usage;
    if (!shape.message) {
        output["finish_reason"] = p.finish_reason == "tool_calls" ? "stop" : p.finish_reason;
        output["text"] = p.Text();
        usage["prompt_tokens_details"] = {{"cached_tokens", 0}};
        usage["total_tokens"] = c.input_tokens + out;
        usage["output_tokens"] = out;
        usage["input_tokens"] = c.input_tokens;
    } else {
        ojson msg;
        if (c.thinking) {
            msg["content"] = p.Text();
            msg["reasoning_content"] = p.ReasoningText();
            msg["role"] = "assistant";
        } else if (p.tool_call) {
            msg["role"] = "assistant";
            msg["tool_calls"] = ToolCalls(*p.tool_call);
            msg["content"] = "";
        } else {
            msg["role"] = "assistant";
            if (shape.multimodal) {
                msg["content"] = ojson::array({{{"text", p.Text()}}});
            } else {
                msg["content"] = p.Text();
            }
        }
        if (c.thinking && p.tool_call) msg["tool_calls"] = ToolCalls(*p.tool_call);
        ojson ch;
        ch["finish_reason"] = p.finish_reason == "tool_calls" ? "stop" : p.finish_reason;
        ch["message"] = std::move(msg);
        if (req.logprobs) ch["logprobs"] = Logprobs(p, req.top_logprobs);
        output["choices"] = ojson::array({std::move(ch)});
        if (shape.multimodal) {
            usage["output_tokens"] = out;
            usage["input_tokens"] = c.input_tokens;
            usage["image_tokens"] = c.image_tokens;
            if (c.thinking)
                usage["output_tokens_details"] = {{"reasoning_tokens", p.ReasoningTokens()}};
        } else if (c.thinking) {
            usage["input_tokens"] = c.input_tokens;
            usage["output_tokens"] = out;
            usage["output_tokens_details"] = {{"reasoning_tokens", p.ReasoningTokens()}};
            usage["prompt_tokens_details"] = {{"cached_tokens", 0}};
            usage["total_tokens"] = c.input_tokens + out;
        } else {
            usage["total_tokens"] = c.input_tokens + out;
            usage["output_tokens"] = out;
            usage["input_tokens"] = c.input_tokens;
            if (c.after_tool || req.logprobs) usage["prompt_tokens_details"] = {{"cached_tokens", 0}};
        }
    }
    ojson j;
    j["output"] = std::move(output);
    j["usage"] = std::move(usage);
    j["request_id"] = request_id;
    return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

std::vector<Frame> NativeStreamFrames(const ChatRequest& req, const Completion& c,
                                      const NativeShape& shape, const std::string& request_id,
                                      bool blank_lines) {
    (void)req;
    const ChoicePlan& p = c.choices.front();
    std::vector<Frame> frames;
    Counts k;
    k.input = c.input_tokens;
    k.image = c.image_tokens;
    std::string rid = JsonQuote(request_id);
    std::string reasoning_so_far, content_so_far, args_so_far;
    const std::string final_reason = p.finish_reason == "tool_calls" ? "stop" : p.finish_reason;

    // One event. content/reasoning are what this event shows (delta or cumulative).
    auto event = [&](const std::string& content, const std::string* reasoning,
                     const std::string* tool_args, bool first_tool_piece,
                     const std::string& finish, int tokens) {
        Frame f;
        f.tokens = tokens;
        std::string& s = f.data;
        s.reserve(256 + content.size());
        s += "id:" + std::to_string(frames.size() + 1) + "\nevent:result\n:HTTP_STATUS/200\ndata:";
        if (!shape.message) {
            s += "{\"output\":{\"finish_reason\":";
            AppendJsonString(s, finish);
            s += ",\"text\":";
            AppendJsonString(s, content);
            s += "},";
        } else {
            s += "{\"output\":{\"choices\":[{\"message\":{\"content\":";
            if (shape.multimodal) {
                if (content.empty() && finish != "null") {
                    s += "[]";
                } else {
                    s += "[{\"text\":";
                    AppendJsonString(s, content);
                    s += "}]";
                }
            } else {
                AppendJsonString(s, content);
            }
            if (reasoning) {
                s += ",\"reasoning_content\":";
                AppendJsonString(s, *reasoning);
            }
            s += ",\"role\":\"assistant\"";
            if (tool_args) {
                s += ",\"tool_calls\":[{\"index\":0,\"id\":";
                bool full = first_tool_piece || !shape.incremental;
                AppendJsonString(s, full ? p.tool_call->id : std::string{});
                s += ",\"type\":\"function\",\"function\":{";
                if (full) {
                    s += "\"name\":";
                    AppendJsonString(s, p.tool_call->name);
                    s += ",";
                }
                s += "\"arguments\":";
                AppendJsonString(s, *tool_args);
                s += "}}]";
            }
            s += "}";
            if (c.after_tool) s += ",\"index\":0";
            s += ",\"finish_reason\":";
            AppendJsonString(s, finish);
            s += "}]},";
        }
        AppendUsage(s, k, c, shape);
        s += ",\"request_id\":";
        s += rid;
        s += blank_lines ? "}\n\n" : "}\n";
        frames.push_back(std::move(f));
    };
    static const std::string kEmpty;
    const std::string* no_reasoning = c.thinking ? &kEmpty : nullptr;

    for (const auto& piece : p.reasoning) {
        ++k.output;
        ++k.reasoning;
        reasoning_so_far += piece;
        event("", shape.incremental ? &piece : &reasoning_so_far, nullptr, false, "null", 1);
    }
    const std::string* reasoning_after = shape.incremental ? no_reasoning
                                         : c.thinking      ? &reasoning_so_far
                                                           : nullptr;
    for (std::size_t i = 0; i < p.content.size(); ++i) {
        const auto& piece = p.content[i];
        ++k.output;
        content_so_far += piece;
        bool last = i + 1 == p.content.size();
        // Multimodal streams put the final finish_reason on the last content event.
        std::string finish = shape.multimodal && last && !p.tool_call ? final_reason : "null";
        event(shape.incremental ? piece : content_so_far, reasoning_after, nullptr, false, finish, 1);
    }
    if (p.tool_call) {
        for (std::size_t i = 0; i < p.tool_call->pieces.size(); ++i) {
            const auto& piece = p.tool_call->pieces[i];
            ++k.output;
            args_so_far += piece;
            event(shape.incremental ? std::string{} : content_so_far, reasoning_after,
                  shape.incremental ? &piece : &args_so_far, i == 0, "null", 1);
        }
    }
    bool finished = shape.multimodal && !p.content.empty() && !p.tool_call;
    if (!finished) {
        const std::string* args = p.tool_call && !shape.incremental ? &args_so_far : nullptr;
        event(shape.incremental ? std::string{} : content_so_far, reasoning_after, args, false,
              final_reason, 0);
    }
    return frames;
}

}  // namespace hub::sim
