#include "bailian/sse_parser.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "unit/bailian/conformance.hpp"

namespace hub::bailian {
namespace {

using testing::ConformanceFiles;
using testing::ReadConformance;

std::vector<SseEvent> ParseChunks(const std::vector<std::string_view>& chunks) {
    SseParser p;
    std::vector<SseEvent> all;
    for (std::string_view c : chunks) {
        auto r = p.Feed(c);
        EXPECT_TRUE(r.ok());
        if (!r.ok()) return all;
        for (auto& e : r.value()) all.push_back(std::move(e));
    }
    for (auto& e : p.Finish()) all.push_back(std::move(e));
    return all;
}

std::vector<SseEvent> ParseWhole(std::string_view s) { return ParseChunks({s}); }

std::vector<SseEvent> ParseBytewise(std::string_view s) {
    std::vector<std::string_view> chunks;
    for (std::size_t i = 0; i < s.size(); ++i) chunks.push_back(s.substr(i, 1));
    return ParseChunks(chunks);
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
    std::string out;
    std::size_t pos = 0;
    for (std::size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
        out.append(s, pos, hit - pos);
        out.append(to);
    }
    out.append(s, pos);
    return out;
}

// Number of events a recording holds: every event in them has exactly one data line.
std::size_t DataLines(std::string_view s) {
    std::size_t n = 0;
    std::size_t pos = 0;
    while (pos < s.size()) {
        std::size_t end = s.find('\n', pos);
        if (end == std::string_view::npos) end = s.size();
        if (s.substr(pos, 5) == "data:") ++n;
        pos = end + 1;
    }
    return n;
}

// Offsets where an event starts: lines beginning with "id:" and lines after a blank line.
// The parser carries nothing from one event to the next, so parsing the text between two such
// offsets on its own gives the same events as the whole text does (checked below).
std::vector<std::size_t> EventStarts(std::string_view s) {
    std::vector<std::size_t> cuts{0};
    bool after_blank = false;
    std::size_t pos = 0;
    while (pos < s.size()) {
        std::size_t end = s.find_first_of("\r\n", pos);
        if (end == std::string_view::npos) end = s.size();
        const std::string_view line = s.substr(pos, end - pos);
        if (pos > 0 && (after_blank || line.substr(0, 3) == "id:")) cuts.push_back(pos);
        after_blank = line.empty();
        pos = end + (s.substr(end, 2) == "\r\n" ? 2 : 1);
    }
    cuts.push_back(s.size());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    return cuts;
}

// Splits `s` into two chunks at every offset and expects the unsplit result each time.
// Small streams are re-parsed whole for each offset. For big ones (the 137 KB app stream:
// n^2 would take minutes) each split is checked within the event around it, after checking
// that the events parsed one by one add up to the whole stream.
void ExpectEverySplitSame(const std::string& s, const std::string& label) {
    const std::string_view v(s);
    const auto want = ParseWhole(v);
    if (s.size() <= 16 * 1024) {
        for (std::size_t k = 0; k <= s.size(); ++k) {
            if (ParseChunks({v.substr(0, k), v.substr(k)}) != want) {
                ADD_FAILURE() << label << ": split at offset " << k << " differs";
                return;
            }
        }
        return;
    }
    const auto cuts = EventStarts(v);
    std::vector<SseEvent> joined;
    for (std::size_t j = 0; j + 1 < cuts.size(); ++j) {
        for (auto& e : ParseWhole(v.substr(cuts[j], cuts[j + 1] - cuts[j]))) {
            joined.push_back(std::move(e));
        }
    }
    ASSERT_EQ(joined, want) << label << ": event windows do not add up";
    for (std::size_t j = 0; j + 1 < cuts.size(); ++j) {
        const std::size_t begin = cuts[j];
        const std::string_view window = v.substr(begin, cuts[j + 1] - begin);
        const auto window_want = ParseWhole(window);
        for (std::size_t k = cuts[j]; k < cuts[j + 1]; ++k) {
            const std::size_t at = k - begin;
            if (ParseChunks({window.substr(0, at), window.substr(at)}) != window_want) {
                ADD_FAILURE() << label << ": split at offset " << k << " differs";
                return;
            }
        }
    }
}

TEST(SseParser, EveryConformanceStreamParses) {
    const auto files = ConformanceFiles(".sse");
    ASSERT_GE(files.size(), 8u);
    for (const auto& name : files) {
        SCOPED_TRACE(name);
        const std::string s = ReadConformance(name);
        ASSERT_FALSE(s.empty());
        const auto events = ParseWhole(s);
        EXPECT_EQ(events.size(), DataLines(s));
        const bool compat = name.rfind("compat_", 0) == 0;
        for (std::size_t i = 0; i < events.size(); ++i) {
            const SseEvent& e = events[i];
            EXPECT_FALSE(e.data.empty());
            if (compat) {
                EXPECT_EQ(e.id, "");
                EXPECT_EQ(e.event, "");
                EXPECT_FALSE(e.http_status.has_value());
            } else {
                EXPECT_EQ(e.id, std::to_string(i + 1));  // native ids count from 1
                EXPECT_TRUE(e.event == "result" || e.event == "error");
                ASSERT_TRUE(e.http_status.has_value());
                EXPECT_EQ(*e.http_status, e.event == "error" ? 400 : 200);
                EXPECT_EQ(e.data.front(), '{');
                EXPECT_EQ(e.data.back(), '}');
            }
        }
    }
}

TEST(SseParser, EveryConformanceStreamSplitAtEveryOffset) {
    for (const auto& name : ConformanceFiles(".sse")) {
        SCOPED_TRACE(name);
        ExpectEverySplitSame(ReadConformance(name), name);
    }
}

TEST(SseParser, EveryConformanceStreamInOneByteChunks) {
    for (const auto& name : ConformanceFiles(".sse")) {
        SCOPED_TRACE(name);
        const std::string s = ReadConformance(name);
        EXPECT_EQ(ParseBytewise(s), ParseWhole(s));
    }
}

TEST(SseParser, CrlfAndLoneCrGiveTheSameEvents) {
    for (const auto& name : ConformanceFiles(".sse")) {
        SCOPED_TRACE(name);
        const std::string lf = ReadConformance(name);
        const std::string crlf = Replace(lf, "\n", "\r\n");
        const std::string cr = Replace(lf, "\n", "\r");
        const auto want = ParseWhole(lf);
        EXPECT_EQ(ParseWhole(crlf), want);
        EXPECT_EQ(ParseWhole(cr), want);
        EXPECT_EQ(ParseBytewise(crlf), want);
        EXPECT_EQ(ParseBytewise(cr), want);
        ExpectEverySplitSame(crlf, name + " (CRLF)");  // includes every split between CR and LF
    }
}

TEST(SseParser, RandomChunkingOfConformanceStreams) {
    std::mt19937 rng(12345);
    for (const auto& name : ConformanceFiles(".sse")) {
        SCOPED_TRACE(name);
        const std::string s = Replace(ReadConformance(name), "\n", "\r\n");
        const auto want = ParseWhole(s);
        for (int round = 0; round < 20; ++round) {
            std::vector<std::string_view> chunks;
            std::string_view rest(s);
            while (!rest.empty()) {
                std::size_t n = std::uniform_int_distribution<std::size_t>(1, 64)(rng);
                n = std::min(n, rest.size());
                chunks.push_back(rest.substr(0, n));
                rest.remove_prefix(n);
            }
            ASSERT_EQ(ParseChunks(chunks), want) << "round " << round;
        }
    }
}

TEST(SseParser, NativeEventFields) {
    const auto events = ParseWhole(ReadConformance("native_stream_error_event.sse"));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].id, "1");
    EXPECT_EQ(events[0].event, "error");
    EXPECT_EQ(events[0].http_status, 400);
    EXPECT_EQ(events[0].data.rfind("{\"code\":\"InvalidParameter\"", 0), 0u);
}

