#pragma once
// The pool of upstream DashScope API keys: pure, clock-injected, thread-safe.
//
// Each key is a small state machine:
//
//   active --429 / 5xx--> cooling --cooldown over--> probing --success--> active
//     |                      ^                          |
//     |                      +------- 429 / 5xx --------+  (backoff doubles, capped)
//     +--401/403--> disabled --re-probe time over--> probing --401/403--> disabled (longer)
//   admin: Disable() -> disabled (never probed) / Enable() -> active
//   rotation: Retire() -> retiring (no new leases; in-flight ones finish) --drained--> disabled
//
// Acquire() picks: (1) a key whose probe is due (one request is let through as the probe),
// else (2) a weighted random choice among active keys, else (3) when nothing is healthy the
// down key whose probe is due soonest is probed early, so the pool never stops trying. It
// returns a lease that the caller completes with the outcome of the upstream call.
//
// Verdicts are tied to the key's state when the lease was taken: outcomes of requests
// started before a state change (e.g. ten concurrent 429s) change the state at most once.
// Secrets are held as core::Secret and only leave through KeyLease::secret().
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"

namespace hub::bailian {

enum class KeyState { kActive, kCooling, kProbing, kDisabled, kRetiring };
std::string_view KeyStateName(KeyState s);  // "active", "cooling", "probing", ...

// What the upstream call said about the key (error_policy.hpp maps failures to these).
enum class KeyOutcome {
    kSuccess,      // the key works (also when upstream rejected the request's content)
    kThrottled,    // 429 throttling
    kAuthFailed,   // 401/403 about the key or its account
    kServerError,  // 5xx, timeout, connection failure
    kAbandoned,    // no verdict (client left, cancelled): only releases the lease
};

struct UpstreamKey {
    std::string id;
    std::string name;
    core::Secret<std::string> secret;
    int weight = 1;  // 1..1000
};

// Per-key health for /readyz and the admin API. Never contains the secret.
struct KeyHealth {
    std::string id;
    std::string name;
    std::string last4;  // last 4 characters of the secret ("" for very short secrets)
    KeyState state = KeyState::kActive;
    bool admin_disabled = false;  // disabled by an admin or retired: never probed
    bool retired = false;         // drained after rotation
    int weight = 1;
    std::int64_t cooldown_until_ms = 0;  // cooling / auto-disabled: when the next probe is due
    int in_flight = 0;
    int consecutive_failures = 0;
    std::int64_t total_requests = 0;
    std::int64_t total_failures = 0;
    // The last 60 minutes (whole minutes, the current one included).
    std::int64_t calls_last_hour = 0;
    std::int64_t errors_last_hour = 0;
    std::string last_error;          // "throttled", "auth_failed", "server_error"; "" = none
    std::int64_t last_error_ms = 0;  // when (0 = never)
};

struct KeyPoolOptions {
    std::chrono::milliseconds cooldown_base{1000};  // first cooldown; doubles per failed probe
    std::chrono::milliseconds cooldown_max{std::chrono::minutes(2)};
    std::chrono::milliseconds auth_reprobe_base{std::chrono::minutes(5)};
    std::chrono::milliseconds auth_reprobe_max{std::chrono::hours(1)};
    int server_errors_to_cool = 3;  // consecutive 5xx (no success between) that cool a key
    bool probe_early_when_all_down = true;
    std::optional<std::uint64_t> seed;  // RNG seed for weighted choice (tests); random if unset
};

namespace detail {
struct PoolState;
}

// A key handed out for one upstream call. Complete() it with the outcome; a lease destroyed
// without Complete() counts as kAbandoned. Move-only; may outlive the pool (then it is inert).
class KeyLease {
public:
    KeyLease(KeyLease&& other) noexcept;
    KeyLease& operator=(KeyLease&& other) noexcept;
    KeyLease(const KeyLease&) = delete;
    KeyLease& operator=(const KeyLease&) = delete;
    ~KeyLease();

    const std::string& key_id() const { return key_id_; }
    const std::string& key_name() const { return key_name_; }
    const std::string& last4() const { return last4_; }
    const core::Secret<std::string>& secret() const { return secret_; }
    bool is_probe() const { return probe_; }
    bool completed() const { return pool_ == nullptr; }

    void Complete(KeyOutcome outcome);  // the first call counts; later calls are ignored

private:
    friend class KeyPool;
    KeyLease() = default;

    std::shared_ptr<detail::PoolState> pool_;
    std::uint64_t serial_ = 0;  // identifies the key instance (ids may be reused)
    std::uint64_t epoch_ = 0;   // the key's state epoch when leased
    bool probe_ = false;
    std::string key_id_;
    std::string key_name_;
    std::string last4_;
    core::Secret<std::string> secret_;
};

class KeyPool {
public:
    explicit KeyPool(const core::Clock& clock, KeyPoolOptions options = {});
    ~KeyPool();
    KeyPool(const KeyPool&) = delete;
    KeyPool& operator=(const KeyPool&) = delete;

    // kInvalidArgument: empty id or secret, weight outside 1..1000; kConflict: duplicate id.
    [[nodiscard]] core::Result<void> Add(UpstreamKey key);
    // Adds `replacement` as active and retires `old_id` (no new leases, in-flight ones finish,
    // then disabled). kNotFound if old_id is unknown; nothing changes on error.
    [[nodiscard]] core::Result<void> Rotate(std::string_view old_id, UpstreamKey replacement);
    [[nodiscard]] core::Result<void> Retire(std::string_view id);
    [[nodiscard]] core::Result<void> Enable(std::string_view id);   // admin: back to active
    [[nodiscard]] core::Result<void> Disable(std::string_view id);  // admin: no traffic at all
    [[nodiscard]] core::Result<void> SetWeight(std::string_view id, int weight);
    // Forgets the key; outstanding leases keep their copy of the secret and complete inertly.
    [[nodiscard]] core::Result<void> Remove(std::string_view id);

    // A lease on the best key, skipping the ids in `exclude` (keys this request already
    // tried). kUnavailable "no_upstream_key" when nothing can be tried.
    [[nodiscard]] core::Result<KeyLease> Acquire(const std::vector<std::string>& exclude = {});

    std::vector<KeyHealth> Snapshot() const;
    std::size_t HealthyCount() const;  // keys in state active
    // True when no lease on the key is out and none will be given: retired, or disabled by
    // an admin, with nothing in flight (or the key is unknown).
    bool IsDrained(std::string_view id) const;

private:
    std::shared_ptr<detail::PoolState> state_;
};

}  // namespace hub::bailian
