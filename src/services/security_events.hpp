#pragma once
// Security events: the hub watches its own audit trail (as services::AppendAudit writes it)
// and the calls it records, and turns what looks like an attack into a stored event, a
// /metrics counter and, where configured, a lock:
//
//   brute_force          N failed password sign-ins on one account within a window
//                        -> the account's password sign-in is locked for a while
//   credential_stuffing  one IP failing against N different accounts within a window
//   refresh_reuse        a dead refresh token presented again (audit auth.refresh_reuse)
//   admin_new_range      an admin signing in from a /24 (IPv4) or /48 (IPv6) never seen for them
//   mfa_failures         N failed second-factor codes (audit auth.mfa_failed) within a window
//   spend_spike          a user's or a platform key's spend in a short window at least
//                        `spend_min_micro_cny` and `spend_factor` times its average spend per
//                        such window over the baseline period before it
//                        -> a key is suspended for a while
//
// One event per incident: after an event fires for (kind, subject) no second one fires for it
// within that kind's window. Detection (SecurityDetector) is pure and clock-driven; the
// service stores events and locks and answers the admin API.
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "async/offload.hpp"
#include "auth/rbac.hpp"
#include "cache/bus.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "services/audit.hpp"
#include "services/usage.hpp"
#include "store/store.hpp"

namespace hub::services {

namespace security_kind {
inline constexpr std::string_view kBruteForce = "brute_force";
inline constexpr std::string_view kCredentialStuffing = "credential_stuffing";
inline constexpr std::string_view kRefreshReuse = "refresh_reuse";
inline constexpr std::string_view kAdminNewRange = "admin_new_range";
inline constexpr std::string_view kMfaFailures = "mfa_failures";
inline constexpr std::string_view kSpendSpike = "spend_spike";
}  // namespace security_kind
// Every kind, for /metrics (each is exported, 0 until it happens).
const std::vector<std::string_view>& SecurityEventKinds();

struct SecurityEventsConfig {
    int brute_force_failures = 5;
    std::int64_t brute_force_window_ms = 15 * 60'000;
    std::int64_t brute_force_lock_ms = 15 * 60'000;  // 0 = no lock, only the event
    int stuffing_accounts = 10;
    std::int64_t stuffing_window_ms = 10 * 60'000;
    int mfa_failures = 3;
    std::int64_t mfa_window_ms = 15 * 60'000;
    std::int64_t mfa_lock_ms = 0;
    std::int64_t refresh_reuse_window_ms = 60 * 60'000;  // one event per user per hour
    bool admin_new_range = true;
    std::int64_t admin_range_window_ms = 24 * 3600'000;  // one event per admin and range a day
    std::int64_t spend_window_ms = 5 * 60'000;
    std::int64_t spend_baseline_ms = 24 * 3600'000;
    std::int64_t spend_min_micro_cny = 1'000'000;  // 1 CNY
    double spend_factor = 10.0;
    std::int64_t spend_key_suspend_ms = 60 * 60'000;  // 0 = no suspension
};

// The /24 (IPv4) or /48 (IPv6) an address belongs to, e.g. "203.0.113.0/24"; "" when `ip`
// is not an address.
std::string IpRange(std::string_view ip);

// What a detector found.
struct Detection {
    std::string kind;
    std::string severity;  // low | medium | high
    std::optional<std::string> user_id;
    std::optional<std::string> api_key_id;
    std::string ip;
    nlohmann::json detail = nlohmann::json::object();
    std::optional<std::string> lock_subject;  // "user:<id>" or "api_key:<id>"
    std::int64_t lock_ms = 0;
};

// The detectors: pure state machines fed audit entries and recorded calls, with the clock
// injected. Not thread-safe; SecurityEvents serialises calls.
class SecurityDetector {
public:
    SecurityDetector(const core::Clock& clock, SecurityEventsConfig cfg)
        : clock_(clock), cfg_(cfg) {}

