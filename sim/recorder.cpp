#include "recorder.hpp"

#include "json_text.hpp"

namespace hub::sim {

namespace {
constexpr std::size_t kMaxCancelledIds = 1000;
constexpr std::size_t kMaxBody = 1 << 20;

bool SecretHeader(const std::string& name) {
    std::string n = ToLower(name);
    return n == "authorization" || n == "x-api-key" || n == "cookie" || n == "proxy-authorization";
}
}  // namespace

std::string MaskSecret(const std::string& value) {
    std::string scheme;
    std::string secret = value;
    auto sp = value.find(' ');
    if (sp != std::string::npos) {
        scheme = value.substr(0, sp + 1);
        secret = value.substr(sp + 1);
    }
    std::string tail = secret.size() > 4 ? secret.substr(secret.size() - 4) : std::string{};
    return scheme + "****" + tail;
}

std::uint64_t Recorder::Begin(RecordedRequest r) {
    for (auto& [k, v] : r.headers) {
        if (SecretHeader(k)) v = MaskSecret(v);
    }
    if (r.body.size() > kMaxBody) r.body.resize(kMaxBody);
    std::lock_guard lk(mu_);
    r.seq = next_seq_++;
    ++total_;
    ++in_flight_;
    ring_.push_back(std::move(r));
    while (ring_.size() > capacity_) ring_.pop_front();
    return ring_.back().seq;
}

RecordedRequest* Recorder::FindLocked(std::uint64_t seq) {
    if (ring_.empty() || seq < ring_.front().seq) return nullptr;
    std::size_t idx = static_cast<std::size_t>(seq - ring_.front().seq);
    if (idx >= ring_.size()) return nullptr;
    return &ring_[idx];
}

void Recorder::SetInfo(std::uint64_t seq, const std::string& route, const std::string& model,
                       bool stream, const std::string& request_id) {
    std::lock_guard lk(mu_);
    ++by_route_[route];
    if (stream) ++streams_started_;
    if (auto* r = FindLocked(seq)) {
        r->route = route;
        r->model = model;
        r->stream = stream;
        r->request_id = request_id;
    }
}

void Recorder::AddFaults(std::uint64_t seq, const std::vector<std::string>& names) {
    std::lock_guard lk(mu_);
    for (const auto& n : names) ++faults_[n];
    if (auto* r = FindLocked(seq)) r->faults.insert(r->faults.end(), names.begin(), names.end());
}

void Recorder::Finish(std::uint64_t seq, int status, const std::string& outcome, int chunks_sent) {
    std::lock_guard lk(mu_);
    if (in_flight_ > 0) --in_flight_;
    ++by_status_[std::to_string(status)];
    ++by_outcome_[outcome];
    auto* r = FindLocked(seq);
    bool stream = r && r->stream;
    if (stream && outcome == "ok") ++streams_completed_;
    if (outcome == "cancelled") {
        ++cancelled_;
        if (r && !r->request_id.empty()) {
            cancelled_ids_.push_back(r->request_id);
            while (cancelled_ids_.size() > kMaxCancelledIds) cancelled_ids_.pop_front();
        }
    }
    if (r) {
        r->status = status;
        r->outcome = outcome;
        r->chunks_sent = chunks_sent;
    }
}

void Recorder::CountTask(const std::string& what) {
    std::lock_guard lk(mu_);
    ++tasks_[what];
}

nlohmann::json Recorder::RequestsJson(std::size_t limit, const std::string& path_filter) const {
    std::lock_guard lk(mu_);
    std::vector<const RecordedRequest*> picked;
    for (auto it = ring_.rbegin(); it != ring_.rend() && picked.size() < limit; ++it) {
        if (!path_filter.empty() && it->path.find(path_filter) == std::string::npos) continue;
        picked.push_back(&*it);
    }
    nlohmann::json arr = nlohmann::json::array();
    for (auto it = picked.rbegin(); it != picked.rend(); ++it) {
        const RecordedRequest& r = **it;
        nlohmann::json headers = nlohmann::json::object();
        for (const auto& [k, v] : r.headers) headers[ToLower(k)] = v;
        nlohmann::json e = {{"seq", r.seq},
                            {"time_ms", r.time_ms},
                            {"method", r.method},
                            {"path", r.path},
                            {"query", r.query},
                            {"headers", std::move(headers)},
                            {"request_id", r.request_id},
                            {"route", r.route},
                            {"model", r.model},
                            {"stream", r.stream},
                            {"faults", r.faults},
                            {"status", r.status},
                            {"outcome", r.outcome.empty() ? "in_flight" : r.outcome},
                            {"chunks_sent", r.chunks_sent}};
        auto parsed = nlohmann::json::parse(r.body, nullptr, false);
        if (!r.body.empty() && !parsed.is_discarded()) {
            e["body"] = std::move(parsed);
        } else {
            e["body"] = nullptr;
            if (!r.body.empty()) e["body_text"] = r.body;
        }
        arr.push_back(std::move(e));
    }
    return {{"requests", std::move(arr)}};
}

nlohmann::json Recorder::StatsJson() const {
    std::lock_guard lk(mu_);
    return {{"requests", total_},
            {"in_flight", in_flight_},
            {"by_route", by_route_},
            {"by_status", by_status_},
            {"by_outcome", by_outcome_},
            {"faults", faults_},
            {"tasks", tasks_},
            {"streams", {{"started", streams_started_}, {"completed", streams_completed_}}},
            {"cancelled", cancelled_},
            {"cancelled_request_ids",
             std::vector<std::string>(cancelled_ids_.begin(), cancelled_ids_.end())}};
}

void Recorder::Reset() {
    std::lock_guard lk(mu_);
    ring_.clear();
    total_ = 0;
    by_route_.clear();
    by_status_.clear();
    by_outcome_.clear();
    faults_.clear();
    tasks_.clear();
    streams_started_ = streams_completed_ = cancelled_ = 0;
    cancelled_ids_.clear();
    // in_flight_ and next_seq_ keep counting: requests in flight will still Finish.
}

}  // namespace hub::sim
