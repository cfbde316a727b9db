#include "app/redis_wiring.hpp"

#include "app/config.hpp"
#include "cache/redis_bus.hpp"
#include "core/id.hpp"
#include "limit/redis_limiter.hpp"
#include "obs/logging.hpp"
#include "obs/metrics.hpp"
#include "redis/client.hpp"
#include "services/health.hpp"

namespace hub::app {

struct RedisParts::Impl {
    Impl(net::io_context& io, redis::ClientOptions command_opts, redis::ClientOptions sub_opts,
         const core::Clock& clock, limit::RedisLimiterOptions lopts, cache::RedisBusOptions bopts)
        : commands(io, std::move(command_opts)),
          subscriber(io, std::move(sub_opts)),
          limiter(io, commands, clock, std::move(lopts)),
          bus(io, commands, subscriber, std::move(bopts)) {}
    ~Impl() {
        bus.Stop();
        limiter.Stop();
        subscriber.Stop();
        commands.Stop();
    }
    redis::Client commands;
    redis::Client subscriber;
    limit::RedisLimiter limiter;
    cache::RedisBus bus;
};

RedisParts::RedisParts() = default;
RedisParts::RedisParts(RedisParts&&) noexcept = default;
RedisParts::~RedisParts() = default;

core::Result<RedisParts> SetUpRedis(const Config& cfg, net::io_context& io,
                                    const core::Clock& local_clock,
                                    const limit::BucketConfig& default_config,
                                    obs::Registry& metrics) {
    RedisParts parts;
    const std::string& raw = cfg.redis_url.Reveal();
    if (raw.empty()) return core::Result<RedisParts>(std::move(parts));
    auto url = redis::ParseUrl(raw);  // its messages never hold the password
    if (!url.ok()) {
        if (cfg.redis_required) return url.error();
        obs::Warn("redis_unavailable_at_start",
                  {{"error", url.error().public_message},
                   {"fallback", "local limits and no bus: this hub runs on its own"}});
        return core::Result<RedisParts>(std::move(parts));
    }
    if (url->tls_ca.empty()) url->tls_ca = cfg.redis_tls_ca;
    redis::ClientOptions copts;
    copts.url = url.value();
    copts.timeout = std::chrono::milliseconds(cfg.redis_timeout_ms);
    auto reachable = redis::Client::CheckReachable(copts);
    if (!reachable.ok()) {
        core::Error e = reachable.error();
        e.public_message = "Redis at " + url->Redacted() + " cannot be used: " + e.public_message;
        if (cfg.redis_required) return e;
        obs::Warn("redis_unavailable_at_start",
                  {{"url", url->Redacted()},
                   {"error", reachable.error().public_message},
                   {"fallback", "local limits until Redis answers"}});
    }
    redis::ClientOptions sopts = copts;
    cache::RedisBusOptions bopts;
    bopts.instance_id = core::InstanceId();
    sopts.subscribe = {bopts.channel};
    limit::RedisLimiterOptions lopts;
    lopts.default_config = default_config;
    lopts.instance_id = core::InstanceId();
    lopts.fallback_share = cfg.redis_fallback_share;
    lopts.timeout = copts.timeout;
    parts.impl = std::make_unique<RedisParts::Impl>(io, copts, sopts, local_clock, lopts, bopts);
    parts.limiter = &parts.impl->limiter;
    parts.bus = &parts.impl->bus;

    RedisParts::Impl* impl = parts.impl.get();
    const std::string redacted = url->Redacted();
    impl->limiter.OnTransition([impl, redacted](bool fallback, const std::string& why) {
        if (fallback) {
            auto st = impl->limiter.state();
            obs::Warn("redis_limiter_fallback", {{"url", redacted},
                                                 {"reason", why},
                                                 {"share", st.share},
                                                 {"live_hubs", st.live_hubs}});
        } else {
            obs::Info("redis_limiter_shared", {{"url", redacted}});
        }
    });
    metrics.AddCollector([impl](obs::Exposition& out) {
        auto s = impl->commands.stats();
        auto l = impl->limiter.state();
        out.Header("bailian_hub_redis_up", "1 when the connection to Redis is up.",
                   obs::MetricType::kGauge);
        out.Sample("bailian_hub_redis_up", {}, s.up ? 1 : 0);
        out.Header("bailian_hub_limiter_fallback_active",
                   "1 when rate limits are decided on this hub's local share, not in Redis.",
                   obs::MetricType::kGauge);
        out.Sample("bailian_hub_limiter_fallback_active", {}, l.fallback ? 1 : 0);
        out.Header("bailian_hub_redis_live_hubs",
                   "Hubs seen alive by their Redis heartbeat (the fallback share is 1 / this).",
                   obs::MetricType::kGauge);
        out.Sample("bailian_hub_redis_live_hubs", {}, l.live_hubs);
        out.Header("bailian_hub_redis_errors_total", "Redis command failures, by kind.",
                   obs::MetricType::kCounter);
        out.Sample("bailian_hub_redis_errors_total", {{"kind", "timeout"}},
                   static_cast<double>(s.errors_timeout));
        out.Sample("bailian_hub_redis_errors_total", {{"kind", "connect"}},
                   static_cast<double>(s.errors_connect));
        out.Sample("bailian_hub_redis_errors_total", {{"kind", "reply"}},
                   static_cast<double>(s.errors_reply));
        out.Header("bailian_hub_redis_commands_total", "Redis commands sent.",
                   obs::MetricType::kCounter);
        out.Sample("bailian_hub_redis_commands_total", {}, static_cast<double>(s.commands));
        auto b = impl->bus.stats();
        out.Header("bailian_hub_bus_events_total", "Bus events between hubs, by what happened.",
                   obs::MetricType::kCounter);
        out.Sample("bailian_hub_bus_events_total", {{"event", "published"}},
                   static_cast<double>(b.published));
        out.Sample("bailian_hub_bus_events_total", {{"event", "dropped"}},
                   static_cast<double>(b.dropped));
        out.Sample("bailian_hub_bus_events_total", {{"event", "received"}},
                   static_cast<double>(b.received));
        out.Sample("bailian_hub_bus_events_total", {{"event", "replayed"}},
                   static_cast<double>(b.replayed));
    });
    return core::Result<RedisParts>(std::move(parts));
}

void AddRedisHealth(services::Health& health, RedisParts& parts) {
    if (!parts.impl) return;
    RedisParts::Impl* impl = parts.impl.get();
    health.AddInformationalCheck("redis", [impl]() {
        auto s = impl->commands.stats();
        auto l = impl->limiter.state();
        nlohmann::json j = {{"ok", s.up && !l.fallback},
                            {"url", impl->commands.redacted_url()},
                            {"fallback", l.fallback},
                            {"live_hubs", l.live_hubs},
                            {"share", l.share}};
        std::string err = !l.last_error.empty() ? l.last_error : s.last_error;
        if (!err.empty()) j["last_error"] = err;
        return j;
    });
}

void StartRedis(RedisParts& parts) {
    if (!parts.impl) return;
    parts.impl->bus.Start();
    parts.impl->limiter.Start();
    parts.impl->subscriber.Start();
    parts.impl->commands.Start();
}

}  // namespace hub::app
