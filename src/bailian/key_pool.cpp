#include "bailian/key_pool.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <random>
#include <utility>

namespace hub::bailian {

namespace detail {

struct Key {
    std::uint64_t serial = 0;
    std::string id;
    std::string name;
    std::string last4;
    core::Secret<std::string> secret;
    int weight = 1;
    KeyState state = KeyState::kActive;
    KeyState before_probe = KeyState::kCooling;  // where an abandoned probe returns to
    bool admin_disabled = false;
    bool retired = false;
    std::int64_t due_ms = 0;  // cooling / auto-disabled: when a probe may go
    int cool_level = 0;       // consecutive coolings (exponent of the backoff)
    int auth_level = 0;       // consecutive auth disables
    int server_error_streak = 0;
    int consecutive_failures = 0;
    std::uint64_t epoch = 0;
    int in_flight = 0;
    std::int64_t total_requests = 0;
    std::int64_t total_failures = 0;
    // Calls and failures per minute over the last hour (a ring indexed by minute % 60).
    struct Minute {
        std::int64_t minute = -1;
        std::int64_t requests = 0;
        std::int64_t failures = 0;
    };
    std::array<Minute, 60> window{};
    std::string last_error;
    std::int64_t last_error_ms = 0;

    Minute& At(std::int64_t now_ms) {
        std::int64_t m = now_ms / 60'000;
        Minute& slot = window[static_cast<std::size_t>(m % 60)];
        if (slot.minute != m) slot = Minute{m, 0, 0};
        return slot;
    }
};

struct PoolState {
    PoolState(const core::Clock& c, KeyPoolOptions o) : clock(c), options(std::move(o)) {}

    Key* FindId(std::string_view id) {
        for (Key& k : keys) {
            if (k.id == id) return &k;
        }
        return nullptr;
    }
    Key* FindSerial(std::uint64_t serial) {
        for (Key& k : keys) {
            if (k.serial == serial) return &k;
        }
        return nullptr;
    }
    void NewEpoch(Key& k) { k.epoch = ++epoch_counter; }

    void Complete(std::uint64_t serial, std::uint64_t epoch, KeyOutcome outcome);
    void Cool(Key& k, std::int64_t now);
    void DisableForAuth(Key& k, std::int64_t now);
    void FinishRetiring(Key& k);

    mutable std::mutex mu;
    const core::Clock& clock;
    const KeyPoolOptions options;
    std::mt19937_64 rng;
    std::vector<Key> keys;
    std::uint64_t serial_counter = 0;
    std::uint64_t epoch_counter = 0;
    bool alive = true;  // false once the KeyPool is gone: leases become inert
};

namespace {

std::int64_t Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, int level) {
    std::int64_t d = std::max<std::int64_t>(base.count(), 1);
    for (int i = 0; i < level && d < max.count(); ++i) d *= 2;
    return std::min<std::int64_t>(d, max.count());
}

}  // namespace

void PoolState::Cool(Key& k, std::int64_t now) {
    k.due_ms = now + Backoff(options.cooldown_base, options.cooldown_max, k.cool_level);
    ++k.cool_level;
    k.server_error_streak = 0;
    k.state = KeyState::kCooling;
    NewEpoch(k);
}

void PoolState::DisableForAuth(Key& k, std::int64_t now) {
    k.due_ms = now + Backoff(options.auth_reprobe_base, options.auth_reprobe_max, k.auth_level);
    ++k.auth_level;
    k.state = KeyState::kDisabled;
    NewEpoch(k);
}

void PoolState::FinishRetiring(Key& k) {
    k.state = KeyState::kDisabled;
    k.admin_disabled = true;
    k.retired = true;
    k.due_ms = 0;
    NewEpoch(k);
}

void PoolState::Complete(std::uint64_t serial, std::uint64_t epoch, KeyOutcome outcome) {
    std::lock_guard lock(mu);
    if (!alive) return;
    Key* k = FindSerial(serial);
    if (k == nullptr) return;  // removed meanwhile
    --k->in_flight;
    const bool failure = outcome == KeyOutcome::kThrottled || outcome == KeyOutcome::kAuthFailed ||
                         outcome == KeyOutcome::kServerError;
    if (failure) {
        const std::int64_t at = clock.NowMs();
        ++k->total_failures;
        ++k->At(at).failures;
        k->last_error = outcome == KeyOutcome::kThrottled    ? "throttled"
                        : outcome == KeyOutcome::kAuthFailed ? "auth_failed"
                                                             : "server_error";
        k->last_error_ms = at;
    }
    if (k->state == KeyState::kRetiring) {
        if (k->in_flight == 0) FinishRetiring(*k);
        return;
    }
    if (epoch != k->epoch) return;  // a verdict from before the key's last state change

    const std::int64_t now = clock.NowMs();
    const bool probing = k->state == KeyState::kProbing;
    if (failure) ++k->consecutive_failures;
    switch (outcome) {
        case KeyOutcome::kSuccess:
            k->consecutive_failures = 0;
            k->server_error_streak = 0;
            if (probing) {
                k->state = KeyState::kActive;
                k->cool_level = 0;
                k->auth_level = 0;
                k->due_ms = 0;
                NewEpoch(*k);
            }
            break;
        case KeyOutcome::kThrottled:
            Cool(*k, now);
            break;
        case KeyOutcome::kServerError:
            ++k->server_error_streak;
            if (probing || k->server_error_streak >= options.server_errors_to_cool) Cool(*k, now);
            break;
        case KeyOutcome::kAuthFailed:
            DisableForAuth(*k, now);
            break;
        case KeyOutcome::kAbandoned:
            if (probing) {  // no verdict: the probe is due again
                k->state = k->before_probe;
                NewEpoch(*k);
            }
            break;
    }
}

}  // namespace detail

