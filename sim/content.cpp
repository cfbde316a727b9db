#include "content.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "ids.hpp"
#include "json_text.hpp"

namespace hub::sim {
namespace {

const char* const kWords[] = {
    "the",      "model",    "answer",   "cloud",    "river",    "simple",   "data",
    "stream",   "quiet",    "bright",   "token",    "garden",   "signal",   "patient",
    "light",    "north",    "system",   "gentle",   "number",   "story",    "window",
    "careful",  "morning",  "green",    "bridge",   "clear",    "value",    "mountain",
    "steady",   "result",   "paper",    "question", "silver",   "common",   "little",
    "market",   "open",     "winter",   "reason",   "summer",   "useful",   "ocean",
    "early",    "method",   "forest",   "simple",   "harbor",   "future",   "yellow",
    "context",  "measure",  "travel",   "ancient",  "engine",   "balance",  "kindly",
    "orange",   "network",  "pattern",  "village",  "rapid",    "lantern",  "detail",
    "calm",     "library",  "sample",   "thunder",  "honest",   "circle",   "letter",
};
const char* const kCjkWords[] = {
    "我们", "模型", "回答", "问题", "数据", "云端", "河流", "简单", "清晰", "今天",
    "天气", "花园", "信号", "耐心", "光线", "北方", "系统", "温和", "数字", "故事",
    "窗户", "早晨", "绿色", "桥梁", "价值", "高山", "结果", "纸张", "银色", "市场",
    "冬天", "理由", "夏天", "海洋", "方法", "森林", "未来", "网络", "村庄", "灯笼",
};
constexpr std::size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);
constexpr std::size_t kCjkCount = sizeof(kCjkWords) / sizeof(kCjkWords[0]);

bool HasCjk(std::string_view s) {
    for (auto cp : Utf8CodePoints(s)) {
        if (cp.size() >= 3) return true;
    }
    return false;
}

std::string Capitalize(std::string w) {
    if (!w.empty()) w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
    return w;
}

// n pieces of words forming sentences; the last piece ends a sentence when n >= 2.
std::vector<std::string> Words(Rng& rng, int n, bool cjk) {
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(std::max(n, 0)));
    int in_sentence = 0;
    int sentence_len = 5 + static_cast<int>(rng.Below(8));
    for (int i = 0; i < n; ++i) {
        bool last = i == n - 1;
        bool can_end = last || (in_sentence >= sentence_len && i < n - 2);
        if (can_end && in_sentence > 0) {
            out.emplace_back(cjk ? "。" : ".");
            in_sentence = 0;
            sentence_len = 5 + static_cast<int>(rng.Below(8));
            continue;
        }
        if (cjk) {
            std::string w = kCjkWords[rng.Below(kCjkCount)];
            if (in_sentence > 0 && in_sentence % 4 == 0 && rng.Below(2) == 0) w = "，" + w;
            out.push_back(std::move(w));
        } else {
            std::string w = kWords[rng.Below(kWordCount)];
            if (in_sentence == 0) w = Capitalize(std::move(w));
            if (i > 0) w = " " + w;
            out.push_back(std::move(w));
        }
        ++in_sentence;
    }
    return out;
}

std::string Lower(std::string_view s) { return ToLower(s); }

std::string ExtractLocation(std::string_view text) {
    std::string lower = Lower(text);
    auto at = lower.find(" in ");
    if (at != std::string::npos) {
        std::size_t b = at + 4;
        std::size_t e = b;
        while (e < text.size()) {
            char c = text[e];
            if (c == '?' || c == '!' || c == ',' || c == '.' || c == ';' || c == '\n') break;
            ++e;
        }
        std::string loc(text.substr(b, e - b));
        while (!loc.empty() && loc.back() == ' ') loc.pop_back();
        for (const char* w : {"right now", "now", "today", "currently", "tomorrow"}) {
            std::string suffix = std::string(" ") + w;
            if (loc.size() > suffix.size() &&
                Lower(loc.substr(loc.size() - suffix.size())) == suffix)
                loc.resize(loc.size() - suffix.size());
        }
        if (!loc.empty()) return loc;
    }
    for (const char* marker : {"现在的天气", "今天的天气", "的天气", "天气"}) {
        auto p = text.find(marker);
        if (p != std::string_view::npos && p > 0) {
            std::string loc(text.substr(0, p));
            // keep the tail after the last punctuation/space
            for (const char* sep : {"，", "。", " ", "？", "：", "、"}) {
                auto q = loc.rfind(sep);
                if (q != std::string::npos) loc = loc.substr(q + std::string_view(sep).size());
            }
            for (const char* w : {"现在", "今天"}) {
                auto q = loc.find(w);
                if (q != std::string::npos) loc.resize(q);
            }
            if (!loc.empty()) return loc;
        }
    }
    return HasCjk(text) ? "杭州" : "Hangzhou";
}