TEST(SseParser, NoBlankLinesBetweenEventsInRecording) {
    // native_message_stream_ok.sse has no blank lines: each id: line starts a new event.
    const std::string s = ReadConformance("native_message_stream_ok.sse");
    ASSERT_EQ(s.find("\n\n"), std::string::npos);
    const auto events = ParseWhole(s);
    ASSERT_EQ(events.size(), 10u);
    for (std::size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(events[i].id, std::to_string(i + 1));
        EXPECT_EQ(events[i].data.find('\n'), std::string::npos);
    }
}

TEST(SseParser, Utf8CharacterSplitAcrossChunks) {
    const std::string s = "data:\xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x8A\n\n";  // 你好 😊
    const auto want = ParseWhole(s);
    ASSERT_EQ(want.size(), 1u);
    EXPECT_EQ(want[0].data, "\xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x8A");
    for (std::size_t k = 6; k <= 14; ++k) {  // offsets inside both multibyte sequences
        std::string_view v(s);
        EXPECT_EQ(ParseChunks({v.substr(0, k), v.substr(k)}), want) << k;
    }
    EXPECT_EQ(ParseBytewise(s), want);
}

TEST(SseParser, OptionalSpaceAfterColon) {
    auto a = ParseWhole("id: 7\nevent: result\ndata: {\"a\":1}\n\n");
    auto b = ParseWhole("id:7\nevent:result\ndata:{\"a\":1}\n\n");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a[0].id, "7");
    EXPECT_EQ(a[0].data, "{\"a\":1}");
    // Only one space is stripped.
    auto c = ParseWhole("data:  x\n\n");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].data, " x");
}

