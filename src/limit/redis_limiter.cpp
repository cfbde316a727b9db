#include "limit/redis_limiter.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <cmath>
#include <cstdio>

#include <boost/asio/use_future.hpp>

#include "redis/client.hpp"

namespace hub::limit {

using core::Error;
using core::ErrorCode;
using core::Result;

namespace {

// One script for checks and adjustments. KEYS: the buckets. ARGV: mode ("check" | "adjust"),
// now (ms; 0 = Redis' TIME), then capacity, rate per second, cost (or delta) per bucket.
// A bucket is a hash {t = tokens, u = updated ms, c = capacity, r = rate}; the arithmetic is
// TokenBucket's (limit/token_bucket.cpp), numbers stored with 17 digits so none is lost.
// Returns, per bucket: allowed (1/0), limit, remaining, retry_after_ms, reset_ms.
constexpr const char* kScript = R"LUA(
local mode = ARGV[1]
local now = tonumber(ARGV[2])
if now <= 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local eps = 1e-9
local n = #KEYS
local b = {}
for i = 1, n do
  local base = 2 + (i - 1) * 3
  local cap = tonumber(ARGV[base + 1])
  local rate = tonumber(ARGV[base + 2])
  local cost = tonumber(ARGV[base + 3])
  local h = redis.call('HMGET', KEYS[i], 't', 'u', 'c', 'r')
  local tokens, upd, ocap, orate = tonumber(h[1]), tonumber(h[2]), tonumber(h[3]), tonumber(h[4])
  if tokens == nil or upd == nil or ocap == nil or orate == nil then
    tokens, upd, ocap, orate = cap, now, cap, rate
  end
  if now > upd then
    tokens = math.min(ocap, tokens + (now - upd) * orate / 1000)
    if tokens > ocap - eps then tokens = ocap end
    upd = now
  end
  if ocap ~= cap or orate ~= rate then tokens = math.min(tokens, cap) end
  b[i] = {tokens = tokens, upd = upd, cap = cap, rate = rate, cost = cost}
end
local function ms_until(x, target)
  local missing = target - x.tokens
  if missing <= eps then return 0 end
  return math.ceil(missing * 1000 / x.rate - 1e-6)
end
local function save(k, x)
  redis.call('HSET', k, 't', string.format('%.17g', x.tokens), 'u', string.format('%.17g', x.upd),
             'c', string.format('%.17g', x.cap), 'r', string.format('%.17g', x.rate))
  local ttl = ms_until(x, x.cap)
  if ttl < 1 then ttl = 1 end
  redis.call('PEXPIRE', k, ttl)
end
if mode == 'adjust' then
  for i = 1, n do
    local x = b[i]
    x.tokens = math.max(-x.cap, math.min(x.cap, x.tokens + x.cost))
    save(KEYS[i], x)
  end
  return 1
end
local all = true
for i = 1, n do
  local x = b[i]
  if not (x.cost > 0) then x.cost = 0 end
  x.ok = (x.cost <= x.cap + eps) and (x.tokens + eps >= x.cost)
  if not x.ok then all = false end
end
local out = {}
for i = 1, n do
  local x = b[i]
  local retry = 0
  if all then
    x.tokens = math.max(0, x.tokens - x.cost)
    save(KEYS[i], x)
  elseif not x.ok then
    retry = ms_until(x, math.min(x.cost, x.cap))
    if retry == 0 then retry = 1 end
  end
  local allowed = 0
  if x.ok then allowed = 1 end
  out[#out + 1] = allowed
  out[#out + 1] = math.floor(x.cap + eps)
  out[#out + 1] = math.max(0, math.floor(x.tokens + eps))
  out[#out + 1] = retry
  out[#out + 1] = ms_until(x, x.cap)
end
return out
)LUA";

// Announces this hub (a key that expires) and counts the live ones (a sorted set scored by
// expiry). KEYS: bh:hub:<id>, bh:hubs. ARGV: id, ttl ms.
constexpr const char* kHeartbeat = R"LUA(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], '1', 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('PEXPIRE', KEYS[2], ttl * 10)
return redis.call('ZCARD', KEYS[2])
)LUA";

std::string Num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

Error Failed(std::string why) {
    return Error::Make(ErrorCode::kUnavailable, "redis_unavailable", why, why);
}

}  // namespace

struct RedisLimiter::Shared {
    redis::Client& client;
    RedisLimiterOptions options;
    net::steady_timer timer;
    std::atomic<bool> fallback{true};
    std::atomic<bool> stopped{false};
    std::atomic<int> live_hubs{1};
    mutable std::mutex mu;  // below
    std::string sha;        // of the loaded script; empty until the first probe
    std::string last_error;
    TransitionHandler on_transition;
    bool probing = false;

    Shared(net::io_context& io, redis::Client& c, RedisLimiterOptions o)
        : client(c), options(std::move(o)), timer(io) {}

    std::string Sha() const {
        std::lock_guard lock(mu);
        return sha;
    }

    void Trip(const std::string& why) {
        {
            std::lock_guard lock(mu);
            last_error = why;
        }
        if (fallback.exchange(true)) return;
        Tell(true, why);
    }

    void Recover() {
        if (!fallback.exchange(false)) return;
        {
            std::lock_guard lock(mu);
            last_error.clear();
        }
        Tell(false, "");
    }

    // Outside the lock: the handler may read state().
    void Tell(bool to_fallback, const std::string& why) {
        TransitionHandler h;
        {
            std::lock_guard lock(mu);
            h = on_transition;
        }
        if (h) h(to_fallback, why);
    }

    // Loads the script (SCRIPT LOAD is also the probe): true when Redis answered.
    net::awaitable<bool> Probe() {
        std::vector<std::string> args{"SCRIPT", "LOAD", kScript};
        auto r = co_await client.Command(std::move(args), options.timeout * 4);
        if (!r.ok() || r->type != redis::Reply::Type::kString) {
            std::lock_guard lock(mu);
            last_error = r.ok() ? "SCRIPT LOAD: " + r->str : r.error().public_message;
            co_return false;
        }
        {
            std::lock_guard lock(mu);
            sha = r->str;
        }
        co_return true;
    }

    net::awaitable<void> Heartbeat() {
        std::string ttl = std::to_string(options.heartbeat_every.count() * 3);
        std::vector<std::string> args{"EVAL",
                                      kHeartbeat,
                                      "2",
                                      options.prefix + "hub:" + options.instance_id,
                                      options.prefix + "hubs",
                                      options.instance_id,
                                      ttl};
        auto r = co_await client.Command(std::move(args), options.timeout * 4);
        if (r.ok() && r->type == redis::Reply::Type::kInteger && r->integer > 0) {
            live_hubs.store(static_cast<int>(std::min<long long>(r->integer, 1000)));
        }
    }

    static net::awaitable<void> Loop(std::shared_ptr<Shared> self) {
        auto last_beat = std::chrono::steady_clock::now() - self->options.heartbeat_every;
        while (!self->stopped) {
            if (self->client.up()) {
                auto now = std::chrono::steady_clock::now();
                if (now - last_beat >= self->options.heartbeat_every) {
                    last_beat = now;
                    co_await self->Heartbeat();
                }
                if (self->fallback && !self->stopped) {
                    if (co_await self->Probe()) self->Recover();
                }
            }
            if (self->stopped) break;
            self->timer.expires_after(self->options.probe_every);
            boost::system::error_code ec;
            co_await self->timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
    }
};

RedisLimiter::RedisLimiter(net::io_context& io, redis::Client& client,
                           const core::Clock& local_clock, RedisLimiterOptions options)
    : client_(client), options_(options),
      local_(local_clock, LocalLimiterOptions{options.default_config, 100'000, 16}),
      shared_(std::make_shared<Shared>(io, client, std::move(options))) {
    if (options_.fallback_share &&
        !(*options_.fallback_share > 0 && *options_.fallback_share <= 1)) {
        throw std::invalid_argument("RedisLimiter: fallback_share must be in (0, 1]");
    }
}

RedisLimiter::~RedisLimiter() { Stop(); }

void RedisLimiter::OnTransition(TransitionHandler handler) {
    std::lock_guard lock(shared_->mu);
    shared_->on_transition = std::move(handler);
}

void RedisLimiter::Start() {
    std::weak_ptr<Shared> weak = shared_;
    client_.OnState([weak](bool up) {
        auto s = weak.lock();
        if (!s) return;
        if (!up) {
            s->Trip("connection to Redis lost");
        } else {
            s->timer.cancel();  // probe at once
        }
    });
    net::co_spawn(shared_->timer.get_executor(), Shared::Loop(shared_), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
}

void RedisLimiter::Stop() {
    if (shared_->stopped.exchange(true)) return;
    {
        std::lock_guard lock(shared_->mu);
        shared_->on_transition = nullptr;
    }
    net::post(shared_->timer.get_executor(), [s = shared_]() { s->timer.cancel(); });
    client_.Send({"ZREM", options_.prefix + "hubs", options_.instance_id});
    client_.Send({"DEL", options_.prefix + "hub:" + options_.instance_id});
}

bool RedisLimiter::fallback_active() const { return shared_->fallback.load(); }

double RedisLimiter::share() const {
    if (options_.fallback_share) return *options_.fallback_share;
    return 1.0 / std::max(1, shared_->live_hubs.load());
}

LimiterState RedisLimiter::state() const {
    LimiterState s;
    s.fallback = fallback_active();
    s.live_hubs = shared_->live_hubs.load();
    s.share = share();
    std::lock_guard lock(shared_->mu);
    s.last_error = shared_->last_error;
    return s;
}

void RedisLimiter::Trip(const std::string& why) { shared_->Trip(why); }

void RedisLimiter::DecideLocally(std::span<BucketCheck> checks) {
    const double f = share();
    // This hub's share of each bucket; the caller's span keeps its own configs.
    std::array<BucketCheck, 8> scaled;
    if (checks.size() > scaled.size()) {  // never from Limits (at most 4): unscaled, not unchecked
        (void)local_.TryCheck(checks);
        return;
    }
    const std::size_t n = checks.size();
    for (std::size_t i = 0; i < n; ++i) {
        const BucketCheck& c = checks[i];
        BucketConfig cfg{std::max(1.0, c.config.capacity * f), c.config.refill_per_second * f};
        double cost = c.cost;
        if (cost <= c.config.capacity) cost = std::min(cost, cfg.capacity);
        scaled[i] = BucketCheck{c.key, cfg, cost, {}};
    }
    (void)local_.TryCheck(std::span<BucketCheck>(scaled.data(), n));
    for (std::size_t i = 0; i < n; ++i) checks[i].decision = scaled[i].decision;
}

bool RedisLimiter::TryCheck(std::span<BucketCheck> checks) {
    if (!fallback_active()) return false;
    DecideLocally(checks);
    return true;
}

net::awaitable<Result<void>> RedisLimiter::EvalChecks(std::span<BucketCheck> checks,
                                                      std::int64_t now_ms) {
    std::vector<std::string> args;
    args.reserve(5 + checks.size() * 4);
    std::string sha = shared_->Sha();
    args.emplace_back(sha.empty() ? "EVAL" : "EVALSHA");
    args.emplace_back(sha.empty() ? std::string(kScript) : sha);
    args.push_back(std::to_string(checks.size()));
    for (const auto& c : checks) args.push_back(options_.prefix + "rl:" + std::string(c.key));
    args.emplace_back("check");
    args.push_back(std::to_string(now_ms));
    for (const auto& c : checks) {
        args.push_back(Num(c.config.capacity));
        args.push_back(Num(c.config.refill_per_second));
        args.push_back(Num(c.cost > 0 ? c.cost : 0));
    }
    auto r = co_await client_.Command(args, options_.timeout);
    if (r.ok() && r->is_error() && r->str.rfind("NOSCRIPT", 0) == 0) {
        // Redis restarted or its scripts were flushed: send the script itself (this loads it).
        args[0] = "EVAL";
        args[1] = kScript;
        r = co_await client_.Command(args, options_.timeout);
    }
    if (!r.ok()) co_return r.error();
    if (r->is_error() || r->type != redis::Reply::Type::kArray ||
        r->elements.size() != checks.size() * 5) {
        client_.CountError(redis::ErrorKind::kReply);
        co_return Failed("unexpected reply from the limiter script: " +
                         (r->is_error() ? r->str : std::string("wrong shape")));
    }
    for (std::size_t i = 0; i < checks.size(); ++i) {
        const auto* e = &r->elements[i * 5];
        Decision& d = checks[i].decision;
        d.allowed = e[0].integer == 1;
        d.limit = e[1].integer;
        d.remaining = e[2].integer;
        d.retry_after_ms = e[3].integer;
        d.reset_ms = e[4].integer;
    }
    co_return core::Ok();
}

net::awaitable<void> RedisLimiter::CheckAsync(std::span<BucketCheck> checks) {
    if (checks.empty()) co_return;
    for (const auto& c : checks) {
        if (!c.config.valid()) {
            // A broken policy fails closed rather than letting everything through.
            for (auto& d : checks) d.decision = Decision{false, 0, 0, 60'000, 60'000};
            co_return;
        }
    }
    auto r = co_await EvalChecks(checks, 0);
    if (r.ok()) co_return;
    Trip(r.error().public_message);
    DecideLocally(checks);
}

net::awaitable<Result<void>> RedisLimiter::EvalAdjust(std::string key, BucketConfig config,
                                                      double delta, std::int64_t now_ms) {
    std::vector<std::string> args{"EVAL",
                                  kScript,
                                  "1",
                                  options_.prefix + "rl:" + key,
                                  "adjust",
                                  std::to_string(now_ms),
                                  Num(config.capacity),
                                  Num(config.refill_per_second),
                                  Num(delta)};
    auto r = co_await client_.Command(std::move(args), options_.timeout * 4);
    if (!r.ok()) co_return r.error();
    if (r->is_error()) co_return Failed(r->str);
    co_return core::Ok();
}

void RedisLimiter::Adjust(std::string_view key, const BucketConfig& config, double delta) {
    if (!config.valid() || !std::isfinite(delta) || delta == 0) return;
    if (fallback_active()) {
        const double f = share();
        BucketConfig cfg{std::max(1.0, config.capacity * f), config.refill_per_second * f};
        local_.Adjust(key, cfg, delta);
        return;
    }
    std::string sha = shared_->Sha();
    std::vector<std::string> args{sha.empty() ? "EVAL" : "EVALSHA",
                                  sha.empty() ? std::string(kScript) : sha,
                                  "1",
                                  options_.prefix + "rl:" + std::string(key),
                                  "adjust",
                                  "0",
                                  Num(config.capacity),
                                  Num(config.refill_per_second),
                                  Num(delta)};
    redis::Client& client = client_;
    client_.Send(args, [&client, args](const redis::Reply& reply) mutable {
        if (reply.is_error() && reply.str.rfind("NOSCRIPT", 0) == 0) {
            args[0] = "EVAL";
            args[1] = kScript;
            client.Send(std::move(args));
        }
    });
}

Decision RedisLimiter::CheckBlocking(std::string_view key, const BucketConfig& config,
                                     double cost) {
    BucketCheck one{key, config, cost, {}};
    if (TryCheck(std::span<BucketCheck>(&one, 1))) return one.decision;
    // The check outlives this frame if the wait below gives up: it owns its key.
    struct Owned {
        std::string key;
        BucketCheck check;
    };
    auto owned = std::make_shared<Owned>(Owned{std::string(key), {}});
    owned->check = BucketCheck{owned->key, config, cost, {}};
    auto run = [](RedisLimiter* self, std::shared_ptr<Owned> o) -> net::awaitable<void> {
        co_await self->CheckAsync(std::span<BucketCheck>(&o->check, 1));
    };
    auto done = net::co_spawn(shared_->timer.get_executor(), run(this, owned), net::use_future);
    if (done.wait_for(options_.timeout * 4 + std::chrono::milliseconds(100)) ==
        std::future_status::ready) {
        done.get();
        return owned->check.decision;
    }
    Trip("Redis did not answer in time");
    DecideLocally(std::span<BucketCheck>(&one, 1));
    return one.decision;
}

const char* RedisLimiter::Script() { return kScript; }

}  // namespace hub::limit