nlohmann::json ValueFor(const std::string& prop, const nlohmann::json& schema, std::string_view text) {
    std::string type = schema.is_object() ? schema.value("type", std::string("string")) : "string";
    if (schema.is_object() && schema.contains("enum") && schema["enum"].is_array() &&
        !schema["enum"].empty())
        return schema["enum"][0];
    if (type == "integer") return 1;
    if (type == "number") return 1.5;
    if (type == "boolean") return true;
    if (type == "array") return nlohmann::json::array();
    if (type == "object") return nlohmann::json::object();
    std::string p = Lower(prop);
    if (p.find("location") != std::string::npos || p.find("city") != std::string::npos ||
        p.find("place") != std::string::npos || p.find("address") != std::string::npos)
        return ExtractLocation(text);
    if (p.find("unit") != std::string::npos) return "celsius";
    if (p.find("date") != std::string::npos) return "2025-01-01";
    return "sim";
}

// Arguments formatted like the recorded ones: {"location": "浙江省杭州市"}.
std::string BuildArguments(const ToolDef& tool, std::string_view text) {
    const auto& params = tool.parameters;
    std::vector<std::string> names;
    if (params.is_object() && params.contains("properties") && params["properties"].is_object()) {
        if (params.contains("required") && params["required"].is_array() &&
            !params["required"].empty()) {
            for (const auto& r : params["required"]) {
                if (r.is_string()) names.push_back(r.get<std::string>());
            }
        } else {
            for (const auto& [k, v] : params["properties"].items()) names.push_back(k);
        }
    }
    std::string out = "{";
    for (std::size_t i = 0; i < names.size(); ++i) {
        nlohmann::json schema;
        if (params["properties"].contains(names[i])) schema = params["properties"][names[i]];
        if (i) out += ", ";
        out += JsonQuote(names[i]) + ": " +
               ValueFor(names[i], schema, text).dump(-1, ' ', false,
                                                      nlohmann::json::error_handler_t::replace);
    }
    out += "}";
    return out;
}

// Streaming pieces of the arguments: split after every ": " and ", ".
std::vector<std::string> ArgumentPieces(const std::string& args) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        if ((args[i] == ':' || args[i] == ',') && args[i + 1] == ' ') {
            out.push_back(args.substr(start, i + 1 - start));
            start = i + 1;
        }
    }
    out.push_back(args.substr(start));
    return out;
}

const ToolDef* PickTool(const ChatRequest& req, std::string_view text) {
    if (req.tools.empty() || req.tool_choice == "none") return nullptr;
    if (!req.forced_tool.empty()) {
        for (const auto& t : req.tools) {
            if (t.name == req.forced_tool) return &t;
        }
        return &req.tools.front();
    }
    for (const auto& t : req.tools) {
        if (ContainsIgnoreCase(text, t.name)) return &t;
    }
    bool weather = ContainsIgnoreCase(text, "weather") || text.find("天气") != std::string_view::npos;
    if (weather) {
        for (const auto& t : req.tools) {
            if (ContainsIgnoreCase(t.name, "weather")) return &t;
        }
        return &req.tools.front();
    }
    if (req.tool_choice == "required") return &req.tools.front();
    return nullptr;
}

}  // namespace

int ChoicePlan::OutputTokens() const {
    return static_cast<int>(reasoning.size() + content.size() +
                            (tool_call ? tool_call->pieces.size() : 0));
}

std::string ChoicePlan::Text() const {
    std::string s;
    for (const auto& p : content) s += p;
    return s;
}

std::string ChoicePlan::ReasoningText() const {
    std::string s;
    for (const auto& p : reasoning) s += p;
    return s;
}

int Completion::OutputTokens() const {
    int n = 0;
    for (const auto& c : choices) n += c.OutputTokens();
    return n;
}

int Completion::ReasoningTokens() const {
    int n = 0;
    for (const auto& c : choices) n += c.ReasoningTokens();
    return n;
}

int CountTokens(std::string_view text) {
    int tokens = 0;
    int run = 0;
    auto flush = [&] {
        tokens += (run + 3) / 4;
        run = 0;
    };
    std::size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            if (std::isalnum(c)) {
                ++run;
            } else {
                flush();
                if (!std::isspace(c)) ++tokens;
            }
            ++i;
        } else {
            flush();
            ++tokens;
            i += std::min(Utf8SeqLen(c), text.size() - i);
        }
    }
    flush();
    return tokens;
}

int ImageTokens(const ChatRequest& req) {
    int n = 0;
    for (const auto& m : req.messages) n += m.images * kImageTokens;
    return n;
}

