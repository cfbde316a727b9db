// Stored conversations and call history, filled from fuzz input, through the exports users
// download: the Markdown and JSON conversation exports and the CSV call history. The CSV is
// read back with an RFC 4180 reader: every row must hold exactly the fields that were written.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "api/chat_dto.hpp"
#include "api/errors.hpp"
#include "services/history_csv.hpp"
#include "services/conversations.hpp"

namespace {

using namespace hub;

// RFC 4180: fields separated by commas, a CRLF ends the record, quoted fields double their
// quotes. Returns false when `row` is not exactly one well-formed record.
bool ReadCsvRecord(std::string_view row, std::vector<std::string>& fields) {
    std::string field;
    std::size_t i = 0;
    for (;;) {
        field.clear();
        if (i < row.size() && row[i] == '"') {
            ++i;
            for (;;) {
                if (i >= row.size()) return false;
                if (row[i] == '"') {
                    if (i + 1 < row.size() && row[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field += row[i++];
            }
        } else {
            while (i < row.size() && row[i] != ',' && row[i] != '\r' && row[i] != '\n' &&
                   row[i] != '"') {
                field += row[i++];
            }
        }
        fields.push_back(field);
        if (i < row.size() && row[i] == ',') {
            ++i;
            continue;
        }
        return row.substr(i) == "\r\n";
    }
}

// What a reader sees of a text field: the text, behind an apostrophe when it would run as a
// spreadsheet formula.
std::string AsRead(const std::string& text) {
    if (!text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string::npos) {
        return "'" + text;
    }
    return text;
}

store::Message MakeMessage(FuzzedDataProvider& in) {
    store::Message m;
    m.id = in.ConsumeRandomLengthString(40);
    m.role = static_cast<store::MessageRole>(in.ConsumeIntegralInRange(0, 2));
    m.content = in.ConsumeRandomLengthString(400);
    m.reasoning = in.ConsumeRandomLengthString(200);
    m.model = in.ConsumeRandomLengthString(40);
    m.status = static_cast<store::MessageStatus>(in.ConsumeIntegralInRange(0, 3));
    m.error_code = in.ConsumeRandomLengthString(40);
    m.input_tokens = in.ConsumeIntegral<std::int64_t>();
    m.output_tokens = in.ConsumeIntegral<std::int64_t>();
    if (in.ConsumeBool()) m.parent_id = in.ConsumeRandomLengthString(40);
    m.created_at = in.ConsumeIntegral<std::int64_t>();
    return m;
}

void Conversation(FuzzedDataProvider& in) {
    services::ConversationExport e;
    e.conversation.id = in.ConsumeRandomLengthString(40);
    e.conversation.title = in.ConsumeRandomLengthString(200);
    e.conversation.model = in.ConsumeRandomLengthString(40);
    e.conversation.system_prompt = in.ConsumeRandomLengthString(400);
    e.conversation.pinned = in.ConsumeBool();
    e.conversation.created_at = in.ConsumeIntegral<std::int64_t>();
    e.conversation.updated_at = in.ConsumeIntegral<std::int64_t>();
    e.truncated = in.ConsumeBool();
    std::size_t n = in.ConsumeIntegralInRange<std::size_t>(0, 8);
    for (std::size_t i = 0; i < n && in.remaining_bytes() > 0; ++i) {
        e.messages.push_back(MakeMessage(in));
    }
    (void)services::RenderMarkdown(e);
    // The JSON export, as the route renders it.
    nlohmann::json messages = nlohmann::json::array();
    for (const auto& m : e.messages) messages.push_back(api::MessageJson(m));
    auto r = api::JsonResponse(200, {{"format", "bailian-hub.conversation.v1"},
                                     {"conversation", api::ConversationJson(e.conversation)},
                                     {"messages", messages},
                                     {"truncated", e.truncated}});
    if (r.body.empty()) __builtin_trap();
}

void History(FuzzedDataProvider& in) {
    store::ApiCall c;
    c.id = in.ConsumeRandomLengthString(40);
    c.endpoint = in.ConsumeRandomLengthString(40);
    c.model = in.ConsumeRandomLengthString(40);
    c.status_code = in.ConsumeIntegral<int>();
    c.error_code = in.ConsumeRandomLengthString(40);
    c.input_tokens = in.ConsumeIntegral<std::int64_t>();
    c.output_tokens = in.ConsumeIntegral<std::int64_t>();
    c.image_count = in.ConsumeIntegral<std::int64_t>();
    c.latency_ms = in.ConsumeIntegral<std::int64_t>();
    if (in.ConsumeBool()) c.first_token_ms = in.ConsumeIntegral<std::int64_t>();
    c.cost_micro_cny = in.ConsumeIntegral<std::int64_t>();
    c.upstream_request_id = in.ConsumeRandomLengthString(60);
    if (in.ConsumeBool()) c.api_key_id = in.ConsumeRandomLengthString(40);
    if (in.ConsumeBool()) c.conversation_id = in.ConsumeRandomLengthString(40);
    c.created_at = in.ConsumeIntegral<std::int64_t>();

    std::string row;
    services::AppendHistoryCsvRow(row, c);
    std::vector<std::string> fields;
    if (!ReadCsvRecord(row, fields)) __builtin_trap();
    std::vector<std::string> header;
    if (!ReadCsvRecord(services::HistoryCsvHeader(), header)) __builtin_trap();
    if (fields.size() != header.size()) __builtin_trap();
    if (fields[2] != AsRead(c.endpoint) || fields[3] != AsRead(c.model) ||
        fields[5] != AsRead(c.error_code) || fields[12] != AsRead(c.upstream_request_id) ||
        fields[15] != AsRead(c.id)) {
        __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    if (in.ConsumeBool()) {
        Conversation(in);
    } else {
        History(in);
    }
    return 0;
}
