#include "core/json_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

namespace hub::core {
namespace {

using nlohmann::json;
using namespace std::string_literals;

std::string Reference(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

TEST(JsonText, WritesWhatNlohmannWrites) {
    const std::vector<std::string> strings = {
        "",
        "plain ascii",
        "quote \" backslash \\ slash /",
        "controls \b\f\n\r\t \x01\x1f \x00 end"s,  // the NUL included
        "DEL \x7f stays",
        "UTF-8: é 中文 😀",
        "ill-formed: \x80 lone continuation",
        "ill-formed: \xc0\xaf overlong",
        "ill-formed: \xed\xa0\x80 surrogate",
        "ill-formed: \xf4\x90\x80\x80 past U+10FFFF",
        "truncated: \xe4\xb8",
        "\xff\xfe",
    };
    for (const auto& s : strings) {
        json j = s;
        EXPECT_EQ(DumpJson(j), Reference(j)) << s;
        json keyed = {{s, s}};
        EXPECT_EQ(DumpJson(keyed), Reference(keyed)) << s;
    }
    json mixed = {{"model", "qwen-plus"},
                  {"messages", json::array({{{"role", "user"}, {"content", "hi\n"}}})},
                  {"n", -42},
                  {"big", std::uint64_t{18446744073709551615ULL}},
                  {"min", std::int64_t{INT64_MIN}},
                  {"t", 0.7},
                  {"tiny", 1e-300},
                  {"nan", std::nan("")},
                  {"flags", {true, false, nullptr}},
                  {"empty", json::object()},
                  {"none", json::array()}};
    EXPECT_EQ(DumpJson(mixed), Reference(mixed));
    std::string appended = "data: ";
    AppendJson(appended, mixed);
    EXPECT_EQ(appended, "data: " + Reference(mixed));
}

// Strings are scanned eight bytes at a time: a byte to escape (or a multi-byte sequence) at
// every offset of a word, and across the boundary between two.
TEST(JsonText, ABytePastEveryOffsetOfAWordIsSeen) {
    for (const std::string special :
         {"\"", "\\", "\n", "\x1f", "\x7f", "é", "😀", "\x80", "\xc3"}) {
        for (std::size_t at = 0; at <= 24; ++at) {
            std::string s(24, 'a');
            s.insert(at, special);
            json j = s;
            ASSERT_EQ(DumpJson(j), Reference(j)) << at;
        }
    }
}

TEST(JsonText, EveryRecordedPayloadIsWrittenAsNlohmannWritesIt) {
    int checked = 0;
    for (const auto& entry : std::filesystem::directory_iterator(HUB_CONFORMANCE_DIR)) {
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        std::vector<std::string> documents;
        if (entry.path().extension() == ".json") {
            documents.push_back(text.str());
        } else if (entry.path().extension() == ".sse") {
            std::string line;
            while (std::getline(text, line)) {
                if (line.rfind("data:", 0) == 0) documents.push_back(line.substr(5));
            }
        }
        for (const auto& d : documents) {
            json j = json::parse(d, nullptr, false);
            if (j.is_discarded()) continue;  // "[DONE]"
            EXPECT_EQ(DumpJson(j), Reference(j)) << entry.path();
            ++checked;
        }
    }
    EXPECT_GT(checked, 50);
}

// Random trees of random strings: bytes that need escapes, UTF-8 of every length, and
// ill-formed pieces, against nlohmann's serializer.
TEST(JsonText, RandomTreesAreWrittenAsNlohmannWritesThem) {
    std::mt19937_64 rng(20261208);
    const std::vector<std::string> pieces = {
        "a", "Z", " ", "\"", "\\", "/", "\n", "\t", std::string(1, '\0'), "\x01", "\x1f", "\x7f",
        "é", "中", "😀", "\xef\xbf\xbd", "\x80", "\xbf", "\xc2", "\xe4\xb8", "\xed\xa0\x80",
        "\xf0\x9f", "\xf4\x90\x80\x80", "\xc0\x80", "\xff"};
    auto random_string = [&] {
        std::string s;
        for (int n = static_cast<int>(rng() % 12); n > 0; --n) s += pieces[rng() % pieces.size()];
        return s;
    };
    std::function<json(int)> tree = [&](int depth) -> json {
        switch (rng() % (depth > 3 ? 5 : 7)) {
            case 0: return random_string();
            case 1: return static_cast<std::int64_t>(rng());
            case 2: return rng();  // unsigned
            case 3:
                return static_cast<double>(static_cast<std::int64_t>(rng() % 2000000) - 1000000) /
                       997.0;
            case 4: return rng() % 3 == 0 ? json(nullptr) : json(rng() % 2 == 0);
            case 5: {
                json a = json::array();
                for (int n = static_cast<int>(rng() % 4); n > 0; --n) a.push_back(tree(depth + 1));
                return a;
            }
            default: {
                json o = json::object();
                for (int n = static_cast<int>(rng() % 4); n > 0; --n)
                    o[random_string()] = tree(depth + 1);
                return o;
            }
        }
    };
    for (int i = 0; i < 20000; ++i) {
        json j = tree(0);
        ASSERT_EQ(DumpJson(j), Reference(j)) << "tree " << i;
    }
}

}  // namespace
}  // namespace hub::core