int InputTokens(const ChatRequest& req) {
    int n = 0;
    for (const auto& m : req.messages) {
        n += CountTokens(m.text) + 3 + m.images * kImageTokens + m.videos * kVideoTokens +
             m.audios * kAudioTokens;
    }
    if (!req.tools_text.empty()) n += CountTokens(req.tools_text);
    return n;
}

bool ThinkingEnabled(const ChatRequest& req, const ModelInfo& model) {
    switch (model.thinking) {
        case Thinking::kNever: return false;
        case Thinking::kAlways: return true;
        case Thinking::kOptional: return req.enable_thinking.value_or(model.thinking_default);
    }
    return false;
}

std::vector<std::string> SplitPieces(std::string_view text) {
    std::vector<std::string> out;
    std::string cur;
    bool cur_has_word = false;
    std::size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        std::size_t n = std::min(Utf8SeqLen(c), text.size() - i);
        std::string_view cp = text.substr(i, n);
        if (n > 1) {
            if (cur_has_word) {
                out.push_back(std::move(cur));
                cur.clear();
                cur_has_word = false;
            }
            cur += cp;
            out.push_back(std::move(cur));
            cur.clear();
        } else if (std::isspace(c)) {
            if (cur_has_word) {
                out.push_back(std::move(cur));
                cur.clear();
                cur_has_word = false;
            }
            cur += cp;
        } else {
            cur += cp;
            cur_has_word = true;
        }
        i += n;
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    return out;
}

Completion Generate(const ChatRequest& req, const ModelInfo& model, const GenOptions& opt) {
    Completion c;
    c.input_tokens = InputTokens(req);
    c.image_tokens = ImageTokens(req);
    c.thinking = ThinkingEnabled(req, model);
    const ChatMessage* last = req.Last();
    c.after_tool = last && last->role == "tool";
    const ChatMessage* user = req.LastUser();
    std::string user_text = user ? user->text : std::string{};
    bool cjk = HasCjk(user_text);

    std::uint64_t base = Hash64(model.base);
    base = Hash64(user_text, base);
    if (req.seed) base = Hash64(std::to_string(*req.seed), base);
    if (c.after_tool) base = Hash64(last->text, base);

    const ToolDef* tool = c.after_tool ? nullptr : PickTool(req, user_text);
    int choices = std::max(1, req.n);
    for (int ci = 0; ci < choices; ++ci) {
        Rng rng(base + static_cast<std::uint64_t>(ci) * 0x9E3779B97F4A7C15ULL);
        ChoicePlan p;
        if (c.thinking) {
            int r = opt.reasoning_tokens.value_or(6 + static_cast<int>(rng.Below(19)));
            if (req.thinking_budget) r = std::min(r, *req.thinking_budget);
            p.reasoning = Words(rng, r, cjk);
        }
        if (tool) {
            ToolCallPlan t;
            t.name = tool->name;
            t.arguments = BuildArguments(*tool, user_text);
            t.pieces = ArgumentPieces(t.arguments);
            t.id = ToolCallId(Hash64(t.arguments, base + static_cast<std::uint64_t>(ci)));
            p.tool_call = std::move(t);
            p.finish_reason = "tool_calls";
        } else if (c.after_tool) {
            p.content = SplitPieces("Based on the tool result: " + last->text);
        } else if (ContainsIgnoreCase(user_text, "echo")) {
            p.content = SplitPieces(user_text);
        } else {
            int n = opt.content_tokens.value_or(12 + static_cast<int>(rng.Below(37)));
            if (req.json_mode) {
                p.content.emplace_back("{\"answer\": \"");
                auto words = Words(rng, std::max(n - 2, 1), cjk);
                if (!words.empty() && !words.front().empty() && words.front()[0] == ' ')
                    words.front().erase(0, 1);
                p.content.insert(p.content.end(), words.begin(), words.end());
                p.content.emplace_back("\"}");
            } else {
                p.content = Words(rng, n, cjk);
            }
        }
        if (opt.force_multibyte && FirstSplitInsideChar(p.Text()) == std::string_view::npos) {
            if (p.content.empty()) {
                p.content.emplace_back("你好");
            } else {
                p.content.insert(p.content.begin() + (p.content.size() > 1 ? 1 : 0),
                                 std::string(" 你好"));
                if (p.content.size() > 2 && !req.json_mode) p.content.pop_back();
            }
        }
        if (req.max_tokens && !p.tool_call) {
            auto cap = static_cast<std::size_t>(*req.max_tokens);
            if (p.reasoning.size() + p.content.size() > cap) {
                if (p.reasoning.size() >= cap) {
                    p.reasoning.resize(cap);
                    p.content.clear();
                } else {
                    p.content.resize(cap - p.reasoning.size());
                }
                p.finish_reason = "length";
            }
        }
        c.choices.push_back(std::move(p));
    }
    return c;
}

}  // namespace hub::sim
