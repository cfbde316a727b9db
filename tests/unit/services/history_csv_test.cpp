#include <gtest/gtest.h>

#include <algorithm>

#include "services/history_csv.hpp"

namespace hub::services {
namespace {

std::string Field(std::string_view text) {
    std::string out;
    AppendCsvField(out, text);
    return out;
}

TEST(HistoryCsv, QuotesOnlyWhatNeedsIt) {
    EXPECT_EQ(Field("qwen-plus"), "qwen-plus");
    EXPECT_EQ(Field(""), "");
    EXPECT_EQ(Field("a,b"), "\"a,b\"");
    EXPECT_EQ(Field("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(Field("two\nlines"), "\"two\nlines\"");
}

TEST(HistoryCsv, DefusesSpreadsheetFormulas) {
    EXPECT_EQ(Field("=1+1"), "\"'=1+1\"");
    EXPECT_EQ(Field("@SUM(A1)"), "\"'@SUM(A1)\"");
    EXPECT_EQ(Field("-2"), "\"'-2\"");
}

TEST(HistoryCsv, RowMatchesHeader) {
    store::ApiCall c;
    c.id = "id-1";
    c.endpoint = "chat.title";
    c.model = "qwen,plus";
    c.status_code = 200;
    c.input_tokens = 3;
    c.output_tokens = 4;
    c.latency_ms = 120;
    c.cost_micro_cny = 1234;
    c.created_at = 0;
    std::string row;
    AppendHistoryCsvRow(row, c);
    EXPECT_EQ(row,
              "1970-01-01T00:00:00.000Z,title,chat.title,\"qwen,plus\",200,,3,4,0,120,,"
              "0.001234,,,,id-1\r\n");
    std::string header(HistoryCsvHeader());
    EXPECT_EQ(std::count(header.begin(), header.end(), ','), 15);
}

}  // namespace
}  // namespace hub::services