std::string_view KeyStateName(KeyState s) {
    switch (s) {
        case KeyState::kActive:
            return "active";
        case KeyState::kCooling:
            return "cooling";
        case KeyState::kProbing:
            return "probing";
        case KeyState::kDisabled:
            return "disabled";
        case KeyState::kRetiring:
            return "retiring";
    }
    return "unknown";
}

// ---- KeyLease ----

KeyLease::KeyLease(KeyLease&& other) noexcept
    : pool_(std::move(other.pool_)),
      serial_(other.serial_),
      epoch_(other.epoch_),
      probe_(other.probe_),
      key_id_(std::move(other.key_id_)),
      key_name_(std::move(other.key_name_)),
      last4_(std::move(other.last4_)),
      secret_(std::move(other.secret_)) {
    other.pool_ = nullptr;
}

KeyLease& KeyLease::operator=(KeyLease&& other) noexcept {
    if (this != &other) {
        Complete(KeyOutcome::kAbandoned);
        pool_ = std::move(other.pool_);
        other.pool_ = nullptr;
        serial_ = other.serial_;
        epoch_ = other.epoch_;
        probe_ = other.probe_;
        key_id_ = std::move(other.key_id_);
        key_name_ = std::move(other.key_name_);
        last4_ = std::move(other.last4_);
        secret_ = std::move(other.secret_);
    }
    return *this;
}

KeyLease::~KeyLease() { Complete(KeyOutcome::kAbandoned); }

void KeyLease::Complete(KeyOutcome outcome) {
    if (pool_ == nullptr) return;
    auto pool = std::move(pool_);
    pool_ = nullptr;
    pool->Complete(serial_, epoch_, outcome);
}

// ---- KeyPool ----

