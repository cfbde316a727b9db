#include "store/leases.hpp"

#include "store/sql/run_once.hpp"
#include "store/sql/sql_store.hpp"

namespace hub::store::sql {

namespace {

// Two hubs racing: the conditional UPDATE takes a row lock, and under READ COMMITTED (what
// Database::Write uses on MySQL) the loser re-reads the winner's committed row and matches
// nothing; when there is no row yet, both INSERTs meet on the primary key and one is ignored.
// No gap locks are involved (READ COMMITTED, equality on the primary key). SQLite has one
// writer, so the same statements are trivially atomic there.
class SqlLeaseStore final : public LeaseStore {
public:
    explicit SqlLeaseStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<LeaseState> TryAcquire(std::string_view name, std::string_view holder,
                                        std::int64_t ttl_ms) override {
        if (name.empty() || holder.empty() || ttl_ms <= 0) {
            return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_lease",
                                     "A lease needs a name, a holder and a positive ttl.");
        }
        return ctx_.db.Write([&](Connection& c) -> core::Result<LeaseState> {
            HUB_SQL_ASSIGN(std::int64_t now, Now(c));
            const std::int64_t until = now + ttl_ms;
            // The generation is set first: MySQL evaluates SET left to right with the new values.
            HUB_SQL_ASSIGN(Stmt up,
                           c.Prepare("UPDATE leases SET"
                                     " generation = generation +"
                                     " (CASE WHEN holder = ?2 THEN 0 ELSE 1 END),"
                                     " acquired_at = (CASE WHEN holder = ?2 THEN acquired_at"
                                     " ELSE ?3 END),"
                                     " holder = ?2, expires_at = ?4, renewed_at = ?3"
                                     " WHERE name = ?1 AND (holder = ?2 OR expires_at <= ?3)"));
            HUB_SQL_TRY(up.BindAll(name, holder, now, until).Run());
            bool held = c.Changes() > 0;
            if (!held) {
                std::string insert =
                    ctx_.mysql()
                        ? "INSERT IGNORE INTO leases (name, holder, expires_at, generation,"
                          " acquired_at, renewed_at) VALUES (?1, ?2, ?3, 1, ?4, ?4)"
                        : "INSERT INTO leases (name, holder, expires_at, generation, acquired_at,"
                          " renewed_at) VALUES (?1, ?2, ?3, 1, ?4, ?4)"
                          " ON CONFLICT (name) DO NOTHING";
                HUB_SQL_ASSIGN(Stmt in, c.Prepare(insert));
                HUB_SQL_TRY(in.BindAll(name, holder, until, now).Run());
                held = c.Changes() > 0;
            }
            HUB_SQL_ASSIGN(Lease lease, GetOn(c, name));
            lease.now = now;
            return LeaseState{held && lease.holder == holder, std::move(lease)};
        });
    }

    core::Result<bool> Release(std::string_view name, std::string_view holder,
                               std::int64_t generation) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<bool> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE leases SET holder = '', expires_at = 0"
                                              " WHERE name = ?1 AND holder = ?2"
                                              " AND generation = ?3"));
            HUB_SQL_TRY(st.BindAll(name, holder, generation).Run());
            return c.Changes() > 0;
        });
    }

    core::Result<Lease> Get(std::string_view name) override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<Lease> {
            HUB_SQL_ASSIGN(Lease lease, GetOn(c, name));
            HUB_SQL_ASSIGN(lease.now, Now(c));
            return lease;
        });
    }

    core::Result<bool> ClaimRun(std::string_view job, std::string_view slot,
                                std::string_view holder) override {
        const std::int64_t at = ctx_.clock.NowMs();
        return ctx_.db.Write([&](Connection& c) -> core::Result<bool> {
            std::string insert =
                ctx_.mysql() ? "INSERT IGNORE INTO job_runs (job, slot, holder, claimed_at)"
                               " VALUES (?1, ?2, ?3, ?4)"
                             : "INSERT INTO job_runs (job, slot, holder, claimed_at)"
                               " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (job, slot) DO NOTHING";
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(insert));
            HUB_SQL_TRY(st.BindAll(job, slot, holder, at).Run());
            return c.Changes() > 0;
        });
    }

