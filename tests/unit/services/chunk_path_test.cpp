// The cheap chunk path against its reference: the scanner of compatible chunks
// (StreamOptions::dom_reference = false) against the JSON DOM decoder, and the concatenated
// OpenAI chunk frames (ChunkRenderer) against frames built as a DOM and dumped. Both must give
// the same events and the same bytes on every recorded stream and on the edge cases below.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <variant>
#include <vector>

#include "bailian/stream_events.hpp"
#include "core/json_text.hpp"
#include "services/openai_compat.hpp"
#include "unit/bailian/conformance.hpp"

namespace hub::services {
namespace {

using bailian::ApiStyle;
using bailian::StreamEvent;
using bailian::StreamOptions;
using bailian::StreamReader;

struct Decoded {
    std::vector<StreamEvent> events;
    std::string request_id;
    std::size_t scanned = 0;
};

Decoded Decode(std::string_view body, StreamOptions options, std::size_t chunk) {
    StreamReader reader(std::move(options));
    Decoded d;
    d.events = bailian::testing::FeedAll(reader, body, chunk);
    d.request_id = reader.decoder().request_id();
    d.scanned = reader.decoder().scanned();
    return d;
}

// Everything a /v1/chat/completions stream sends for these events, as the route does it.
std::string Render(const std::vector<StreamEvent>& events, bool include_usage, bool dom) {
    ChunkRenderer r("chatcmpl-\"id\"", "qwen-plus\n", 1726132850, include_usage, dom);
    std::string out;
    bailian::Usage usage;
    std::string finish;
    std::optional<bailian::UpstreamError> error;
    for (const auto& e : events) {
        out += r.OnEvent(e);
        if (const auto* u = std::get_if<bailian::Usage>(&e)) usage = *u;
        if (const auto* f = std::get_if<bailian::Finish>(&e)) finish = f->reason;
        if (const auto* x = std::get_if<bailian::UpstreamError>(&e)) error = *x;
    }
    if (error) {
        out += r.Fail(core::Error::Make(core::ErrorCode::kUpstream, error->code, error->message),
                      502);
    } else {
        out += r.Finish(usage, finish);
    }
    return out;
}

// Decodes `body` both ways in three chunkings and renders the events both ways; returns the
// scan's result. Fails the test on any difference.
Decoded ExpectSame(const std::string& body, ApiStyle style, const std::string& what) {
    Decoded fast;
    for (std::size_t chunk : {0, 1, 7}) {
        StreamOptions o;
        o.style = style;
        o.request_id = "req-header";
        StreamOptions ref = o;
        ref.dom_reference = true;
        Decoded a = Decode(body, o, chunk);
        Decoded b = Decode(body, ref, chunk);
        EXPECT_EQ(a.events, b.events) << what << " (chunk " << chunk << ")";
        EXPECT_EQ(a.request_id, b.request_id) << what;
        EXPECT_EQ(b.scanned, 0u) << what;
        for (bool include_usage : {false, true}) {
            EXPECT_EQ(Render(a.events, include_usage, false), Render(b.events, include_usage, true))
                << what << " (include_usage " << include_usage << ")";
        }
        if (chunk == 0) fast = std::move(a);
    }
    return fast;
}

TEST(ChunkPath, EveryRecordedStreamGivesTheSameEventsAndBytes) {
    const auto files = bailian::testing::ConformanceFiles(".sse");
    ASSERT_GE(files.size(), 8u);
    for (const auto& name : files) {
        const std::string body = bailian::testing::ReadConformance(name);
        ExpectSame(body, ApiStyle::kCompatible, name + " as compatible");
        ExpectSame(body, ApiStyle::kNative, name + " as native");
    }
}

TEST(ChunkPath, TheRecordedCompatibleStreamIsScannedNotParsed) {
    const std::string body = bailian::testing::ReadConformance("compat_stream_include_usage.sse");
    Decoded d = ExpectSame(body, ApiStyle::kCompatible, "compat_stream_include_usage.sse");
    // Every content chunk goes through the scan; only the usage chunk needs the DOM.
    std::size_t chunks = 0;
    for (std::size_t at = 0; (at = body.find("data: {", at)) != std::string::npos; ++at) ++chunks;
    EXPECT_EQ(d.scanned, chunks - 1);
}

std::string Sse(const std::vector<std::string>& datas, bool done = true) {
    std::string out;
    for (const auto& d : datas) out += "data: " + d + "\n\n";
    if (done) out += "data: [DONE]\n\n";
    return out;
}

TEST(ChunkPath, EdgeCasesAgreeWithTheDom) {
    const std::string usual = R"({"choices":[{"delta":{"content":"hi"},"index":0}]})";
    const std::vector<std::pair<std::string, std::size_t>> cases = {
        // The usual shapes (scanned).
        {usual, 1},
        {R"({"choices":[{"delta":{"content":"\u4f60\u597d \"q\" \\ \/ \b\f\n\r\t \u0001\u001f\u007f é 😀"},"index":0,"finish_reason":null}],"id":"x","request_id":"rid-1"})", 1},
        {R"({"choices":[{"delta":{"reasoning_content":"think","content":null},"index":0}]})", 1},
        {R"({"choices":[{"finish_reason":"length","delta":{},"index":0}],"usage":null})", 1},
        {R"({"choices":[{"finish_reason":"null","delta":{"content":"a"}}]})", 1},
        {R"({"choices":[{"finish_reason":"","delta":null,"index":0,"logprobs":{"content":[1,{"a":[]}]}}]})", 1},
        {R"({"choices":[{"finish_reason":5,"delta":{"content":"a","tool_calls":null,"role":"assistant"},"index":"x"}]})", 1},
        {R"({"choices":[{"delta":{"content":"a"},"index":1}]})", 1},
        {R"({"choices":[{"delta":{"content":"a"},"index":[0]}]})", 1},
        {R"({"choices":[],"usage":null,"request_id":null})", 1},
        {R"({"choices":null})", 1},
        {R"({"other":{"choices":[1,2],"error":{"code":"x"},"usage":{"prompt_tokens":3}}})", 1},
        {R"({"choices":[{"delta":{"content":"a"},"index":0,"finish_reason":"stop"}]})", 1},
        // The scanner's own lexing: whitespace, escaped keys, \u pairs, UTF-8, numbers, nesting.
        {"{ \"choices\" :\t [ {\t\"delta\" : { \"content\" : \"a\" } , \"index\" : 0 } ] }", 1},
        {R"({"cho\u0069ces":[{"delta":{"cont\u0065nt":"k\ud83d\ude00\u0000"},"index":-0}],"":1})", 1},
        {"{\"choices\":[{\"delta\":{\"content\":\"\x7f \xf0\x9f\x98\x80 \xe4\xbd\xa0\"},\"index\":0}]}", 1},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"x":{"a":"]}\"","b":[{"c":[]},"d",-1,true,false,null,{}]}})", 1},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"created":123456789012345678})", 1},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"x":)" + std::string(60, '[') + std::string(60, ']') + "}", 1},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"x":)" + std::string(70, '[') + std::string(70, ']') + "}", 0},
        {R"({"choices":[{"delta":{"content":"\udc00"},"index":0}]})", 0},
        {R"({"choices":[{"delta":{"content":"\ud800\u0041"},"index":0}]})", 0},
        {R"({"choices":[{"delta":{"content":"\u12G4"},"index":0}]})", 0},
        {R"({"choices":[{"delta":{"content":"\x"},"index":0}]})", 0},
        {"{\"choices\":[{\"delta\":{\"content\":\"a\x01 b\"},\"index\":0}]}", 0},
        {"{\"choices\":[{\"delta\":{\"content\":\"\xc0\xaf\"},\"index\":0}]}", 0},
        {"{\"choices\":[{\"delta\":{\"content\":\"\xed\xa0\x80\"},\"index\":0}]}", 0},
        {"{\"choices\":[{\"delta\":{\"content\":\"\xf4\x90\x80\x80\"},\"index\":0}]}", 0},
        {"{\"choices\":[{\"delta\":{\"content\":\"\xe4\xb8\"},\"index\":0}]}", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"created":01})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"created":1.5})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"created":2E3})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"created":-})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":12345678901234567890}]})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"x":tru})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"x":nulll})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0},]})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"x":[1,]})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"x" 1})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"x":{"a" 1}})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"x":"open)", 0},
        // The DOM's (the scan gives up).
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"usage":{"prompt_tokens":3,"completion_tokens":4}})", 0},
        {R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{}"}}]},"index":0}]})", 0},
        {R"({"choices":[{"delta":{"content":[{"type":"text","text":"a"},{"text":"b"}]},"index":0}]})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":1},{"delta":{"content":"b"},"index":0}]})", 0},
        {R"({"choices":[{"message":{"content":"a"},"index":0}]})", 0},
        {R"({"choices":[{"delta":{"content":"a","content":"b"},"index":0}]})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0.0}]})", 0},
        {R"({"choices":[{"delta":{"reasoning_content":7},"index":0}]})", 0},
        {R"({"choices":[5]})", 0},
        {R"({"choices":"x"})", 0},
        {R"({"error":{"code":"data_inspection_failed","message":"bad"},"request_id":"r"})", 0},
        {R"({"error":null,"code":"Throttling","message":"slow"})", 0},
        {R"({"request_id":17,"choices":[]})", 0},
        {R"([{"choices":[]}])", 0},
        {R"("text")", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}]} x)", 0},
        {R"({"choices":[{"delta":{"content":"a\ud800"},"index":0}]})", 0},
        {"{\"choices\":[{\"delta\":{\"content\":\"\xff\"},\"index\":0}]}", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0}],"n":1e999})", 0},
        {R"({"choices":[{"delta":{"content":"a"},"index":0})", 0},
    };
    for (const auto& [data, scanned] : cases) {
        Decoded d = ExpectSame(Sse({usual, data}), ApiStyle::kCompatible, data);
        // The first chunk is always scanned; the second when the scan can read it.
        EXPECT_EQ(d.scanned, 1 + scanned) << data;
    }
    // An `event: error` frame goes to the DOM whatever its data.
    std::string body = "event: error\ndata: " + usual + "\n\n";
    Decoded e = ExpectSame(body, ApiStyle::kCompatible, body);
    EXPECT_EQ(e.scanned, 0u);
    EXPECT_TRUE(std::holds_alternative<bailian::UpstreamError>(e.events.back()));
}

