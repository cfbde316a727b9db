#include "services/history_csv.hpp"

#include <cstdio>

#include "core/clock.hpp"
#include "store/call_kind.hpp"

namespace hub::services {

std::string_view HistoryCsvHeader() {
    return "time,kind,endpoint,model,status_code,error_code,input_tokens,output_tokens,images,"
           "latency_ms,first_token_ms,cost_cny,upstream_request_id,api_key_id,conversation_id,"
           "id\r\n";
}

namespace {
// Exact decimal yuan from micro-yuan: 1234 -> "0.001234".
std::string Yuan(std::int64_t micro) {
    bool negative = micro < 0;
    std::uint64_t m = negative ? 0 - static_cast<std::uint64_t>(micro) : static_cast<std::uint64_t>(micro);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s%llu.%06llu", negative ? "-" : "",
                  static_cast<unsigned long long>(m / 1'000'000),
                  static_cast<unsigned long long>(m % 1'000'000));
    return buf;
}
}  // namespace

void AppendCsvField(std::string& out, std::string_view text) {
    bool formula = !text.empty() && (text.front() == '=' || text.front() == '+' ||
                                     text.front() == '-' || text.front() == '@' ||
                                     text.front() == '\t' || text.front() == '\r');
    bool quote = formula || text.find_first_of(",\"\r\n") != std::string_view::npos;
    if (!quote) {
        out += text;
        return;
    }
    out += '"';
    if (formula) out += '\'';
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

void AppendHistoryCsvRow(std::string& out, const store::ApiCall& c) {
    auto field = [&out](std::string_view text) {
        AppendCsvField(out, text);
        out += ',';
    };
    auto number = [&out](std::int64_t n) {
        out += std::to_string(n);
        out += ',';
    };
    field(core::FormatIsoMs(c.created_at));
    field(store::ToString(store::CallKindOf(c.endpoint)));
    field(c.endpoint);
    field(c.model);
    number(c.status_code);
    field(c.error_code);
    number(c.input_tokens);
    number(c.output_tokens);
    number(c.image_count);
    number(c.latency_ms);
    if (c.first_token_ms) out += std::to_string(*c.first_token_ms);
    out += ',';
    out += Yuan(c.cost_micro_cny);
    out += ',';
    field(c.upstream_request_id);
    field(c.api_key_id.value_or(""));
    field(c.conversation_id.value_or(""));
    AppendCsvField(out, c.id);
    out += "\r\n";
}

}  // namespace hub::services