TEST(SseParser, MultiLineDataIsJoinedWithNewlines) {
    auto ev = ParseWhole("data: first\ndata:\ndata: third\n\n");
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].data, "first\n\nthird");
}

TEST(SseParser, CommentsAreIgnoredButStatusIsSurfaced) {
    auto ev = ParseWhole(": keep-alive\n:HTTP_STATUS/429\ndata: x\n\n: another\n\n");
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].http_status, 429);
    EXPECT_EQ(ev[0].data, "x");
    // With a space after the colon, and the Python SDK's `status:` field.
    auto b = ParseWhole(": HTTP_STATUS/503\ndata:y\n\nstatus: 401\ndata:z\n\n");
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[0].http_status, 503);
    EXPECT_EQ(b[1].http_status, 401);
    // Garbage after HTTP_STATUS/ is not a status.
    auto c = ParseWhole(":HTTP_STATUS/abc\ndata:y\n\n:HTTP_STATUS/99\ndata:y\n\n");
    ASSERT_EQ(c.size(), 2u);
    EXPECT_FALSE(c[0].http_status.has_value());
    EXPECT_FALSE(c[1].http_status.has_value());
}

TEST(SseParser, StatusBelongsToItsOwnEvent) {
    auto ev = ParseWhole("id:1\n:HTTP_STATUS/200\ndata:a\nid:2\ndata:b\n\n");
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].http_status, 200);
    EXPECT_FALSE(ev[1].http_status.has_value());
}

TEST(SseParser, NewIdStartsNewEventWithoutBlankLine) {
    auto ev = ParseWhole("id:1\nevent:result\ndata:a\nid:2\nevent:result\ndata:b\n");
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].id, "1");
    EXPECT_EQ(ev[0].data, "a");
    EXPECT_EQ(ev[1].id, "2");
    EXPECT_EQ(ev[1].data, "b");
    // An id before any data does not split.
    auto one = ParseWhole("event:result\nid:1\ndata:a\n\n");
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0].event, "result");
}

TEST(SseParser, EventTypeAndIdAreReset) {
    auto ev = ParseWhole("event:error\nid:9\ndata:a\n\ndata:b\n\n");
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].event, "error");
    EXPECT_EQ(ev[1].event, "");
    EXPECT_EQ(ev[1].id, "");
}

TEST(SseParser, DoneSentinelIsJustData) {
    auto ev = ParseWhole("data: {\"x\":1}\n\ndata: [DONE]\n\n");
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[1].data, "[DONE]");
}

TEST(SseParser, BlankLinesAndFieldsWithoutDataProduceNothing) {
    EXPECT_TRUE(ParseWhole("\n\n\r\n\r\r").empty());
    EXPECT_TRUE(ParseWhole("event:x\nid:3\n\n").empty());
    EXPECT_TRUE(ParseWhole(": only a comment\n\n").empty());
    EXPECT_TRUE(ParseWhole("").empty());
}