TEST(ChunkPath, FramesAreWhatTheDomWrites) {
    // Text nlohmann would escape or replace, model names and ids that need escaping.
    const std::vector<std::string> texts = {"",
                                            "plain",
                                            "\"\\/\b\f\n\r\t",
                                            std::string("\0\x01\x1f\x7f", 4),
                                            "中文 😀",
                                            "bad \xff utf-8 \xe4\xb8",
                                            "\xed\xa0\x80",
                                            "\xc0\xaf",
                                            "\xf4\x90\x80\x80",
                                            "end\xe4"};
    for (const auto& t : texts) {
        for (bool include_usage : {false, true}) {
            ChunkRenderer fast(t, t, -3, include_usage, false);
            ChunkRenderer dom(t, t, -3, include_usage, true);
            for (const StreamEvent& e :
                 {StreamEvent{bailian::ReasoningDelta{t}}, StreamEvent{bailian::ContentDelta{t}},
                  StreamEvent{bailian::Finish{t}}}) {
                EXPECT_EQ(fast.OnEvent(e), dom.OnEvent(e)) << t;
            }
            bailian::Usage u{3, 4, 7, 1, 2, 0};
            EXPECT_EQ(fast.Finish(u, t), dom.Finish(u, t)) << t;
            std::string s;
            core::AppendJsonString(s, t);
            EXPECT_EQ(s, nlohmann::json(t).dump(-1, ' ', false,
                                                nlohmann::json::error_handler_t::replace));
        }
    }
}

