#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

constexpr std::string_view kSelect =
    "SELECT id, user_id, file_path, sha256, content_type, bytes, width, height, original_name,"
    " created_at FROM uploads";

Upload ReadUpload(const Stmt& s) {
    Upload u;
    u.id = s.Text(0);
    u.user_id = s.Text(1);
    u.file_path = s.Text(2);
    u.sha256 = s.Text(3);
    u.content_type = s.Text(4);
    u.bytes = s.Int(5);
    u.width = s.Int(6);
    u.height = s.Int(7);
    u.original_name = s.Text(8);
    u.created_at = s.Int(9);
    return u;
}

class SqlUploadStore final : public UploadStore {
public:
    explicit SqlUploadStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<Upload> Create(Upload u) override {
        FillTime(u.created_at, ctx_.clock.NowMs());
        FillId(u.id, u.created_at);
        return ctx_.db.Write([&](Connection& c) -> core::Result<Upload> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("INSERT INTO uploads (id, user_id, file_path, sha256,"
                                              " content_type, bytes, width, height, original_name,"
                                              " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                                              " ?9, ?10)"));
            HUB_SQL_TRY(st.BindAll(u.id, u.user_id, u.file_path, u.sha256, u.content_type, u.bytes,
                                   u.width, u.height, u.original_name, u.created_at)
                            .Run());
            return u;
        });
    }

    core::Result<Upload> Get(std::string_view user_id, std::string_view id) override {
        static const std::string sql = std::string(kSelect) + " WHERE id = ? AND user_id = ?";
        std::vector<Param> params{std::string(id), std::string(user_id)};
        return One(sql, params);
    }

    core::Result<Upload> GetById(std::string_view id) override {
        static const std::string sql = std::string(kSelect) + " WHERE id = ?";
        std::vector<Param> params{std::string(id)};
        return One(sql, params);
    }

    core::Result<std::vector<Upload>> GetMany(std::string_view user_id,
                                              const std::vector<std::string>& ids) override {
        if (ids.empty()) return std::vector<Upload>{};
        std::string sql = std::string(kSelect) + " WHERE user_id = ? AND id IN (";
        std::vector<Param> params{std::string(user_id)};
        for (std::size_t i = 0; i < ids.size(); ++i) {
            sql += i == 0 ? "?" : ", ?";
            params.emplace_back(ids[i]);
        }
        sql += ")";
        return ctx_.db.Read([&](Connection& c) {
            return QueryRows<Upload>(c, sql, params, ReadUpload);
        });
    }

    core::Result<std::vector<Upload>> ListByUser(std::string_view user_id,
                                                 std::string_view after_id,
                                                 std::size_t limit) override {
        // Ids are UUIDv7 (time-ordered), so the id alone is the cursor.
        static const std::string sql =
            std::string(kSelect) + " WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?";
        std::vector<Param> params{std::string(user_id), std::string(after_id),
                                  static_cast<std::int64_t>(limit)};
        return ctx_.db.Read([&](Connection& c) {
            return QueryRows<Upload>(c, sql, params, ReadUpload);
        });
    }

private:
    core::Result<Upload> One(const std::string& sql, const std::vector<Param>& params) {
        return ctx_.db.Read([&](Connection& c) -> core::Result<Upload> {
            HUB_SQL_ASSIGN(std::vector<Upload> rows, QueryRows<Upload>(c, sql, params, ReadUpload));
            if (rows.empty()) return NotFound("upload");
            return std::move(rows.front());
        });
    }

    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<UploadStore> MakeUploadStore(RepoContext ctx) {
    return std::make_unique<SqlUploadStore>(ctx);
}

}  // namespace hub::store::sql
