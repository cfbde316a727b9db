#include "services/security_events.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <iterator>
#include <cstdio>

#include "cache/topics.hpp"
#include "core/id.hpp"
#include "obs/logging.hpp"

namespace hub::services {

using core::Error;
using core::ErrorCode;
using core::Result;

namespace {
constexpr std::size_t kMaxTracked = 20'000;  // subjects per map before it starts over
constexpr std::size_t kMaxSpendRows = 10'000;  // calls remembered per subject

template <class Map>
void Bound(Map& m) {
    if (m.size() > kMaxTracked) m.clear();
}
}  // namespace

const std::vector<std::string_view>& SecurityEventKinds() {
    static const std::vector<std::string_view> kinds = {
        security_kind::kBruteForce,    security_kind::kCredentialStuffing,
        security_kind::kRefreshReuse,  security_kind::kAdminNewRange,
        security_kind::kMfaFailures,   security_kind::kSpendSpike};
    return kinds;
}

std::string IpRange(std::string_view ip) {
    std::string s(ip);
    unsigned char buf[16];
    if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
        char out[32];
        std::snprintf(out, sizeof out, "%u.%u.%u.0/24", buf[0], buf[1], buf[2]);
        return out;
    }
    if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
        // An IPv4-mapped address is its IPv4 range.
        static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::equal(kMapped, kMapped + 12, buf)) {
            char out[32];
            std::snprintf(out, sizeof out, "%u.%u.%u.0/24", buf[12], buf[13], buf[14]);
            return out;
        }
        char out[48];
        std::snprintf(out, sizeof out, "%x:%x:%x::/48", (buf[0] << 8) | buf[1],
                      (buf[2] << 8) | buf[3], (buf[4] << 8) | buf[5]);
        return out;
    }
    return {};
}

// ---- the detector ----

std::size_t SecurityDetector::CountRecent(std::deque<std::int64_t>& times, std::int64_t now,
                                          std::int64_t window_ms) {
    times.push_back(now);
    while (!times.empty() && times.front() <= now - window_ms) times.pop_front();
    return times.size();
}

bool SecurityDetector::FirstInWindow(std::string_view kind, const std::string& subject,
                                     std::int64_t window_ms) {
    std::int64_t now = clock_.NowMs();
    std::string key = std::string(kind) + "|" + subject;
    auto it = last_fired_.find(key);
    if (it != last_fired_.end() && now - it->second < window_ms) return false;
    Bound(last_fired_);
    last_fired_[key] = now;
    return true;
}

std::vector<Detection> SecurityDetector::OnLoginFailed(const store::AuditEntry& e) {
    std::vector<Detection> out;
    auto detail = nlohmann::json::parse(e.detail, nullptr, false);
    std::string reason = detail.is_object() ? detail.value("reason", "") : "";
    // Refusals that did not try a password (rate limits, locks) are not guesses.
    if (reason != "bad_password" && reason != "unknown_user") return out;
    std::int64_t now = clock_.NowMs();
    if (e.actor_user_id && reason == "bad_password") {
        Bound(login_failures_);
        auto& times = login_failures_[*e.actor_user_id];
        std::size_t n = CountRecent(times, now, cfg_.brute_force_window_ms);
        if (n >= static_cast<std::size_t>(cfg_.brute_force_failures) &&
            FirstInWindow(security_kind::kBruteForce, *e.actor_user_id,
                          cfg_.brute_force_window_ms)) {
            Detection d{std::string(security_kind::kBruteForce), "high", e.actor_user_id,
                        std::nullopt, e.ip};
            d.detail = {{"failures", n}, {"window_s", cfg_.brute_force_window_ms / 1000}};
            if (cfg_.brute_force_lock_ms > 0) {
                d.lock_subject = "user:" + *e.actor_user_id;
                d.lock_ms = cfg_.brute_force_lock_ms;
            }
            out.push_back(std::move(d));
        }
    }
    if (!e.ip.empty()) {
        Bound(ip_failures_);
        auto& tries = ip_failures_[e.ip];
        // Unknown accounts count one each (the login name is not in the trail).
        tries.emplace_back(now, e.actor_user_id ? *e.actor_user_id : "?" + e.id);
        while (!tries.empty() && tries.front().first <= now - cfg_.stuffing_window_ms)
            tries.pop_front();
        if (tries.size() > kMaxSpendRows) tries.pop_front();
        std::set<std::string> accounts;
        for (const auto& t : tries) accounts.insert(t.second);
        if (accounts.size() >= static_cast<std::size_t>(cfg_.stuffing_accounts) &&
            FirstInWindow(security_kind::kCredentialStuffing, e.ip, cfg_.stuffing_window_ms)) {
            Detection d{std::string(security_kind::kCredentialStuffing), "high", std::nullopt,
                        std::nullopt, e.ip};
            d.detail = {{"accounts", accounts.size()},
                        {"failures", tries.size()},
                        {"window_s", cfg_.stuffing_window_ms / 1000}};
            out.push_back(std::move(d));
        }
    }
    return out;
}

