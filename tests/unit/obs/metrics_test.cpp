#include "obs/metrics.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace hub::obs {
namespace {

// Every non-comment line of the exposition: `name{labels} value`, or `name value`.
bool IsValidExposition(const std::string& text, std::string* bad) {
    static const std::regex kSample(
        R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\\\|\\"|\\n)*",?)*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$)");
    static const std::regex kComment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!std::regex_match(line, line[0] == '#' ? kComment : kSample)) {
            *bad = line;
            return false;
        }
    }
    return true;
}

TEST(Metrics, CounterFamilyRendersHelpTypeAndSortedSeries) {
    Registry r;
    auto& f = r.AddCounter("hub_requests_total", "Requests.", {"route", "status"});
    f.With({"/b", "200"}).Inc();
    f.With({"/a", "500"}).Inc(2);
    f.With({"/b", "200"}).Inc(3);
    f.With({"/b", "200"}).Inc(-5);  // counters never go down
    auto text = r.Render();
    EXPECT_NE(text.find("# HELP hub_requests_total Requests.\n# TYPE hub_requests_total counter\n"
                        "hub_requests_total{route=\"/a\",status=\"500\"} 2\n"
                        "hub_requests_total{route=\"/b\",status=\"200\"} 4\n"),
              std::string::npos)
        << text;
    std::string bad;
    EXPECT_TRUE(IsValidExposition(text, &bad)) << bad;
}

// Series are looked up by hash; the exposition still lists them in label order, histograms
// included, however they were created.
TEST(Metrics, SeriesRenderInLabelOrderWhateverTheirCreationOrder) {
    Registry r;
    auto& c = r.AddCounter("hub_c_total", "C.", {"route"});
    auto& h = r.AddHistogram("hub_h_seconds", "H.", {"route"}, {1});
    std::vector<std::string> routes;
    for (int i = 0; i < 40; ++i) routes.push_back("/r" + std::to_string((i * 17) % 40));
    for (const auto& route : routes) {
        c.With({route}).Inc();
        h.With({route}).Observe(0.5);
    }
    std::sort(routes.begin(), routes.end());
    const auto text = r.Render();
    std::size_t at_c = 0, at_h = 0;
    for (const auto& route : routes) {
        auto next_c = text.find("hub_c_total{route=\"" + route + "\"} 1\n");
        auto next_h = text.find("hub_h_seconds_count{route=\"" + route + "\"} 1\n");
        ASSERT_NE(next_c, std::string::npos) << route;
        ASSERT_NE(next_h, std::string::npos) << route;
        EXPECT_GT(next_c, at_c) << route;
        EXPECT_GT(next_h, at_h) << route;
        at_c = next_c;
        at_h = next_h;
    }
    std::string bad;
    EXPECT_TRUE(IsValidExposition(text, &bad)) << bad;
}

TEST(Metrics, GaugeGoesUpAndDown) {
    Registry r;
    auto& g = r.AddGauge("hub_streams", "Open streams.").With({});
    g.Add(3);
    g.Sub(1);
    EXPECT_EQ(g.Value(), 2);
    g.Set(7.5);
    EXPECT_NE(r.Render().find("\nhub_streams 7.5\n"), std::string::npos);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithLeSemantics) {
    Registry r;
    auto& h = r.AddHistogram("hub_latency_seconds", "Latency.", {"route"}, {0.1, 0.5, 1})
                  .With({"/x"});
    h.Observe(0.1);   // le="0.1" includes its bound
    h.Observe(0.3);
    h.Observe(0.5);
    h.Observe(7);     // only +Inf
    auto snap = h.Read();
    EXPECT_EQ(snap.cumulative, (std::vector<std::uint64_t>{1, 3, 3, 4}));
    EXPECT_EQ(snap.count, 4u);
    EXPECT_DOUBLE_EQ(snap.sum, 7.9);
    auto text = r.Render();
    EXPECT_NE(text.find("# TYPE hub_latency_seconds histogram\n"
                        "hub_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"
                        "hub_latency_seconds_bucket{route=\"/x\",le=\"0.5\"} 3\n"
                        "hub_latency_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
                        "hub_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
                        "hub_latency_seconds_sum{route=\"/x\"} 7.9\n"
                        "hub_latency_seconds_count{route=\"/x\"} 4\n"),
              std::string::npos)
        << text;
}

TEST(Metrics, UnlabelledHistogramHasOnlyLe) {
    Registry r;
    r.AddHistogram("hub_db_seconds", "DB.", {}, {1}).With({}).Observe(2);
    auto text = r.Render();
    EXPECT_NE(text.find("hub_db_seconds_bucket{le=\"1\"} 0\nhub_db_seconds_bucket{le=\"+Inf\"} 1\n"
                        "hub_db_seconds_sum 2\nhub_db_seconds_count 1\n"),
              std::string::npos)
        << text;
}