TEST(SseParser, FieldWithoutColonAndUnknownFieldsAreHandled) {
    auto ev = ParseWhole("data\n\nretry: 3000\nfoo: bar\ndata:x\n\n");
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].data, "");  // "data" alone is a data line with an empty value
    EXPECT_EQ(ev[1].data, "x");
    // The value may itself contain colons.
    auto v = ParseWhole("data: a:b: c\n\n");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].data, "a:b: c");
}

TEST(SseParser, ByteOrderMarkIsStrippedOnlyAtTheStart) {
    auto ev = ParseWhole(
        "\xEF\xBB\xBF"
        "data:x\n\ndata:\xEF\xBB\xBFy\n\n");
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].data, "x");
    EXPECT_EQ(ev[1].data, "\xEF\xBB\xBFy");
    EXPECT_EQ(ParseBytewise("\xEF\xBB\xBF"
                            "data:x\n\n"),
              ParseWhole("data:x\n\n"));
}

TEST(SseParser, FinishDispatchesTrailingEventAndUnterminatedLine) {
    SseParser p;
    auto r = p.Feed("data:a\n\ndata:b");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r.value().size(), 1u);
    EXPECT_GT(p.buffered_bytes(), 0u);
    auto rest = p.Finish();
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(rest[0].data, "b");
    EXPECT_EQ(p.buffered_bytes(), 0u);
    EXPECT_TRUE(p.Finish().empty());
}

TEST(SseParser, CrAtChunkEndThenLfInNextChunk) {
    SseParser p;
    auto a = p.Feed("data:a\r");
    ASSERT_TRUE(a.ok());
    EXPECT_TRUE(a.value().empty());
    auto b = p.Feed("\n\r");
    ASSERT_TRUE(b.ok());
    ASSERT_EQ(b.value().size(), 1u);  // CR LF ended the line, the lone CR the event
    EXPECT_EQ(b.value()[0].data, "a");
    auto c = p.Feed("\ndata:b\r\n\r\n");  // this LF belongs to the previous CR
    ASSERT_TRUE(c.ok());
    ASSERT_EQ(c.value().size(), 1u);
    EXPECT_EQ(c.value()[0].data, "b");
}

TEST(SseParser, CrLfSplitAcrossChunksIsOneLineEnd) {
    // If the LF after a chunk-final CR were taken as a blank line, "a" and "b" would be
    // two events.
    auto ev = ParseChunks({"data:a\r", "\ndata:b\r", "\n\r", "\n"});
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].data, "a\nb");
}

TEST(SseParser, MixedLineEndings) {
    auto ev = ParseWhole("id:1\r\nevent:result\rdata:a\n\r\nid:2\ndata:b\r\r");
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].id, "1");
    EXPECT_EQ(ev[0].event, "result");
    EXPECT_EQ(ev[0].data, "a");
    EXPECT_EQ(ev[1].data, "b");
}

TEST(SseParser, OverlongLineOrEventIsAnError) {
    SseParser p(SseParserLimits{64});
    auto r = p.Feed("data:" + std::string(100, 'x'));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, core::ErrorCode::kUpstream);
    EXPECT_FALSE(p.Feed("data:x\n\n").ok());  // stays failed

    SseParser q(SseParserLimits{64});
    bool failed = false;
    for (int i = 0; i < 20 && !failed; ++i) failed = !q.Feed("data:0123456789\n").ok();
    EXPECT_TRUE(failed);  // many short data lines of one event also count

    SseParser ok(SseParserLimits{64});
    for (int i = 0; i < 100; ++i) {
        auto e = ok.Feed("data:0123456789\n\n");  // many small events are fine
        ASSERT_TRUE(e.ok());
        ASSERT_EQ(e.value().size(), 1u);
    }
}

TEST(SseParser, ChunksInsideLinePieceTogether) {
    auto ev = ParseChunks({"da", "ta", ":", " {\"x\"", ":1}", "\n", "\n"});
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].data, "{\"x\":1}");
}

}  // namespace
}  // namespace hub::bailian
