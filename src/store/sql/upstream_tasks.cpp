#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

class SqlUpstreamTaskStore final : public UpstreamTaskStore {
public:
    explicit SqlUpstreamTaskStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<UpstreamTask> Create(UpstreamTask t) override {
        FillTime(t.created_at, ctx_.clock.NowMs());
        auto r = ctx_.db.Write([&](Connection& c) -> core::Result<UpstreamTask> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("INSERT INTO upstream_tasks (task_id, user_id, api_key_id,"
                                     " model, created_at, accounted_at)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
            HUB_SQL_TRY(st.BindAll(t.task_id, t.user_id, t.api_key_id, t.model, t.created_at,
                                   t.accounted_at)
                            .Run());
            return t;
        });
        if (!r.ok()) {
            return RefineConflict(r.error(), {{"upstream_tasks.task_id", "upstream_task_exists",
                                               "this task is already recorded"}});
        }
        return r;
    }

    core::Result<UpstreamTask> Get(std::string_view user_id, std::string_view task_id) override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<UpstreamTask> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT task_id, user_id, api_key_id, model,"
                                              " created_at, accounted_at FROM upstream_tasks"
                                              " WHERE task_id = ?1 AND user_id = ?2"));
            HUB_SQL_ASSIGN(bool row, st.BindAll(task_id, user_id).Step());
            if (!row) return NotFound("upstream_task");
            UpstreamTask t;
            t.task_id = st.Text(0);
            t.user_id = st.Text(1);
            t.api_key_id = st.OptText(2);
            t.model = st.Text(3);
            t.created_at = st.Int(4);
            t.accounted_at = st.OptInt(5);
            return t;
        });
    }

    core::Result<bool> MarkAccounted(std::string_view task_id, std::int64_t at_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<bool> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE upstream_tasks SET accounted_at = ?2"
                                              " WHERE task_id = ?1 AND accounted_at IS NULL"));
            HUB_SQL_TRY(st.BindAll(task_id, at_ms).Run());
            return c.Changes() > 0;
        });
    }

private:
    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<UpstreamTaskStore> MakeUpstreamTaskStore(RepoContext ctx) {
    return std::make_unique<SqlUpstreamTaskStore>(ctx);
}

}  // namespace hub::store::sql