TEST(Metrics, LabelValuesAreEscaped) {
    Registry r;
    r.AddCounter("hub_x_total", "X.", {"name"}).With({"a\"b\\c\nd"}).Inc();
    auto text = r.Render();
    EXPECT_NE(text.find(R"(hub_x_total{name="a\"b\\c\nd"} 1)"), std::string::npos) << text;
    std::string bad;
    EXPECT_TRUE(IsValidExposition(text, &bad)) << bad;
}

TEST(Metrics, HelpIsEscaped) {
    Registry r;
    r.AddGauge("hub_g", "line one\nline \\two");
    EXPECT_NE(r.Render().find("# HELP hub_g line one\\nline \\\\two\n"), std::string::npos);
}

TEST(Metrics, FullFamilyFoldsNewLabelSetsIntoOther) {
    Registry r;
    auto& f = r.AddCounter("hub_by_model_total", "By model.", {"model", "kind"}, 2);
    f.With({"a", "in"}).Inc();
    f.With({"b", "in"}).Inc();
    for (int i = 0; i < 1000; ++i) f.With({"attacker-" + std::to_string(i), "in"}).Inc();
    f.With({"a", "in"}).Inc();  // existing series still count
    auto text = r.Render();
    EXPECT_NE(text.find("hub_by_model_total{model=\"_other\",kind=\"_other\"} 1000\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("hub_by_model_total{model=\"a\",kind=\"in\"} 2\n"), std::string::npos);
    EXPECT_EQ(text.find("attacker"), std::string::npos);
    EXPECT_EQ(r.overflowed(), 1000u);
    EXPECT_NE(text.find("bailian_hub_metrics_series_overflow_total 1000\n"), std::string::npos);
}

TEST(Metrics, BadNamesAndLabelCountsAreProgrammingErrors) {
    Registry r;
    EXPECT_THROW(r.AddCounter("9bad", "x"), std::invalid_argument);
    EXPECT_THROW(r.AddCounter("ok_total", "x", {"bad-label"}), std::invalid_argument);
    EXPECT_THROW(r.AddHistogram("h", "x", {"le"}, {1}), std::invalid_argument);
    EXPECT_THROW(r.AddHistogram("h2", "x", {}, {2, 1}), std::invalid_argument);
    r.AddCounter("dup_total", "x");
    EXPECT_THROW(r.AddGauge("dup_total", "x"), std::invalid_argument);
    auto& f = r.AddCounter("two_total", "x", {"a", "b"});
    EXPECT_THROW(f.With({"only-one"}), std::invalid_argument);
}

TEST(Metrics, CollectorsWriteAfterFamilies) {
    Registry r;
    r.AddCounter("hub_first_total", "F.").With({}).Inc();
    int depth = 5;
    r.AddCollector([&depth](Exposition& out) {
        out.Header("hub_queue_depth", "Depth.", MetricType::kGauge);
        out.Sample("hub_queue_depth", {{"pool", "db"}}, depth);
    });
    depth = 9;
    auto text = r.Render();
    auto first = text.find("hub_first_total 1");
    auto queue = text.find("hub_queue_depth{pool=\"db\"} 9\n");
    ASSERT_NE(first, std::string::npos);
    ASSERT_NE(queue, std::string::npos);
    EXPECT_LT(first, queue);
}

TEST(Metrics, NumbersAreFormattedForPrometheus) {
    EXPECT_EQ(Exposition::FormatNumber(3), "3");
    EXPECT_EQ(Exposition::FormatNumber(-2), "-2");
    EXPECT_EQ(Exposition::FormatNumber(0.25), "0.25");
    EXPECT_EQ(Exposition::FormatNumber(0.0005), "0.0005");
    EXPECT_EQ(Exposition::FormatNumber(1e300), "1e+300");
    EXPECT_EQ(Exposition::FormatNumber(1.0 / 0.0), "+Inf");
    EXPECT_EQ(Exposition::FormatNumber(-1.0 / 0.0), "-Inf");
    EXPECT_EQ(Exposition::FormatNumber(0.0 / 0.0), "NaN");
}

TEST(Metrics, ConcurrentRecordingLosesNothing) {
    Registry r;
    auto& f = r.AddCounter("hub_c_total", "C.", {"t"});
    auto& h = r.AddHistogram("hub_h", "H.", {}, LatencyBuckets()).With({});
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
        ts.emplace_back([&f, &h, t] {
            for (int i = 0; i < 10000; ++i) {
                f.With({t % 2 ? "odd" : "even"}).Inc();
                h.Observe(0.001);
            }
        });
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(f.With({"odd"}).Value() + f.With({"even"}).Value(), 40000);
    EXPECT_EQ(h.Read().count, 40000u);
}

TEST(Metrics, ProcessCollectorReportsThisProcess) {
    Registry r;
    AddProcessCollector(r);
    auto text = r.Render();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(text, m, std::regex("\nprocess_resident_memory_bytes ([0-9]+)\n")))
        << text;
    EXPECT_GT(std::stod(m[1]), 1e6);
    EXPECT_NE(text.find("\nprocess_open_fds "), std::string::npos);
    EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
    std::string bad;
    EXPECT_TRUE(IsValidExposition(text, &bad)) << bad;
}

}  // namespace
}  // namespace hub::obs
