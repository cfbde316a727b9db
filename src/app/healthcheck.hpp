#pragma once
// `bailian-hub healthcheck`: GET /healthz of this machine's own hub (or another loopback URL)
// and exit 0 on a 200, 1 otherwise. For container HEALTHCHECKs in images without curl
// (deploy/Dockerfile); Kubernetes probes the HTTP endpoints itself.
#include <chrono>
#include <string>

#include "app/config.hpp"
#include "core/result.hpp"

namespace hub::app {

// What to probe: origin ("http://127.0.0.1:8080") and request target ("/healthz").
struct HealthcheckTarget {
    std::string origin;
    std::string target;
};

// `url` when given: http://LOOPBACK[:PORT][/PATH] or https://HOST[:PORT][/PATH] (path default
// /healthz). Else /healthz on 127.0.0.1 at the configured listener's port; a listener that
// speaks HTTPS needs an explicit --url (its certificate names a host, not 127.0.0.1).
core::Result<HealthcheckTarget> HealthcheckTargetFor(const Config& cfg, const std::string& url);

// Runs the probe; prints one line on standard error when it fails. Returns the exit code:
// 0 healthy (status 200), 1 unhealthy or unreachable, 2 bad --url or configuration.
int HealthcheckCommand(const Config& cfg, const std::string& url,
                       std::chrono::milliseconds timeout);

}  // namespace hub::app
