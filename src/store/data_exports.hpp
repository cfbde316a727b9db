#pragma once
// A user's data-export jobs (issue 21): status, progress and where the finished archive is.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace hub::store {

enum class ExportStatus { kPending, kRunning, kReady, kFailed };
std::string_view ToString(ExportStatus s);

struct DataExport {
    std::string id;
    std::string user_id;
    ExportStatus status = ExportStatus::kPending;
    int progress = 0;        // percent
    std::string file_path;   // relative to the exports folder; set when ready
    std::int64_t bytes = 0;
    std::string error_code;  // when failed
    std::int64_t created_at = 0;
    std::optional<std::int64_t> finished_at;
    std::optional<std::int64_t> expires_at;
};

struct ExportPatch {
    std::optional<ExportStatus> status;
    std::optional<int> progress;
    std::optional<std::string> file_path;
    std::optional<std::int64_t> bytes;
    std::optional<std::string> error_code;
    std::optional<std::int64_t> finished_at;
    std::optional<std::int64_t> expires_at;
};

class DataExportStore {
public:
    virtual ~DataExportStore() = default;
    // kConflict "export_in_progress" while another of the user's exports is pending or running.
    virtual core::Result<DataExport> Create(DataExport e) = 0;
    // kNotFound "export_not_found" when missing or another user's.
    virtual core::Result<DataExport> Get(std::string_view user_id, std::string_view id) = 0;
    // The user's exports, newest first (a handful: old ones are removed when they expire).
    virtual core::Result<std::vector<DataExport>> ListByUser(std::string_view user_id) = 0;
    virtual core::Result<DataExport> Update(std::string_view id, const ExportPatch& patch) = 0;
    // Ready or failed exports whose expires_at is at or before now_ms.
    virtual core::Result<std::vector<DataExport>> ListExpired(std::int64_t now_ms) = 0;
    virtual core::Result<void> Delete(std::string_view id) = 0;
    // At start-up: jobs a stopped hub left pending or running are failed ("interrupted").
    virtual core::Result<std::int64_t> FailUnfinished(std::int64_t now_ms,
                                                      std::int64_t expires_at) = 0;
};

}  // namespace hub::store