// The fuzz target's check (fuzz/stream_events.cpp) in the unit suite, on a fixed seed: the
// recorded compatible stream with bytes flipped, dropped, doubled and JSON tokens spliced in.
TEST(ChunkPath, MutatedRecordingsAgreeWithTheDom) {
    const std::string body = bailian::testing::ReadConformance("compat_stream_include_usage.sse");
    const char* const tokens[] = {"\"", "\\", "{", "}", "[", "]", ",", ":", "null", "0", "1",
                                  "-1", "1e999", "\"index\":", "\"delta\":", "\"content\":",
                                  "\"usage\":{}", "\"error\":", "\\u00e9", "\\ud800", "\xe4\xb8",
                                  "\n\n", "data: ", "[DONE]", "\"choices\":[]"};
    std::mt19937 rng(20261206);
    std::size_t scanned = 0;
    for (int round = 0; round < 1500; ++round) {
        std::string m = body;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = rng() % m.size();
            switch (rng() % 4) {
                case 0: m[at] = static_cast<char>(rng() % 256); break;
                case 1: m.erase(at, 1 + rng() % 8); break;
                case 2: m.insert(at, m.substr(at, 1 + rng() % 16)); break;
                default: m.insert(at, tokens[rng() % std::size(tokens)]); break;
            }
            if (m.empty()) m = "x";
        }
        scanned += ExpectSame(m, ApiStyle::kCompatible, "round " + std::to_string(round)).scanned;
        if (::testing::Test::HasFailure()) break;
    }
    EXPECT_GT(scanned, 1500u);  // the mutations still leave most chunks to the scan
}

}  // namespace
}  // namespace hub::services
