#pragma once
// Structured logging over spdlog: one event name plus JSON fields per line.
// Format json: {"ts":…,"level":…,"msg":…,…fields}; format text: "ts level msg k=v …".
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace hub::obs {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };
enum class LogFormat { kJson, kText };

bool ParseLevel(std::string_view text, Level* out);
bool ParseFormat(std::string_view text, LogFormat* out);

void InitLogging(LogFormat format, Level level);
bool Enabled(Level level);
void Log(Level level, std::string_view event, const nlohmann::json& fields);
void Log(Level level, std::string_view event);
void FlushLogs();

inline void Info(std::string_view e, const nlohmann::json& f) { Log(Level::kInfo, e, f); }
inline void Warn(std::string_view e, const nlohmann::json& f) { Log(Level::kWarn, e, f); }
inline void Error(std::string_view e, const nlohmann::json& f) { Log(Level::kError, e, f); }
inline void Debug(std::string_view e, const nlohmann::json& f) { Log(Level::kDebug, e, f); }

}  // namespace hub::obs