namespace {

core::Error NotFound(std::string_view id) {
    return core::Error::Make(core::ErrorCode::kNotFound, "not_found", "Upstream key not found.",
                             "upstream key " + std::string(id) + " not in pool");
}

core::Result<void> Validate(const UpstreamKey& key) {
    if (key.id.empty() || key.secret.empty()) {
        return core::Error::Make(core::ErrorCode::kInvalidArgument, "validation_failed",
                                 "An upstream key needs an id and a secret.");
    }
    if (key.weight < 1 || key.weight > 1000) {
        return core::Error::Make(core::ErrorCode::kInvalidArgument, "validation_failed",
                                 "Key weight must be between 1 and 1000.");
    }
    return core::Ok();
}

std::string Last4(const std::string& secret) {
    return secret.size() >= 8 ? secret.substr(secret.size() - 4) : std::string();
}

bool Excluded(const std::vector<std::string>& exclude, const std::string& id) {
    return std::find(exclude.begin(), exclude.end(), id) != exclude.end();
}

// A key that is down but will be probed: cooling, or disabled by an auth failure.
bool Probeable(const detail::Key& k) {
    return k.state == KeyState::kCooling || (k.state == KeyState::kDisabled && !k.admin_disabled);
}

// Both with the pool's mutex held.
core::Result<void> AddLocked(detail::PoolState& st, UpstreamKey key) {
    if (auto v = Validate(key); !v) return v;
    if (st.FindId(key.id) != nullptr) {
        return core::Error::Make(core::ErrorCode::kConflict, "conflict",
                                 "An upstream key with this id already exists.");
    }
    detail::Key k;
    k.serial = ++st.serial_counter;
    k.last4 = Last4(key.secret.Reveal());
    k.id = std::move(key.id);
    k.name = std::move(key.name);
    k.secret = std::move(key.secret);
    k.weight = key.weight;
    st.NewEpoch(k);
    st.keys.push_back(std::move(k));
    return core::Ok();
}

core::Result<void> RetireLocked(detail::PoolState& st, std::string_view id) {
    detail::Key* k = st.FindId(id);
    if (k == nullptr) return NotFound(id);
    if (k->state == KeyState::kRetiring || k->retired) return core::Ok();
    k->state = KeyState::kRetiring;
    st.NewEpoch(*k);
    if (k->in_flight == 0) st.FinishRetiring(*k);
    return core::Ok();
}

}  // namespace

KeyPool::KeyPool(const core::Clock& clock, KeyPoolOptions options)
    : state_(std::make_shared<detail::PoolState>(clock, std::move(options))) {
    if (state_->options.seed) {
        state_->rng.seed(*state_->options.seed);
    } else {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd()};
        state_->rng.seed(seq);
    }
}

KeyPool::~KeyPool() {
    std::lock_guard lock(state_->mu);
    state_->alive = false;
}

core::Result<void> KeyPool::Add(UpstreamKey key) {
    std::lock_guard lock(state_->mu);
    return AddLocked(*state_, std::move(key));
}

core::Result<void> KeyPool::Rotate(std::string_view old_id, UpstreamKey replacement) {
    std::lock_guard lock(state_->mu);
    if (state_->FindId(old_id) == nullptr) return NotFound(old_id);
    if (auto r = AddLocked(*state_, std::move(replacement)); !r) return r;
    return RetireLocked(*state_, old_id);
}

core::Result<void> KeyPool::Retire(std::string_view id) {
    std::lock_guard lock(state_->mu);
    return RetireLocked(*state_, id);
}

core::Result<void> KeyPool::Enable(std::string_view id) {
    std::lock_guard lock(state_->mu);
    detail::Key* k = state_->FindId(id);
    if (k == nullptr) return NotFound(id);
    k->state = KeyState::kActive;
    k->admin_disabled = false;
    k->retired = false;
    k->due_ms = 0;
    k->cool_level = 0;
    k->auth_level = 0;
    k->server_error_streak = 0;
    k->consecutive_failures = 0;
    state_->NewEpoch(*k);
    return core::Ok();
}

core::Result<void> KeyPool::Disable(std::string_view id) {
    std::lock_guard lock(state_->mu);
    detail::Key* k = state_->FindId(id);
    if (k == nullptr) return NotFound(id);
    k->state = KeyState::kDisabled;
    k->admin_disabled = true;
    k->due_ms = 0;
    state_->NewEpoch(*k);
    return core::Ok();
}

core::Result<void> KeyPool::SetWeight(std::string_view id, int weight) {
    if (weight < 1 || weight > 1000) {
        return core::Error::Make(core::ErrorCode::kInvalidArgument, "validation_failed",
                                 "Key weight must be between 1 and 1000.");
    }
    std::lock_guard lock(state_->mu);
    detail::Key* k = state_->FindId(id);
    if (k == nullptr) return NotFound(id);
    k->weight = weight;
    return core::Ok();
}

core::Result<void> KeyPool::Remove(std::string_view id) {
    std::lock_guard lock(state_->mu);
    auto& keys = state_->keys;
    auto it = std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.id == id; });
    if (it == keys.end()) return NotFound(id);
    keys.erase(it);
    return core::Ok();
}

