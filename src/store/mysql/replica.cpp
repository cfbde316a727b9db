#include "store/mysql/replica.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

#include "obs/logging.hpp"

namespace hub::store::mysql {

namespace {
// Users whose last write is older than this are forgotten when the map grows large: by then
// a replica within its lag bound has long applied it.
constexpr std::int64_t kForgetAfterMs = 60'000;
constexpr std::size_t kForgetAbove = 10'000;
}  // namespace

ReplicatedDatabase::ReplicatedDatabase(std::unique_ptr<mysql::Database> primary,
                                       std::unique_ptr<mysql::Database> replica, ReplicaOptions options,
                                       const core::Clock& clock)
    : primary_(std::move(primary)),
      replica_(std::move(replica)),
      options_(options),
      clock_(clock) {
    // The first probe runs on the monitor thread: a replica that is slow to answer never
    // delays the hub's start (heavy reads use the primary until it has been measured).
    monitor_ = std::thread([this] { Monitor(); });
}

ReplicatedDatabase::~ReplicatedDatabase() {
    {
        std::lock_guard lock(stop_mu_);
        stop_ = true;
    }
    stop_cv_.notify_all();
    if (monitor_.joinable()) monitor_.join();
}

ReplicaState ReplicatedDatabase::State() const {
    ReplicaState s;
    s.configured = true;
    {
        std::lock_guard lock(mu_);
        s.healthy = healthy_;
        s.lag_ms = lag_ms_;
        s.reason = reason_;
    }
    s.reads_replica = reads_replica_.load();
    s.reads_primary = reads_primary_.load();
    return s;
}

core::Result<std::string> ReplicatedDatabase::PrimaryPosition() {
    std::string pos;
    auto read = [&](Connection& c) -> core::Result<void> {
        HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("SELECT @@global.gtid_binlog_pos"));
        HUB_SQL_ASSIGN(bool row, st.Step());
        if (row && !st.IsNull(0)) pos = st.Text(0);
        return core::Ok();
    };
    auto r = primary_->WithConnection(read);
    if (!r.ok()) return r.error();
    return pos;
}

core::Result<bool> ReplicatedDatabase::ReplicaHasApplied(const std::string& position) {
    if (position.empty()) return true;
    bool applied = false;
    auto ask = [&](Connection& c) -> core::Result<void> {
        HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("SELECT MASTER_GTID_WAIT(?1, 0)"));
        HUB_SQL_ASSIGN(bool row, st.BindAll(position).Step());
        applied = row && !st.IsNull(0) && st.Int(0) == 0;
        return core::Ok();
    };
    auto r = replica_->WithConnection(ask);
    if (!r.ok()) return r.error();
    return applied;
}

void ReplicatedDatabase::MarkDown(const std::string& reason) {
    std::lock_guard lock(mu_);
    if (healthy_) obs::Warn("db_replica_skipped", nlohmann::json{{"reason", reason}});
    healthy_ = false;
    reason_ = reason;
}

void ReplicatedDatabase::Probe() {
    std::lock_guard probing(probe_mu_);  // samples_ belongs to Probe
    std::int64_t now = clock_.NowMs();
    auto pos = PrimaryPosition();
    if (!pos.ok()) return;  // the primary's own trouble shows elsewhere (/readyz)
    if (samples_.empty() || samples_.back().first != *pos) samples_.emplace_back(*pos, now);
    while (samples_.size() > 1024) samples_.pop_front();
    // The replica applies positions in order, so the applied samples are a prefix: find its
    // end by bisection (a few round trips however far behind the replica is).
    std::size_t applied_upto = 0;  // samples [0, applied_upto) are applied
    std::size_t hi = samples_.size();
    while (applied_upto < hi) {
        std::size_t mid = applied_upto + (hi - applied_upto) / 2;
        auto has = ReplicaHasApplied(samples_[mid].first);
        if (!has.ok()) {
            MarkDown("unreachable: " + has.error().api_code);
            std::lock_guard lock(mu_);
            lag_ms_ = -1;
            return;
        }
        if (*has) applied_upto = mid + 1;
        else hi = mid;
    }
    std::int64_t oldest_unapplied =
        applied_upto < samples_.size() ? samples_[applied_upto].second : -1;
    // Keep the newest applied sample (the baseline) and everything after it.
    for (std::size_t k = 1; k < applied_upto; ++k) samples_.pop_front();
    std::int64_t lag = oldest_unapplied < 0 ? 0 : now - oldest_unapplied;
    std::lock_guard lock(mu_);
    lag_ms_ = lag;
    bool ok = lag <= options_.max_lag_ms;
    if (ok && !healthy_) obs::Info("db_replica_in_use", nlohmann::json{{"lag_ms", lag}});
    if (!ok && healthy_) obs::Warn("db_replica_skipped", nlohmann::json{{"reason", "lagging"}, {"lag_ms", lag}});
    healthy_ = ok;
    reason_ = ok ? "" : "lag " + std::to_string(lag) + " ms over " +
                            std::to_string(options_.max_lag_ms) + " ms";
}

void ReplicatedDatabase::Monitor() {
    std::unique_lock lock(stop_mu_);
    while (!stop_) {
        lock.unlock();
        Probe();
        lock.lock();
        stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.probe_ms), [&] { return stop_; });
    }
}

core::Result<void> ReplicatedDatabase::RunWrite(sql::Body body) {
    return primary_->Write([&](sql::Connection& c) { return body(c); });
}

core::Result<void> ReplicatedDatabase::RunRead(sql::Body body) {
    return primary_->Read([&](sql::Connection& c) { return body(c); });
}

core::Result<void> ReplicatedDatabase::RunWriteFor(const std::vector<std::string_view>& users,
                                                   sql::Body body) {
    HUB_SQL_TRY(primary_->Write([&](sql::Connection& c) { return body(c); }));
    // The primary's position now includes this write (it has committed).
    auto pos = PrimaryPosition();
    std::int64_t now = clock_.NowMs();
    std::lock_guard lock(mu_);
    if (user_positions_.size() > kForgetAbove) {
        for (auto it = user_positions_.begin(); it != user_positions_.end();) {
            it = now - it->second.second > kForgetAfterMs ? user_positions_.erase(it) : std::next(it);
        }
    }
    for (std::string_view user : users) {
        if (user.empty()) continue;
        // Without a position the user reads from the primary until the map forgets them.
        user_positions_[std::string(user)] = {pos.ok() ? *pos : std::string("?"), now};
    }
    return core::Ok();
}

core::Result<void> ReplicatedDatabase::RunReadHeavy(std::string_view user, sql::Body body) {
    bool use_replica;
    std::string wait_for;
    {
        std::lock_guard lock(mu_);
        use_replica = healthy_;
        if (use_replica && !user.empty()) {
            auto it = user_positions_.find(std::string(user));
            if (it != user_positions_.end()) wait_for = it->second.first;
        }
    }
    if (use_replica && wait_for == "?") use_replica = false;
    if (use_replica && !wait_for.empty()) {
        auto has = ReplicaHasApplied(wait_for);
        if (!has.ok()) MarkDown("unreachable: " + has.error().api_code);
        use_replica = has.ok() && *has;
    }
    if (use_replica) {
        auto r = replica_->Read([&](sql::Connection& c) { return body(c); });
        if (r.ok() || r.error().code != core::ErrorCode::kUnavailable) {
            ++reads_replica_;
            return r;
        }
        MarkDown("unreachable: " + r.error().api_code);
    }
    ++reads_primary_;
    return primary_->Read([&](sql::Connection& c) { return body(c); });
}

}  // namespace hub::store::mysql