std::vector<Detection> SecurityDetector::OnAdminLogin(
    const store::AuditEntry& e, const std::vector<std::string>& earlier_ranges) {
    const std::string& uid = *e.actor_user_id;
    std::string range = IpRange(e.ip);
    auto [it, fresh] = admin_ranges_.try_emplace(uid);
    std::set<std::string>& known = it->second;
    if (fresh) {
        for (const auto& r : earlier_ranges)
            if (!r.empty()) known.insert(r);
        if (known.empty()) {  // the first sign-in ever: the baseline, not an event
            known.insert(range);
            return {};
        }
    }
    if (known.count(range)) return {};
    known.insert(range);
    if (!FirstInWindow(security_kind::kAdminNewRange, uid + "|" + range,
                       cfg_.admin_range_window_ms))
        return {};
    Detection d{std::string(security_kind::kAdminNewRange), "medium", uid, std::nullopt, e.ip};
    d.detail = {{"range", range}, {"known_ranges", known.size() - 1}};
    return {d};
}

std::optional<Detection> SecurityDetector::OnSpend(const std::string& subject, std::int64_t cost,
                                                   std::int64_t at) {
    Bound(spend_);
    SpendTrail& trail = spend_[subject];
    auto& rows = trail.rows;
    const std::int64_t now = clock_.NowMs();
    const std::int64_t window_start = now - cfg_.spend_window_ms;
    // Kept in time order: after a wall clock stepped back, a call goes in its place.
    auto pos = rows.end();
    while (pos != rows.begin() && std::prev(pos)->first > at) --pos;
    const auto index = static_cast<std::size_t>(pos - rows.begin());
    rows.insert(pos, {at, cost});
    if (index < trail.split) {  // older than calls already out of the window
        ++trail.split;
        trail.before += cost;
    } else {
        trail.recent += cost;
    }
    // Calls that left the window since the last call move to "before".
    while (trail.split < rows.size() && rows[trail.split].first <= window_start) {
        trail.recent -= rows[trail.split].second;
        trail.before += rows[trail.split].second;
        ++trail.split;
    }
    // Calls older than the baseline period are forgotten, and so is the oldest past the cap.
    auto drop_front = [&] {
        if (trail.split > 0) {
            trail.before -= rows.front().second;
            --trail.split;
        } else {
            trail.recent -= rows.front().second;
        }
        rows.pop_front();
    };
    while (!rows.empty() && rows.front().first <= now - cfg_.spend_baseline_ms) drop_front();
    while (rows.size() > kMaxSpendRows) drop_front();
    const std::int64_t recent = trail.recent;
    const std::int64_t before = trail.before;
    if (recent < cfg_.spend_min_micro_cny) return std::nullopt;
    // The average spend per window over the baseline period before the window.
    double periods = std::max<double>(
        1.0, static_cast<double>(cfg_.spend_baseline_ms - cfg_.spend_window_ms) /
                 static_cast<double>(std::max<std::int64_t>(1, cfg_.spend_window_ms)));
    double baseline = static_cast<double>(before) / periods;
    if (static_cast<double>(recent) < cfg_.spend_factor * baseline) return std::nullopt;
    if (!FirstInWindow(security_kind::kSpendSpike, subject, cfg_.spend_window_ms))
        return std::nullopt;
    Detection d{std::string(security_kind::kSpendSpike), "medium"};
    d.detail = {{"subject", subject},
                {"window_cost_micro_cny", recent},
                {"baseline_cost_micro_cny", static_cast<std::int64_t>(baseline)},
                {"window_s", cfg_.spend_window_ms / 1000}};
    return d;
}

