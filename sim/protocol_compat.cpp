#include "protocol_compat.hpp"

#include <nlohmann/json.hpp>

#include "ids.hpp"
#include "json_text.hpp"

namespace hub::sim {
namespace {

using ojson = nlohmann::ordered_json;

ojson Logprobs(const ChoicePlan& p, int top) {
    ojson content = ojson::array();
    for (std::size_t i = 0; i < p.content.size(); ++i) {
        const std::string& tok = p.content[i];
        ojson bytes = ojson::array();
        for (unsigned char b : tok) bytes.push_back(static_cast<int>(b));
        double lp = -static_cast<double>(Hash64(tok, i) % 1000) / 10000.0;
        ojson tops = ojson::array();
        for (int k = 0; k < top; ++k) {
            ojson t;
            t["token"] = k == 0 ? tok : tok + std::string(static_cast<std::size_t>(k), '_');
            t["bytes"] = bytes;
            t["logprob"] = lp - k;
            tops.push_back(std::move(t));
        }
        ojson e;
        e["token"] = tok;
        e["bytes"] = std::move(bytes);
        e["logprob"] = lp;
        e["top_logprobs"] = std::move(tops);
        content.push_back(std::move(e));
    }
    ojson j;
    j["content"] = std::move(content);
    return j;
}

void AppendTail(std::string& s, const CompatMeta& meta) {
    s += "\"created\":";
    s += std::to_string(meta.created);
    s += ",\"system_fingerprint\":null,\"model\":";
    AppendJsonString(s, meta.model);
    s += ",\"id\":";
    AppendJsonString(s, meta.id);
    s += "}\n\n";
}

}  // namespace

std::string CompatBody(const ChatRequest& req, const Completion& c, const CompatMeta& meta) {
    ojson choices = ojson::array();
    for (std::size_t i = 0; i < c.choices.size(); ++i) {
        const auto& p = c.choices[i];
        ojson msg;
        msg["role"] = "assistant";
        msg["content"] = p.Text();
        if (c.thinking) msg["reasoning_content"] = p.ReasoningText();
        if (p.tool_call) {
            ojson fn;
            fn["name"] = p.tool_call->name;
            fn["arguments"] = p.tool_call->arguments;
            ojson tc;
            tc["id"] = p.tool_call->id;
            tc["type"] = "function";
            tc["index"] = 0;
            tc["function"] = std::move(fn);
            msg["tool_calls"] = ojson::array({std::move(tc)});
        }
        ojson ch;
        ch["message"] = std::move(msg);
        ch["finish_reason"] = p.finish_reason;
        ch["index"] = i;
        ch["logprobs"] = req.logprobs ? Logprobs(p, req.top_logprobs) : ojson(nullptr);
        choices.push_back(std::move(ch));
    }
    int out = c.OutputTokens();
    ojson usage;
    usage["prompt_tokens"] = c.input_tokens;
    usage["completion_tokens"] = out;
    usage["total_tokens"] = c.input_tokens + out;
    if (c.thinking) usage["completion_tokens_details"] = {{"reasoning_tokens", c.ReasoningTokens()}};
    usage["prompt_tokens_details"] = {{"cached_tokens", 0}};
    ojson j;
    j["choices"] = std::move(choices);
    j["object"] = "chat.completion";
    j["usage"] = std::move(usage);
    j["created"] = meta.created;
    j["system_fingerprint"] = nullptr;
    j["model"] = meta.model;
    j["id"] = meta.id;
    return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

std::string CompatDoneFrame() { return "data: [DONE]\n\n"; }

std::vector<Frame> CompatStreamFrames(const ChatRequest& req, const Completion& c,
                                      const CompatMeta& meta) {
    std::vector<Frame> frames;
    auto chunk = [&](const std::string& choice, int tokens) {
        Frame f;
        f.tokens = tokens;
        f.data.reserve(choice.size() + 200);
        f.data = "data: {\"choices\":[";
        f.data += choice;
        f.data += "],\"object\":\"chat.completion.chunk\",\"usage\":null,";
        AppendTail(f.data, meta);
        frames.push_back(std::move(f));
    };
    auto tail = [](std::size_t index) {
        return ",\"finish_reason\":null,\"index\":" + std::to_string(index) + ",\"logprobs\":null}";
    };
    const std::size_t n = c.choices.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (c.thinking) {
            chunk("{\"delta\":{\"content\":null,\"role\":\"assistant\",\"reasoning_content\":\"\"},"
                  "\"index\":" + std::to_string(i) + ",\"logprobs\":null,\"finish_reason\":null}",
                  0);
        } else {
            chunk("{\"delta\":{\"content\":\"\",\"role\":\"assistant\"},\"index\":" +
                      std::to_string(i) + ",\"logprobs\":null,\"finish_reason\":null}",
                  0);
        }
    }
    // Steps: reasoning pieces, then content pieces, then tool-call pieces; choices interleaved.
    std::size_t steps = 0;
    for (const auto& p : c.choices) {
        steps = std::max(steps, p.reasoning.size() + p.content.size() +
                                    (p.tool_call ? p.tool_call->pieces.size() : 0));
    }
    for (std::size_t s = 0; s < steps; ++s) {
        for (std::size_t i = 0; i < n; ++i) {
            const auto& p = c.choices[i];
            std::string choice = "{\"delta\":{";
            std::size_t k = s;
            if (k < p.reasoning.size()) {
                choice += "\"content\":null,\"reasoning_content\":";
                AppendJsonString(choice, p.reasoning[k]);
            } else if ((k -= p.reasoning.size()) < p.content.size()) {
                choice += "\"content\":";
                AppendJsonString(choice, p.content[k]);
                if (c.thinking) choice += ",\"reasoning_content\":null";
            } else if (p.tool_call && (k -= p.content.size()) < p.tool_call->pieces.size()) {
                const auto& t = *p.tool_call;
                if (k == 0) {
                    choice += "\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":";
                    AppendJsonString(choice, t.id);
                    choice += ",\"type\":\"function\",\"function\":{\"name\":";
                    AppendJsonString(choice, t.name);
                    choice += ",\"arguments\":";
                } else {
                    choice += "\"tool_calls\":[{\"index\":0,\"id\":\"\",\"type\":\"function\","
                              "\"function\":{\"arguments\":";
                }
                AppendJsonString(choice, t.pieces[k]);
                choice += "}}]";
            } else {
                continue;
            }
            choice += "}";
            choice += tail(i);
            chunk(choice, 1);
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        chunk("{\"finish_reason\":" + JsonQuote(c.choices[i].finish_reason) +
                  ",\"delta\":{\"content\":\"\"},\"index\":" + std::to_string(i) +
                  ",\"logprobs\":null}",
              0);
    }
    if (req.include_usage) {
        int out = c.OutputTokens();
        Frame f;
        f.data = "data: {\"choices\":[],\"object\":\"chat.completion.chunk\",\"usage\":{"
                 "\"prompt_tokens\":" + std::to_string(c.input_tokens) +
                 ",\"completion_tokens\":" + std::to_string(out) +
                 ",\"total_tokens\":" + std::to_string(c.input_tokens + out);
        if (c.thinking) {
            f.data += ",\"completion_tokens_details\":{\"reasoning_tokens\":" +
                      std::to_string(c.ReasoningTokens()) + "}";
        }
        f.data += "},";
        AppendTail(f.data, meta);
        frames.push_back(std::move(f));
    }
    frames.push_back(Frame{CompatDoneFrame(), 0});
    return frames;
}

std::string CompatModelsBody(const std::vector<std::string>& names, std::int64_t created) {
    ojson data = ojson::array();
    for (const auto& n : names) {
        ojson m;
        m["id"] = n;
        m["object"] = "model";
        m["created"] = created;
        m["owned_by"] = "system";
        data.push_back(std::move(m));
    }
    ojson j;
    j["object"] = "list";
    j["data"] = std::move(data);
    return j.dump();
}

}  // namespace hub::sim