    // `is_admin`: whether the entry's actor is an admin (asked only for sign-ins);
    // `known_ranges`: the actor's earlier sign-in ranges (asked once per admin; empty = first
    // sign-in ever, which sets the baseline and is not an event).
    template <class IsAdmin, class KnownRanges>
    std::vector<Detection> OnAudit(const store::AuditEntry& e, IsAdmin is_admin,
                                   KnownRanges known_ranges);
    std::vector<Detection> OnCall(const store::ApiCall& call);

    const SecurityEventsConfig& config() const { return cfg_; }

private:
    std::vector<Detection> OnLoginFailed(const store::AuditEntry& e);
    std::vector<Detection> OnAdminLogin(const store::AuditEntry& e,
                                        const std::vector<std::string>& earlier_ranges);
    std::optional<Detection> OnSpend(const std::string& subject, std::int64_t cost,
                                     std::int64_t at);
    // true (and remembered) unless an event of `kind` for `subject` fired within `window_ms`.
    bool FirstInWindow(std::string_view kind, const std::string& subject, std::int64_t window_ms);
    // Times in `times` within the window ending now (older ones dropped), after adding now.
    static std::size_t CountRecent(std::deque<std::int64_t>& times, std::int64_t now,
                                   std::int64_t window_ms);

    const core::Clock& clock_;
    SecurityEventsConfig cfg_;
    std::map<std::string, std::deque<std::int64_t>> login_failures_;  // by user id
    std::map<std::string, std::deque<std::int64_t>> mfa_failures_;    // by user id
    // by IP: (time, account key) of failed sign-ins
    std::map<std::string, std::deque<std::pair<std::int64_t, std::string>>> ip_failures_;
    std::map<std::string, std::set<std::string>> admin_ranges_;  // by user id (loaded once)
    // A subject's calls (time, cost) of the baseline period, oldest first; the first `split`
    // are older than the spend window. The two sums are kept as calls come and go, so a call
    // costs O(1) amortised, not a pass over up to kMaxSpendRows calls (it did: ~9 % of the
    // hub's CPU per proxied call).
    struct SpendTrail {
        std::deque<std::pair<std::int64_t, std::int64_t>> rows;
        std::size_t split = 0;
        std::int64_t before = 0;  // cost of rows[0, split)
        std::int64_t recent = 0;  // cost of rows[split, end)
    };
    std::map<std::string, SpendTrail> spend_;  // by subject
    std::map<std::string, std::int64_t> last_fired_;  // "kind|subject" -> when
};

// Locks in force, consulted on every password sign-in and platform-key call.
class SecurityLocks {
public:
    virtual ~SecurityLocks() = default;
    // When the lock on "user:<id>" / "api_key:<id>" ends; nullopt = not locked.
    virtual std::optional<std::int64_t> LockedUntil(std::string_view subject) const = 0;
};

class SecurityEvents final : public store::AuditObserver,
                             public CallObserver,
                             public SecurityLocks {
public:
    SecurityEvents(store::Store& store, async::WorkerPool& db, const auth::RoleTable& roles,
                   const core::Clock& clock, SecurityEventsConfig cfg = {});

    // Loads the locks still in force (blocking, at start-up).
    core::Result<void> LoadBlocking();
    // Tells the other hubs when a lock is set or lifted here (kept as long as the longest
    // lock lasts), and re-reads a lock from the database (db pool) when another hub changed
    // it; every lock on kBusResynced. Once at start-up, before the bus starts.
    void Connect(cache::Bus& bus);
    void Apply(const cache::BusEvent& event);  // the bus handler (public for tests)
    // The database's word on `subject`'s lock (nullopt = every subject). Blocking.
    core::Result<void> ReloadLockBlocking(std::optional<std::string> subject);

    // store::AuditObserver: on the db pool, right after the entry was written.
    void OnAudit(const store::AuditEntry& entry) override;
    // CallObserver: on the recording thread; storing an event is handed to the db pool.
    void OnCall(const store::ApiCall& call) override;
    std::optional<std::int64_t> LockedUntil(std::string_view subject) const override;

    // security:read.
    net::awaitable<core::Result<store::Page<store::SecurityEvent>>> List(
        auth::Principal who, store::SecurityEventFilter filter, store::PageRequest page);
    // Lifts the lock the event set (security:read) and records its end (locked_until = now);
    // audited as security.unlock. Unlocking an event that set no lock, or whose lock is over,
    // is fine.
    net::awaitable<core::Result<store::SecurityEvent>> Unlock(auth::Principal who, std::string id,
                                                              RequestMeta meta);

    // Events detected since start, by kind (/metrics).
    std::map<std::string, std::int64_t> Counts() const;

private:
    void Emit(const std::vector<Detection>& found);  // blocking (db pool)
    bool IsAdmin(const std::string& user_id);
    void PublishLock(const std::string& subject);
    std::vector<std::string> EarlierRanges(const std::string& user_id,
                                           const std::string& except_entry_id);

    store::Store& store_;
    async::WorkerPool& db_;
    const auth::RoleTable& roles_;
    const core::Clock& clock_;
    mutable std::mutex detect_mu_;  // the detector
    SecurityDetector detector_;
    mutable std::mutex locks_mu_;
    std::map<std::string, std::int64_t, std::less<>> locks_;  // subject -> until
    cache::Bus* bus_ = nullptr;
    std::int64_t longest_lock_ms_ = 0;
    mutable std::mutex counts_mu_;
    std::map<std::string, std::int64_t> counts_;
};

// ---- template body ----

template <class IsAdmin, class KnownRanges>
std::vector<Detection> SecurityDetector::OnAudit(const store::AuditEntry& e, IsAdmin is_admin,
                                                 KnownRanges known_ranges) {
    if (e.action == "auth.login_failed") return OnLoginFailed(e);
    std::int64_t now = clock_.NowMs();
    if (e.action == "auth.refresh_reuse" && e.actor_user_id) {
        if (!FirstInWindow(security_kind::kRefreshReuse, *e.actor_user_id,
                           cfg_.refresh_reuse_window_ms))
            return {};
        Detection d{std::string(security_kind::kRefreshReuse), "high", e.actor_user_id,
                    std::nullopt, e.ip};
        // Member by member: clang (the sanitizer build) leaked the replaced object when this
        // template assigned a whole braced list to `detail`.
        d.detail["target"] = e.target;
        d.detail["audit_id"] = e.id;
        return {d};
    }
    if (e.action == "auth.mfa_failed" && e.actor_user_id) {
        auto& times = mfa_failures_[*e.actor_user_id];
        std::size_t n = CountRecent(times, now, cfg_.mfa_window_ms);
        if (n < static_cast<std::size_t>(cfg_.mfa_failures) ||
            !FirstInWindow(security_kind::kMfaFailures, *e.actor_user_id, cfg_.mfa_window_ms))
            return {};
        Detection d{std::string(security_kind::kMfaFailures), "medium", e.actor_user_id,
                    std::nullopt, e.ip};
        d.detail["failures"] = n;
        d.detail["window_s"] = cfg_.mfa_window_ms / 1000;
        if (cfg_.mfa_lock_ms > 0) {
            d.lock_subject = "user:" + *e.actor_user_id;
            d.lock_ms = cfg_.mfa_lock_ms;
        }
        return {d};
    }
    if (e.action == "auth.login" && e.actor_user_id && cfg_.admin_new_range &&
        !IpRange(e.ip).empty() && is_admin(*e.actor_user_id)) {
        auto it = admin_ranges_.find(*e.actor_user_id);
        if (it == admin_ranges_.end()) {
            std::vector<std::string> earlier = known_ranges(*e.actor_user_id, e.id);
            return OnAdminLogin(e, earlier);
        }
        return OnAdminLogin(e, {});
    }
    return {};
}

}  // namespace hub::services
