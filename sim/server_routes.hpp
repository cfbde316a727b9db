#pragma once
// The simulator's HTTP surface: DashScope routes (compatible mode, native generation, Wanx
// tasks, result files) and the /_sim/ control API. The only sim/ code besides main.cpp that
// does I/O: it parses requests, applies faults and pacing, and writes what the pure
// protocol_* files build.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "faults.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "rate_limit.hpp"
#include "recorder.hpp"
#include "wanx.hpp"

namespace hub::sim {

struct SimConfig {
    std::vector<std::string> keys;  // empty: any non-empty key is accepted
    double tokens_per_second = 0;   // 0: no pacing
    int burst_tokens = 1;  // paced streams send frames in bursts of about this many tokens
    int first_token_ms = 0;
    double task_seconds = 3;
    int rpm = 0;  // per key; 0: unlimited
    std::vector<std::string> extra_models;
    std::size_t history = 1000;
    std::string public_base_url;  // base of result-image URLs, e.g. http://127.0.0.1:PORT
};

class SimApp {
public:
    SimApp(SimConfig cfg, const core::Clock& clock);
    void Register(http::Router& router);
    void SetPublicBaseUrl(std::string url);

    // Pure helper, exposed for tests: renders server-level errors (404/405/413/400) in the
    // native error shape.
    static http::Response RenderServerError(const core::Error& e, const std::string& request_id);

    Recorder& recorder() { return recorder_; }

    // Handlers (public so the router lambdas can call them).
    net::awaitable<http::Response> Chat(http::Context& ctx, int api);
    net::awaitable<http::Response> Models(http::Context& ctx);
    net::awaitable<http::Response> ImageSubmit(http::Context& ctx);
    net::awaitable<http::Response> TaskGet(http::Context& ctx);
    net::awaitable<http::Response> TaskCancel(http::Context& ctx);
    net::awaitable<http::Response> ResultFile(http::Context& ctx);
    net::awaitable<http::Response> ControlRequests(http::Context& ctx);
    net::awaitable<http::Response> ControlStats(http::Context& ctx);
    net::awaitable<http::Response> ControlReset(http::Context& ctx);
    net::awaitable<http::Response> ControlFaults(http::Context& ctx);
    net::awaitable<http::Response> ControlHealth(http::Context& ctx);

private:
    std::string BaseUrl();
    bool KeyAccepted(const std::string& key) const;

    SimConfig cfg_;
    const core::Clock& clock_;
    Recorder recorder_;
    TaskStore tasks_;
    RpmLimiter limiter_;
    FaultQueue fault_queue_;
    std::mutex base_mu_;
    std::string base_url_;
};

}  // namespace hub::sim
