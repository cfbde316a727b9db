#pragma once
// What the simulator received and how each request ended, for GET /_sim/requests and
// GET /_sim/stats. Thread-safe; clock injected (time_ms passed in).
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace hub::sim {

// "Bearer sk-abcdef123456" → "Bearer ****3456".
std::string MaskSecret(const std::string& value);

struct RecordedRequest {
    std::uint64_t seq = 0;
    std::int64_t time_ms = 0;
    std::string method;
    std::string path;
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;  // secrets masked
    std::string body;
    // Filled as the request proceeds.
    std::string request_id;
    std::string route;  // "compat.chat", "native.text", "wanx.submit", …
    std::string model;
    bool stream = false;
    std::vector<std::string> faults;
    int status = 0;
    std::string outcome;  // "" (in flight), ok, error, cancelled, cut, reset, stalled…
    int chunks_sent = 0;
};

class Recorder {
public:
    explicit Recorder(std::size_t capacity = 1000) : capacity_(capacity) {}

    std::uint64_t Begin(RecordedRequest r);  // returns seq
    void SetInfo(std::uint64_t seq, const std::string& route, const std::string& model,
                 bool stream, const std::string& request_id);
    void AddFaults(std::uint64_t seq, const std::vector<std::string>& names);
    // Ends a request. outcome "cancelled" counts in stats.cancelled with its request id.
    void Finish(std::uint64_t seq, int status, const std::string& outcome, int chunks_sent = 0);

    // The last `limit` requests, oldest first; `path_filter` keeps paths containing it.
    nlohmann::json RequestsJson(std::size_t limit, const std::string& path_filter = {}) const;
    nlohmann::json StatsJson() const;
    void Reset();
    void CountTask(const std::string& what);  // submitted / canceled / polled …

private:
    RecordedRequest* FindLocked(std::uint64_t seq);
    mutable std::mutex mu_;
    std::size_t capacity_;
    std::uint64_t next_seq_ = 1;
    std::deque<RecordedRequest> ring_;
    // Stats (survive ring eviction).
    std::uint64_t total_ = 0;
    std::uint64_t in_flight_ = 0;
    std::map<std::string, std::uint64_t> by_route_, by_status_, by_outcome_, faults_, tasks_;
    std::uint64_t streams_started_ = 0, streams_completed_ = 0, cancelled_ = 0;
    std::deque<std::string> cancelled_ids_;
};

}  // namespace hub::sim