private:
    // The clock every hub sees: the MySQL server's; on SQLite (one hub) the store's.
    core::Result<std::int64_t> Now(Connection& c) {
        if (!ctx_.mysql()) return ctx_.clock.NowMs();
        HUB_SQL_ASSIGN(Stmt st,
                       c.Prepare("SELECT CAST(ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000) AS SIGNED)"));
        HUB_SQL_ASSIGN(bool row, st.Step());
        if (!row) {
            return core::Error::Make(core::ErrorCode::kInternal, "database_error",
                                     "The database did not answer.", "no row for NOW(3)");
        }
        return st.Int(0);
    }

    static core::Result<Lease> GetOn(Connection& c, std::string_view name) {
        HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT name, holder, expires_at, generation"
                                          " FROM leases WHERE name = ?1"));
        HUB_SQL_ASSIGN(bool row, st.BindAll(name).Step());
        if (!row) return NotFound("lease");
        Lease l;
        l.name = st.Text(0);
        l.holder = st.Text(1);
        l.expires_at = st.Int(2);
        l.generation = st.Int(3);
        return l;
    }

    RepoContext ctx_;
};

class SqlImageTaskStore final : public ImageTaskStore {
public:
    explicit SqlImageTaskStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<bool> Settle(std::string_view id, const ApiCall& call,
                              std::int64_t at_ms) override {
        return ctx_.db.WriteFor({call.user_id}, [&](Connection& c) -> core::Result<bool> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE image_generations SET accounted_at = ?2"
                                              " WHERE id = ?1 AND accounted_at IS NULL"));
            HUB_SQL_TRY(st.BindAll(id, at_ms).Run());
            if (c.Changes() == 0) return false;
            HUB_SQL_TRY(InsertApiCallOn(c, call));
            return true;
        });
    }

    core::Result<bool> ClaimSubmit(std::string_view id, std::int64_t at_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<bool> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("UPDATE image_generations SET submit_started_at = ?2"
                                     " WHERE id = ?1 AND task_id = '' AND submit_started_at IS NULL"
                                     " AND status IN ('pending', 'running')"));
            HUB_SQL_TRY(st.BindAll(id, at_ms).Run());
            return c.Changes() > 0;
        });
    }

    core::Result<void> ReleaseSubmit(std::string_view id) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE image_generations SET submit_started_at = NULL"
                                              " WHERE id = ?1 AND task_id = ''"));
            return st.BindAll(id).Run();
        });
    }

    core::Result<std::optional<std::int64_t>> SubmitStartedAt(std::string_view id) override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::optional<std::int64_t>> {
            // Once the task id is recorded the submit is no longer "begun" but done.
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT CASE WHEN task_id = '' THEN"
                                              " submit_started_at END"
                                              " FROM image_generations WHERE id = ?1"));
            HUB_SQL_ASSIGN(bool row, st.BindAll(id).Step());
            if (!row) return NotFound("image_generation");
            return st.OptInt(0);
        });
    }

    core::Result<bool> RecordTask(std::string_view id, const GenerationPatch& p) override {
        // One conditional UPDATE: a concurrent Finish by another poller either came first
        // (nothing matches) or waits for this one.
        return ctx_.db.Write([&](Connection& c) -> core::Result<bool> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("UPDATE image_generations SET task_id = ?2,"
                                     " upstream_request_id = coalesce(?3, upstream_request_id),"
                                     " submitted_at = coalesce(?4, submitted_at),"
                                     " polls = coalesce(?5, polls)"
                                     " WHERE id = ?1 AND task_id = ''"
                                     " AND status IN ('pending', 'running')"
                                     " AND accounted_at IS NULL"));
            HUB_SQL_TRY(st.BindAll(id, p.task_id.value_or(""), p.upstream_request_id,
                                   p.submitted_at, p.polls)
                            .Run());
            return c.Changes() > 0;
        });
    }

private:
    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<LeaseStore> MakeLeaseStore(RepoContext ctx) {
    return std::make_unique<SqlLeaseStore>(ctx);
}

std::unique_ptr<ImageTaskStore> MakeImageTaskStore(RepoContext ctx) {
    return std::make_unique<SqlImageTaskStore>(ctx);
}

}  // namespace hub::store::sql

