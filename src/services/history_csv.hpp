#pragma once
// The CSV export of the call history (RFC 4180): one header line, one line per api_calls
// row, CRLF line ends. Pure, so the quoting is unit-tested.
#include <string>
#include <string_view>

#include "store/models.hpp"

namespace hub::services {

// The header line (with CRLF).
std::string_view HistoryCsvHeader();
// Appends one row (with CRLF) to `out`.
void AppendHistoryCsvRow(std::string& out, const store::ApiCall& call);
// One field, quoted when it holds a comma, a quote or a line break; a field a spreadsheet
// would run as a formula (starting with = + - @ or a tab/CR) gets a leading apostrophe.
void AppendCsvField(std::string& out, std::string_view text);

}  // namespace hub::services
