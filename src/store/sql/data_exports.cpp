#include "store/data_exports.hpp"

#include "store/sql/repos.hpp"

namespace hub::store {

std::string_view ToString(ExportStatus s) {
    switch (s) {
        case ExportStatus::kPending: return "pending";
        case ExportStatus::kRunning: return "running";
        case ExportStatus::kReady: return "ready";
        case ExportStatus::kFailed: return "failed";
    }
    return "failed";
}

namespace sql {

namespace {

constexpr std::string_view kSelect =
    "SELECT id, user_id, status, progress, file_path, bytes, error_code, created_at,"
    " finished_at, expires_at FROM data_exports";

ExportStatus ParseStatus(std::string_view s) {
    if (s == "pending") return ExportStatus::kPending;
    if (s == "running") return ExportStatus::kRunning;
    if (s == "ready") return ExportStatus::kReady;
    return ExportStatus::kFailed;
}

DataExport ReadExport(const Stmt& s) {
    DataExport e;
    e.id = s.Text(0);
    e.user_id = s.Text(1);
    e.status = ParseStatus(s.TextView(2));
    e.progress = static_cast<int>(s.Int(3));
    e.file_path = s.Text(4);
    e.bytes = s.Int(5);
    e.error_code = s.Text(6);
    e.created_at = s.Int(7);
    e.finished_at = s.OptInt(8);
    e.expires_at = s.OptInt(9);
    return e;
}

core::Result<std::vector<DataExport>> QueryAll(Connection& c, const std::string& sql,
                                               const std::vector<Param>& params) {
    HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
    st.BindParams(params);
    std::vector<DataExport> out;
    while (true) {
        HUB_SQL_ASSIGN(bool row, st.Step());
        if (!row) break;
        out.push_back(ReadExport(st));
    }
    return out;
}

core::Result<DataExport> QueryOne(Connection& c, const std::string& sql,
                                  const std::vector<Param>& params) {
    HUB_SQL_ASSIGN(auto rows, QueryAll(c, sql, params));
    if (rows.empty()) return NotFound("export");
    return std::move(rows.front());
}

class SqlDataExportStore final : public DataExportStore {
public:
    explicit SqlDataExportStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<DataExport> Create(DataExport e) override {
        FillTime(e.created_at, ctx_.clock.NowMs());
        FillId(e.id, e.created_at);
        auto r = ctx_.db.Write([&](Connection& c) -> core::Result<DataExport> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("INSERT INTO data_exports (id, user_id, status,"
                                              " progress, created_at) VALUES (?1, ?2, ?3, ?4, ?5)"));
            HUB_SQL_TRY(st.BindAll(e.id, e.user_id, std::string(ToString(e.status)), e.progress,
                                   e.created_at)
                            .Run());
            return e;
        });
        if (!r.ok() && r.error().code == core::ErrorCode::kConflict) {
            return core::Error::Make(core::ErrorCode::kConflict, "export_in_progress",
                                     "An export of your data is already being made; wait for it "
                                     "to finish.");
        }
        return r;
    }

    core::Result<DataExport> Get(std::string_view user_id, std::string_view id) override {
        static const std::string sql = std::string(kSelect) + " WHERE id = ? AND user_id = ?";
        return ctx_.db.Read([&](Connection& c) {
            return QueryOne(c, sql, {std::string(id), std::string(user_id)});
        });
    }

    core::Result<std::vector<DataExport>> ListByUser(std::string_view user_id) override {
        static const std::string sql =
            std::string(kSelect) + " WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT 20";
        return ctx_.db.Read([&](Connection& c) { return QueryAll(c, sql, {std::string(user_id)}); });
    }

    core::Result<DataExport> Update(std::string_view id, const ExportPatch& p) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<DataExport> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("UPDATE data_exports SET"
                                     " status = coalesce(?2, status),"
                                     " progress = coalesce(?3, progress),"
                                     " file_path = coalesce(?4, file_path),"
                                     " bytes = coalesce(?5, bytes),"
                                     " error_code = coalesce(?6, error_code),"
                                     " finished_at = coalesce(?7, finished_at),"
                                     " expires_at = coalesce(?8, expires_at)"
                                     " WHERE id = ?1"));
            std::optional<std::string> status;
            if (p.status) status = std::string(ToString(*p.status));
            std::optional<std::int64_t> progress;
            if (p.progress) progress = *p.progress;
            HUB_SQL_TRY(st.BindAll(std::string(id), status, progress, p.file_path, p.bytes,
                                   p.error_code, p.finished_at, p.expires_at)
                            .Run());
            if (c.Changes() == 0) return NotFound("export");
            static const std::string sql = std::string(kSelect) + " WHERE id = ?";
            return QueryOne(c, sql, {std::string(id)});
        });
    }

    core::Result<std::vector<DataExport>> ListExpired(std::int64_t now_ms) override {
        static const std::string sql =
            std::string(kSelect) + " WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT 500";
        return ctx_.db.Read([&](Connection& c) { return QueryAll(c, sql, {now_ms}); });
    }

    core::Result<void> Delete(std::string_view id) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("DELETE FROM data_exports WHERE id = ?1"));
            return st.BindAll(std::string(id)).Run();
        });
    }

    core::Result<std::int64_t> FailUnfinished(std::int64_t now_ms, std::int64_t expires_at) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<std::int64_t> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE data_exports SET status = 'failed',"
                                              " error_code = 'interrupted', finished_at = ?1,"
                                              " expires_at = ?2"
                                              " WHERE status IN ('pending', 'running')"));
            HUB_SQL_TRY(st.BindAll(now_ms, expires_at).Run());
            return c.Changes();
        });
    }

private:
    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<DataExportStore> MakeDataExportStore(RepoContext ctx) {
    return std::make_unique<SqlDataExportStore>(ctx);
}

}  // namespace sql
}  // namespace hub::store
