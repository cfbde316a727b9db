#pragma once
// Internal to the MySQL store: a primary with a read replica behind one sql::Database.
//
// Every write and ordinary read goes to the primary. Heavy reads (sql::Database::ReadHeavy:
// history lists, statistics, CSV export, conversation lists) go to the replica when it is
// healthy, except where that would hide a user's own write:
//  - WriteFor(users) notes, after the commit, the primary's binlog position (a GTID list that
//    includes the write) for each of those users;
//  - a heavy read of such a user asks the replica first whether it has applied that position
//    (MASTER_GTID_WAIT(pos, 0)), and reads on the primary when it has not.
// A monitor thread samples the primary's position every `probe_ms` and measures the replica's
// lag as the age of the oldest sample it has not applied yet; a replica that lags more than
// `max_lag_ms`, or cannot be reached, is skipped until it catches up. A heavy read that fails
// on the replica because it went away is served by the primary.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "core/clock.hpp"
#include "store/mysql/db.hpp"
#include "store/store.hpp"

namespace hub::store::mysql {

struct ReplicaOptions {
    std::int64_t max_lag_ms = 5000;
    std::int64_t probe_ms = 500;
};

class ReplicatedDatabase final : public sql::Database {
public:
    ReplicatedDatabase(std::unique_ptr<mysql::Database> primary, std::unique_ptr<mysql::Database> replica,
                       ReplicaOptions options, const core::Clock& clock);
    ~ReplicatedDatabase() override;  // stops the monitor

    sql::Dialect dialect() const override { return sql::Dialect::kMysql; }
    mysql::Database& primary() { return *primary_; }
    ReplicaState State() const;
    // Runs one probe now (tests; the monitor does this every probe_ms).
    void Probe();

protected:
    core::Result<void> RunWrite(sql::Body body) override;
    core::Result<void> RunRead(sql::Body body) override;
    core::Result<void> RunWriteFor(const std::vector<std::string_view>& users,
                                   sql::Body body) override;
    core::Result<void> RunReadHeavy(std::string_view user, sql::Body body) override;

private:
    core::Result<std::string> PrimaryPosition();
    // 1: the replica has applied `position`; 0: not yet; an error when it cannot say.
    core::Result<bool> ReplicaHasApplied(const std::string& position);
    void Monitor();
    void MarkDown(const std::string& reason);

    std::unique_ptr<mysql::Database> primary_;
    std::unique_ptr<mysql::Database> replica_;
    ReplicaOptions options_;
    const core::Clock& clock_;

    std::mutex probe_mu_;  // one Probe at a time; guards samples_
    std::deque<std::pair<std::string, std::int64_t>> samples_;  // primary position, when
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::pair<std::string, std::int64_t>> user_positions_;
    bool healthy_ = false;
    std::int64_t lag_ms_ = -1;
    std::string reason_ = "not probed yet";
    std::atomic<std::uint64_t> reads_replica_{0};
    std::atomic<std::uint64_t> reads_primary_{0};

    std::mutex stop_mu_;
    std::condition_variable stop_cv_;
    bool stop_ = false;
    std::thread monitor_;
};

}  // namespace hub::store::mysql