std::vector<Detection> SecurityDetector::OnCall(const store::ApiCall& call) {
    std::vector<Detection> out;
    if (call.cost_micro_cny <= 0) return out;
    std::int64_t at = clock_.NowMs();
    if (auto d = OnSpend("user:" + call.user_id, call.cost_micro_cny, at)) {
        d->user_id = call.user_id;
        out.push_back(std::move(*d));
    }
    if (call.api_key_id) {
        if (auto d = OnSpend("api_key:" + *call.api_key_id, call.cost_micro_cny, at)) {
            d->user_id = call.user_id;
            d->api_key_id = call.api_key_id;
            if (cfg_.spend_key_suspend_ms > 0) {
                d->lock_subject = "api_key:" + *call.api_key_id;
                d->lock_ms = cfg_.spend_key_suspend_ms;
            }
            out.push_back(std::move(*d));
        }
    }
    return out;
}

// ---- the service ----

SecurityEvents::SecurityEvents(store::Store& store, async::WorkerPool& db,
                               const auth::RoleTable& roles, const core::Clock& clock,
                               SecurityEventsConfig cfg)
    : store_(store),
      db_(db),
      roles_(roles),
      clock_(clock),
      detector_(clock, cfg),
      longest_lock_ms_(std::max({cfg.brute_force_lock_ms, cfg.mfa_lock_ms,
                                 cfg.spend_key_suspend_ms, std::int64_t{60'000}})) {}

void SecurityEvents::Connect(cache::Bus& bus) {
    bus_ = &bus;
    bus.Subscribe([this](const cache::BusEvent& e) { Apply(e); });
}

void SecurityEvents::PublishLock(const std::string& subject) {
    if (bus_ == nullptr) return;
    bus_->Publish(cache::BusEvent{cache::topic::kSecurityLocksChanged, subject},
                  std::chrono::milliseconds(longest_lock_ms_));
}

void SecurityEvents::Apply(const cache::BusEvent& e) {
    std::optional<std::string> subject;
    if (e.topic == cache::topic::kSecurityLocksChanged && !e.payload.empty()) {
        subject = e.payload;
    } else if (e.topic != cache::kBusResynced) {
        return;
    }
    net::post(db_.pool(), [this, subject] {
        if (auto r = ReloadLockBlocking(subject); !r.ok())
            obs::Warn("security_locks_reload_failed", {{"detail", r.error().detail}});
    });
}

Result<void> SecurityEvents::ReloadLockBlocking(std::optional<std::string> subject) {
    auto locks = store_.SecurityEvents().ActiveLocks(clock_.NowMs());
    if (!locks.ok()) return locks.error();
    std::lock_guard lock(locks_mu_);
    if (subject) {
        // Lifted elsewhere: gone from the database, so gone here; set elsewhere: as stored.
        locks_.erase(*subject);
        for (const auto& l : *locks)
            if (l.subject == *subject) locks_[l.subject] = l.until;
        return core::Ok();
    }
    // Everything (after a resync): what the database has; a lock this hub set a moment ago and
    // is still writing stays (it expires on its own).
    for (const auto& l : *locks) {
        auto& until = locks_[l.subject];
        until = std::max(until, l.until);
    }
    return core::Ok();
}

Result<void> SecurityEvents::LoadBlocking() {
    auto locks = store_.SecurityEvents().ActiveLocks(clock_.NowMs());
    if (!locks.ok()) return locks.error();
    std::lock_guard lock(locks_mu_);
    for (const auto& l : *locks) locks_[l.subject] = l.until;
    return core::Ok();
}

bool SecurityEvents::IsAdmin(const std::string& user_id) {
    auto user = store_.Users().Get(user_id);
    if (!user.ok()) return false;
    return roles_.Allows(user->role, auth::perm::kUsersManage) ||
           roles_.Allows(user->role, auth::perm::kRolesManage);
}

std::vector<std::string> SecurityEvents::EarlierRanges(const std::string& user_id,
                                                       const std::string& except_entry_id) {
    std::vector<std::string> out;
    store::AuditFilter f;
    f.actor_user_id = user_id;
    f.action = "auth.login";
    store::PageRequest page;
    page.limit = store::kMaxPageSize;
    auto entries = store_.Audit().List(f, page);
    if (!entries.ok()) return out;
    for (const auto& e : entries->items)
        if (e.id != except_entry_id) out.push_back(IpRange(e.ip));
    return out;
}

void SecurityEvents::OnAudit(const store::AuditEntry& entry) {
    std::vector<Detection> found;
    {
        std::lock_guard lock(detect_mu_);
        found = detector_.OnAudit(
            entry, [this](const std::string& uid) { return IsAdmin(uid); },
            [this](const std::string& uid, const std::string& except) {
                return EarlierRanges(uid, except);
            });
    }
    if (!found.empty()) Emit(found);
}

void SecurityEvents::OnCall(const store::ApiCall& call) {
    std::vector<Detection> found;
    {
        std::lock_guard lock(detect_mu_);
        found = detector_.OnCall(call);
    }
    if (found.empty()) return;
    // Set the lock at once (the key's next call is refused), store the event on the db pool.
    for (const auto& d : found) {
        if (!d.lock_subject) continue;
        std::lock_guard lock(locks_mu_);
        locks_[*d.lock_subject] = clock_.NowMs() + d.lock_ms;
    }
    net::post(db_.pool(), [this, found = std::move(found)] { Emit(found); });
}

void SecurityEvents::Emit(const std::vector<Detection>& found) {
    std::int64_t now = clock_.NowMs();
    for (const auto& d : found) {
        store::SecurityEvent e;
        e.id = core::NewId();
        e.kind = d.kind;
        e.severity = d.severity;
        e.user_id = d.user_id;
        e.api_key_id = d.api_key_id;
        e.ip = d.ip;
        e.detail = d.detail.dump();
        e.created_at = now;
        if (d.lock_subject) {
            e.action = d.lock_subject->rfind("api_key:", 0) == 0 ? "api_key_suspended"
                                                                  : "account_locked";
            e.locked_until = now + d.lock_ms;
            {
                std::lock_guard lock(locks_mu_);
                auto& until = locks_[*d.lock_subject];
                until = std::max(until, *e.locked_until);
            }
            store::SecurityLock l{*d.lock_subject, *e.locked_until, e.id, now};
            if (auto r = store_.SecurityEvents().Lock(l); !r.ok())
                obs::Error("security_lock_write_failed", {{"detail", r.error().detail}});
            else
                PublishLock(*d.lock_subject);
        }
        {
            std::lock_guard lock(counts_mu_);
            ++counts_[e.kind];
        }
        obs::Warn("security_event", {{"kind", e.kind},
                                     {"severity", e.severity},
                                     {"user_id", e.user_id.value_or("")},
                                     {"api_key_id", e.api_key_id.value_or("")},
                                     {"ip", e.ip},
                                     {"action", e.action}});
        if (auto r = store_.SecurityEvents().Append(std::move(e)); !r.ok())
            obs::Error("security_event_write_failed", {{"detail", r.error().detail}});
    }
}

std::optional<std::int64_t> SecurityEvents::LockedUntil(std::string_view subject) const {
    std::lock_guard lock(locks_mu_);
    auto it = locks_.find(subject);
    if (it == locks_.end() || it->second <= clock_.NowMs()) return std::nullopt;
    return it->second;
}

std::map<std::string, std::int64_t> SecurityEvents::Counts() const {
    std::lock_guard lock(counts_mu_);
    return counts_;
}

net::awaitable<Result<store::Page<store::SecurityEvent>>> SecurityEvents::List(
    auth::Principal who, store::SecurityEventFilter filter, store::PageRequest page) {
    if (auto r = auth::Require(who, auth::perm::kSecurityRead); !r.ok()) co_return r.error();
    co_return co_await db_.Run(
        [this](store::SecurityEventFilter f, store::PageRequest p) {
            return store_.SecurityEvents().List(f, p);
        },
        std::move(filter), std::move(page));
}

net::awaitable<Result<store::SecurityEvent>> SecurityEvents::Unlock(auth::Principal who,
                                                                    std::string id,
                                                                    RequestMeta meta) {
    if (auto r = auth::Require(who, auth::perm::kSecurityRead); !r.ok()) co_return r.error();
    co_return co_await db_.Run(
        [this](std::string actor, std::string id,
               RequestMeta meta) -> Result<store::SecurityEvent> {
            auto e = store_.SecurityEvents().Get(id);
            if (!e.ok()) return e.error();
            std::optional<std::string> subject;
            if (e->action == "account_locked" && e->user_id) subject = "user:" + *e->user_id;
            if (e->action == "api_key_suspended" && e->api_key_id)
                subject = "api_key:" + *e->api_key_id;
            if (!subject) return e;
            if (auto r = store_.SecurityEvents().Unlock(*subject); !r.ok()) return r.error();
            {
                std::lock_guard lock(locks_mu_);
                locks_.erase(*subject);
            }
            PublishLock(*subject);  // lifted in the database: on every hub
            auto ended = store_.SecurityEvents().EndLock(id, clock_.NowMs());
            if (!ended.ok()) return ended.error();
            AppendAudit(store_, clock_, actor, "security.unlock", *subject, meta,
                        nlohmann::json({{"event_id", id}, {"kind", e->kind}}).dump());
            return ended;
        },
        who.user_id, std::move(id), meta);
}

}  // namespace hub::services
