// bailian-sim: a local simulator of Alibaba Cloud Model Studio's DashScope HTTP API.
// See docs/simulator.md.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "async/asio.hpp"
#include <boost/asio/signal_set.hpp>

#include "core/clock.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "obs/logging.hpp"
#include "server_routes.hpp"

namespace {

bool SplitHostPort(const std::string& listen, std::string* host, std::uint16_t* port) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return false;
    *host = listen.substr(0, colon);
    if (host->size() >= 2 && host->front() == '[' && host->back() == ']')
        *host = host->substr(1, host->size() - 2);
    try {
        std::size_t used = 0;
        int p = std::stoi(listen.substr(colon + 1), &used);
        if (used != listen.size() - colon - 1 || p < 0 || p > 65535) return false;
        *port = static_cast<std::uint16_t>(p);
    } catch (...) {
        return false;
    }
    return !host->empty();
}

bool WritePortFile(const std::string& path, std::uint16_t port) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::trunc);
        if (!f) return false;
        f << port << "\n";
        if (!f.flush()) return false;
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    return !ec;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace hub;
    CLI::App cli{"bailian-sim: a local simulator of the DashScope (Model Studio) HTTP API"};
    std::string listen = "127.0.0.1:0";
    std::vector<std::string> keys;
    sim::SimConfig cfg;
    std::string port_file;
    std::string public_url;
    int threads = 2;
    std::string log_level = "info";
    std::string log_format = "text";
    std::size_t body_limit_mb = 16;
    cli.add_option("--listen", listen, "address:port to listen on (port 0 = any free port)")
        ->capture_default_str();
    cli.add_option("--keys", cfg.keys, "accepted API keys (comma-separated); default: any non-empty key")
        ->delimiter(',');
    cli.add_option("--tokens-per-second", cfg.tokens_per_second,
                   "output pacing in tokens per second (0 = as fast as possible)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cli.add_option("--burst-tokens", cfg.burst_tokens,
                   "paced streams: send frames together once about N tokens are due (one write "
                   "per burst, as DashScope sends several tokens per chunk)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    cli.add_option("--first-token-ms", cfg.first_token_ms, "delay before the first token")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cli.add_option("--task-seconds", cfg.task_seconds,
                   "Wanx task duration: PENDING for the first quarter, then RUNNING, then done")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cli.add_option("--rpm", cfg.rpm, "requests per minute allowed per key (0 = unlimited)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cli.add_option("--port-file", port_file, "write the bound port to this file once listening");
    cli.add_option("--public-url", public_url,
                   "base URL for result-image links (default http://HOST:PORT as bound)");
    cli.add_option("--models", cfg.extra_models, "extra chat model names to accept (comma-separated)")
        ->delimiter(',');
    cli.add_option("--history", cfg.history, "requests kept for GET /_sim/requests")
        ->capture_default_str();
    cli.add_option("--threads", threads, "io threads (1 or 2)")->capture_default_str()->check(CLI::Range(1, 8));
    cli.add_option("--body-limit-mb", body_limit_mb, "largest request body accepted")
        ->capture_default_str();
    cli.add_option("--log-level", log_level, "trace|debug|info|warn|error|off")->capture_default_str();
    cli.add_option("--log-format", log_format, "text|json")->capture_default_str();
    CLI11_PARSE(cli, argc, argv);

    obs::Level level = obs::Level::kInfo;
    obs::LogFormat format = obs::LogFormat::kText;
    if (!obs::ParseLevel(log_level, &level) || !obs::ParseFormat(log_format, &format)) {
        std::cerr << "bailian-sim: bad --log-level or --log-format\n";
        return 2;
    }
    obs::InitLogging(format, level);

    http::ServerConfig scfg;
    if (!SplitHostPort(listen, &scfg.host, &scfg.port)) {
        std::cerr << "bailian-sim: --listen must be HOST:PORT, got '" << listen << "'\n";
        return 2;
    }
    scfg.security_headers = false;
    scfg.server_name = "istio-envoy";
    scfg.body_limit = body_limit_mb << 20;
    scfg.idle_timeout = std::chrono::milliseconds(300'000);
    scfg.write_timeout = std::chrono::milliseconds(600'000);

    core::SystemClock clock;
    sim::SimApp app(cfg, clock);
    http::Router router;
    app.Register(router);

    net::io_context io(threads);
    http::Server server(io, scfg, router, &sim::SimApp::RenderServerError);
    auto bound = server.Listen();
    if (!bound) {
        std::cerr << "bailian-sim: " << bound.error().public_message << "\n";
        return 1;
    }
    std::string host_for_url = scfg.host == "0.0.0.0" ? "127.0.0.1" : scfg.host;
    if (host_for_url.find(':') != std::string::npos) host_for_url = "[" + host_for_url + "]";
    app.SetPublicBaseUrl(public_url.empty()
                             ? "http://" + host_for_url + ":" + std::to_string(*bound)
                             : public_url);
    server.Start();
    if (!port_file.empty() && !WritePortFile(port_file, *bound)) {
        std::cerr << "bailian-sim: cannot write --port-file " << port_file << "\n";
        return 1;
    }
    obs::Info("sim_listening", {{"host", scfg.host},
                                {"port", *bound},
                                {"keys", cfg.keys.size()},
                                {"tokens_per_second", cfg.tokens_per_second},
                                {"burst_tokens", cfg.burst_tokens},
                                {"first_token_ms", cfg.first_token_ms},
                                {"task_seconds", cfg.task_seconds},
                                {"rpm", cfg.rpm}});
    std::cout << "bailian-sim listening on http://" << host_for_url << ":" << *bound << std::endl;

    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        obs::Info("sim_shutdown", {});
        server.BeginShutdown(std::chrono::milliseconds(2000), [&io](bool) { io.stop(); });
    });

    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : pool) t.join();
    obs::FlushLogs();
    return 0;
}
