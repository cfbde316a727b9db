#include "store/sqlite/repos.hpp"

namespace hub::store::sqlite {

namespace {

constexpr std::string_view kSelect =
    "SELECT id, user_id, task_id, prompt, model, status, file_path, width, height, created_at"
    " FROM images";
constexpr std::string_view kCursorKind = "images";

Image ReadImage(const Stmt& s) {
    Image x;
    x.id = s.Text(0);
    x.user_id = s.Text(1);
    x.task_id = s.Text(2);
    x.prompt = s.Text(3);
    x.model = s.Text(4);
    x.status = ParseImageStatus(s.Text(5)).value_or(ImageStatus::kFailed);
    x.file_path = s.Text(6);
    x.width = s.Int(7);
    x.height = s.Int(8);
    x.created_at = s.Int(9);
    return x;
}

core::Result<std::vector<Image>> Query(Connection& c, const std::string& sql,
                                       const std::vector<Param>& params) {
    HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
    st.BindParams(params);
    std::vector<Image> rows;
    while (true) {
        HUB_SQL_ASSIGN(bool row, st.Step());
        if (!row) break;
        rows.push_back(ReadImage(st));
    }
    return rows;
}

core::Result<Image> GetOn(Connection& c, std::string_view id) {
    static const std::string sql = std::string(kSelect) + " WHERE id = ?";
    HUB_SQL_ASSIGN(std::vector<Image> rows, Query(c, sql, {std::string(id)}));
    if (rows.empty()) return NotFound("image");
    return std::move(rows.front());
}

class SqliteImageStore final : public ImageStore {
public:
    explicit SqliteImageStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<Image> Create(Image x) override {
        FillTime(x.created_at, ctx_.clock.NowMs());
        FillId(x.id, x.created_at);
        return ctx_.db.Write([&](Connection& c) -> core::Result<Image> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("INSERT INTO images (id, user_id, task_id, prompt, model,"
                                     " status, file_path, width, height, created_at)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
            HUB_SQL_TRY(st.BindAll(x.id, x.user_id, x.task_id, x.prompt, x.model,
                                   ToString(x.status), x.file_path, x.width, x.height, x.created_at)
                            .Run());
            return x;
        });
    }

    core::Result<Image> Get(std::string_view user_id, std::string_view id) override {
        static const std::string sql = std::string(kSelect) + " WHERE id = ? AND user_id = ?";
        return ctx_.db.Read([&](Connection& c) -> core::Result<Image> {
            HUB_SQL_ASSIGN(std::vector<Image> rows,
                           Query(c, sql, {std::string(id), std::string(user_id)}));
            if (rows.empty()) return NotFound("image");
            return std::move(rows.front());
        });
    }

    core::Result<Image> Update(std::string_view id, const ImagePatch& p) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<Image> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("UPDATE images SET status = coalesce(?2, status),"
                                     " task_id = coalesce(?3, task_id),"
                                     " file_path = coalesce(?4, file_path),"
                                     " width = coalesce(?5, width), height = coalesce(?6, height)"
                                     " WHERE id = ?1"));
            std::optional<std::string> status;
            if (p.status) status = std::string(ToString(*p.status));
            HUB_SQL_TRY(st.BindAll(id, status, p.task_id, p.file_path, p.width, p.height).Run());
            if (c.Changes() == 0) return NotFound("image");
            return GetOn(c, id);
        });
    }

    core::Result<Page<Image>> ListByUser(std::string_view user_id,
                                         const PageRequest& page) override {
        int limit = ClampLimit(page.limit);
        Where w;
        w.And("user_id = ?", std::string(user_id));
        HUB_SQL_TRY(AddCursorBefore(w, "(created_at, id)", kCursorKind, page.cursor, 1));
        w.params().emplace_back(std::int64_t{limit} + 1);
        std::string sql =
            std::string(kSelect) + w.sql() + " ORDER BY created_at DESC, id DESC LIMIT ?";
        return ctx_.db.Read([&](Connection& c) -> core::Result<Page<Image>> {
            HUB_SQL_ASSIGN(std::vector<Image> rows, Query(c, sql, w.params()));
            return MakePage(std::move(rows), limit, kCursorKind, [](const Image& x) {
                return CursorKey{{x.created_at}, x.id};
            });
        });
    }

    core::Result<std::vector<Image>> ListByStatus(ImageStatus status, int limit) override {
        static const std::string sql =
            std::string(kSelect) + " WHERE status = ? ORDER BY created_at, id LIMIT ?";
        std::vector<Param> params{std::string(ToString(status)), std::int64_t{ClampLimit(limit)}};
        return ctx_.db.Read([&](Connection& c) { return Query(c, sql, params); });
    }

private:
    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<ImageStore> MakeImageStore(RepoContext ctx) {
    return std::make_unique<SqliteImageStore>(ctx);
}

}  // namespace hub::store::sqlite