core::Result<KeyLease> KeyPool::Acquire(const std::vector<std::string>& exclude) {
    std::lock_guard lock(state_->mu);
    const std::int64_t now = state_->clock.NowMs();
    auto& keys = state_->keys;

    // The down key (not excluded) whose probe is due soonest.
    detail::Key* soonest = nullptr;
    for (detail::Key& k : keys) {
        if (!Probeable(k) || Excluded(exclude, k.id)) continue;
        if (soonest == nullptr || k.due_ms < soonest->due_ms) soonest = &k;
    }

    detail::Key* chosen = nullptr;
    bool probe = false;
    if (soonest != nullptr && soonest->due_ms <= now) {
        chosen = soonest;  // (1) a due probe goes first, so down keys come back
        probe = true;
    } else {
        std::int64_t total = 0;  // (2) weighted choice among active keys
        for (const detail::Key& k : keys) {
            if (k.state == KeyState::kActive && !Excluded(exclude, k.id)) total += k.weight;
        }
        if (total > 0) {
            std::int64_t pick =
                std::uniform_int_distribution<std::int64_t>(0, total - 1)(state_->rng);
            for (detail::Key& k : keys) {
                if (k.state != KeyState::kActive || Excluded(exclude, k.id)) continue;
                if (pick < k.weight) {
                    chosen = &k;
                    break;
                }
                pick -= k.weight;
            }
        } else if (soonest != nullptr && state_->options.probe_early_when_all_down) {
            chosen = soonest;  // (3) nothing healthy: keep probing
            probe = true;
        }
    }
    if (chosen == nullptr) {
        return core::Error::Make(core::ErrorCode::kUnavailable, "no_upstream_key",
                                 "No upstream API key is available right now.",
                                 "key pool: " + std::to_string(keys.size()) + " keys, " +
                                     std::to_string(exclude.size()) + " excluded, none usable");
    }
    if (probe) {
        chosen->before_probe = chosen->state;
        chosen->state = KeyState::kProbing;
        state_->NewEpoch(*chosen);
    }
    ++chosen->in_flight;
    ++chosen->total_requests;
    ++chosen->At(now).requests;

    KeyLease lease;
    lease.pool_ = state_;
    lease.serial_ = chosen->serial;
    lease.epoch_ = chosen->epoch;
    lease.probe_ = probe;
    lease.key_id_ = chosen->id;
    lease.key_name_ = chosen->name;
    lease.last4_ = chosen->last4;
    lease.secret_ = chosen->secret;
    return lease;
}

std::vector<KeyHealth> KeyPool::Snapshot() const {
    std::lock_guard lock(state_->mu);
    const std::int64_t now_minute = state_->clock.NowMs() / 60'000;
    std::vector<KeyHealth> out;
    out.reserve(state_->keys.size());
    for (const detail::Key& k : state_->keys) {
        KeyHealth h;
        h.id = k.id;
        h.name = k.name;
        h.last4 = k.last4;
        h.state = k.state;
        h.admin_disabled = k.admin_disabled;
        h.retired = k.retired;
        h.weight = k.weight;
        h.cooldown_until_ms = Probeable(k) ? k.due_ms : 0;
        h.in_flight = k.in_flight;
        h.consecutive_failures = k.consecutive_failures;
        h.total_requests = k.total_requests;
        h.total_failures = k.total_failures;
        for (const auto& slot : k.window) {
            if (slot.minute > now_minute - 60 && slot.minute <= now_minute) {
                h.calls_last_hour += slot.requests;
                h.errors_last_hour += slot.failures;
            }
        }
        h.last_error = k.last_error;
        h.last_error_ms = k.last_error_ms;
        out.push_back(std::move(h));
    }
    return out;
}

std::size_t KeyPool::HealthyCount() const {
    std::lock_guard lock(state_->mu);
    return static_cast<std::size_t>(
        std::count_if(state_->keys.begin(), state_->keys.end(),
                      [](const detail::Key& k) { return k.state == KeyState::kActive; }));
}

bool KeyPool::IsDrained(std::string_view id) const {
    std::lock_guard lock(state_->mu);
    const detail::Key* k = state_->FindId(id);
    return k == nullptr || (k->admin_disabled && k->in_flight == 0);
}

}  // namespace hub::bailian
