#include "obs/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"

namespace hub::obs {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kJson};
std::atomic<Level> g_level{Level::kInfo};

std::shared_ptr<spdlog::logger>& Logger() {
    static std::shared_ptr<spdlog::logger> logger = [] {
        auto l = std::make_shared<spdlog::logger>("hub",
                                                  std::make_shared<spdlog::sinks::stdout_sink_mt>());
        l->set_pattern("%v");
        l->set_level(spdlog::level::trace);
        l->flush_on(spdlog::level::warn);
        return l;
    }();
    return logger;
}

const char* LevelName(Level l) {
    switch (l) {
        case Level::kTrace: return "trace";
        case Level::kDebug: return "debug";
        case Level::kInfo: return "info";
        case Level::kWarn: return "warn";
        case Level::kError: return "error";
        case Level::kOff: return "off";
    }
    return "info";
}

spdlog::level::level_enum ToSpd(Level l) {
    switch (l) {
        case Level::kTrace: return spdlog::level::trace;
        case Level::kDebug: return spdlog::level::debug;
        case Level::kInfo: return spdlog::level::info;
        case Level::kWarn: return spdlog::level::warn;
        case Level::kError: return spdlog::level::err;
        case Level::kOff: return spdlog::level::off;
    }
    return spdlog::level::info;
}

std::int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

bool ParseLevel(std::string_view t, Level* out) {
    static const std::pair<const char*, Level> kNames[] = {
        {"trace", Level::kTrace}, {"debug", Level::kDebug}, {"info", Level::kInfo},
        {"warn", Level::kWarn},   {"warning", Level::kWarn}, {"error", Level::kError},
        {"off", Level::kOff}};
    for (auto& [n, l] : kNames) {
        if (t == n) {
            *out = l;
            return true;
        }
    }
    return false;
}

bool ParseFormat(std::string_view t, LogFormat* out) {
    if (t == "json") *out = LogFormat::kJson;
    else if (t == "text") *out = LogFormat::kText;
    else return false;
    return true;
}

void InitLogging(LogFormat format, Level level) {
    g_format = format;
    g_level = level;
    Logger();
}

bool Enabled(Level level) { return level >= g_level.load() && level != Level::kOff; }

void Log(Level level, std::string_view event) { Log(level, event, nlohmann::json::object()); }

void Log(Level level, std::string_view event, const nlohmann::json& fields) {
    if (!Enabled(level)) return;
    std::string line;
    std::string ts = core::FormatIsoMs(NowMs());
    if (g_format.load() == LogFormat::kJson) {
        nlohmann::json j = {{"ts", ts}, {"level", LevelName(level)}, {"msg", event}};
        if (fields.is_object()) {
            for (auto it = fields.begin(); it != fields.end(); ++it) j[it.key()] = it.value();
        }
        line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
        line = ts + " " + LevelName(level) + " " + std::string(event);
        if (fields.is_object()) {
            for (auto it = fields.begin(); it != fields.end(); ++it) {
                line += " " + it.key() + "=";
                line += it->is_string() ? it->get<std::string>()
                                        : it->dump(-1, ' ', false,
                                                   nlohmann::json::error_handler_t::replace);
            }
        }
    }
    Logger()->log(ToSpd(level), line);
}

void FlushLogs() { Logger()->flush(); }

}  // namespace hub::obs
