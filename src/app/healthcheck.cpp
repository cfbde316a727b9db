#include "app/healthcheck.hpp"

#include <iostream>
#include <utility>

#include "async/asio.hpp"
#include "http/client.hpp"

namespace hub::app {

namespace {

core::Error BadUrl(std::string why) {
    return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_url",
                             "healthcheck: " + std::move(why));
}

struct Outcome {
    int status = 0;
    std::string error;
};

net::awaitable<void> Probe(http::HttpClient* client, http::Url url, std::string target,
                           Outcome* out) {
    http::ClientRequest req;
    req.method = "GET";
    req.target = std::move(target);
    auto resp = co_await client->Send(std::move(url), std::move(req), nullptr);
    if (!resp.ok()) {
        out->error = resp.error().public_message;
        co_return;
    }
    auto body = co_await (*resp)->ReadAll(64 * 1024);  // read to the end: a clean close
    out->status = (*resp)->status();
    if (!body.ok()) out->error = body.error().public_message;
}

}  // namespace

core::Result<HealthcheckTarget> HealthcheckTargetFor(const Config& cfg, const std::string& url) {
    if (url.empty()) {
        if (cfg.Tls()) {
            return BadUrl(
                "the listener speaks HTTPS; pass --url https://NAME:PORT/healthz with a name "
                "its certificate holds");
        }
        return HealthcheckTarget{"http://127.0.0.1:" + std::to_string(cfg.listen_port), "/healthz"};
    }
    auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return BadUrl("--url must start with http:// or https://");
    auto slash = url.find('/', scheme_end + 3);
    HealthcheckTarget t;
    t.origin = url.substr(0, slash);
    t.target = slash == std::string::npos ? "/healthz" : url.substr(slash);
    if (t.target.find_first_of(" \r\n\t") != std::string::npos) {
        return BadUrl("--url must not contain spaces or line breaks");
    }
    auto parsed = http::ParseBaseUrl(t.origin);
    if (!parsed.ok()) return BadUrl("--url: " + parsed.error().public_message);
    return t;
}

int HealthcheckCommand(const Config& cfg, const std::string& url,
                       std::chrono::milliseconds timeout) {
    auto t = HealthcheckTargetFor(cfg, url);
    if (!t.ok()) {
        std::cerr << "bailian-hub: " << t.error().public_message << "\n";
        return 2;
    }
    auto base = http::ParseBaseUrl(t->origin);  // HealthcheckTargetFor has checked it
    if (!base.ok()) return 2;
    net::io_context io;
    http::ClientConfig ccfg;
    ccfg.connect_timeout = timeout;
    ccfg.first_byte_timeout = timeout;
    ccfg.idle_timeout = timeout;
    Outcome out;
    {
        http::HttpClient client(io, ccfg);
        net::co_spawn(io, Probe(&client, base.value(), t->target, &out),
                      [&out](std::exception_ptr e) {
                          if (e) out.error = "probe failed";
                      });
        io.run();
    }
    const std::string where = t->origin + t->target;
    if (out.status == 200 && out.error.empty()) {
        std::cout << "healthy: " << where << " answered 200\n";
        return 0;
    }
    if (out.status != 0) {
        std::cerr << "bailian-hub: healthcheck: " << where << " answered " << out.status << "\n";
    } else {
        std::cerr << "bailian-hub: healthcheck: " << where << ": " << out.error << "\n";
    }
    return 1;
}

}  // namespace hub::app
