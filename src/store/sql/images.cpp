#include "store/sql/repos.hpp"

namespace hub::store::sql {

namespace {

constexpr std::string_view kSelectGeneration =
    "SELECT id, user_id, api_key_id, endpoint, model, prompt, negative_prompt, size, n, seed,"
    " prompt_extend, watermark, status, task_id, upstream_request_id, error_code, error_message,"
    " polls, created_at, submitted_at, started_at, finished_at, accounted_at"
    " FROM image_generations";
constexpr std::string_view kSelectImage =
    "SELECT id, generation_id, user_id, idx, status, file_path, sha256, content_type, bytes,"
    " width, height, seed, actual_prompt, error_code, error_message, created_at FROM images";
constexpr std::string_view kCursorKind = "image_generations";

ImageGeneration ReadGeneration(const Stmt& s) {
    ImageGeneration g;
    g.id = s.Text(0);
    g.user_id = s.Text(1);
    g.api_key_id = s.OptText(2);
    g.endpoint = s.Text(3);
    g.model = s.Text(4);
    g.prompt = s.Text(5);
    g.negative_prompt = s.Text(6);
    g.size = s.Text(7);
    g.n = static_cast<int>(s.Int(8));
    g.seed = s.OptInt(9);
    g.prompt_extend = s.Bool(10);
    g.watermark = s.Bool(11);
    g.status = ParseGenerationStatus(s.Text(12)).value_or(GenerationStatus::kFailed);
    g.task_id = s.Text(13);
    g.upstream_request_id = s.Text(14);
    g.error_code = s.Text(15);
    g.error_message = s.Text(16);
    g.polls = static_cast<int>(s.Int(17));
    g.created_at = s.Int(18);
    g.submitted_at = s.OptInt(19);
    g.started_at = s.OptInt(20);
    g.finished_at = s.OptInt(21);
    g.accounted_at = s.OptInt(22);
    return g;
}

GeneratedImage ReadImage(const Stmt& s) {
    GeneratedImage x;
    x.id = s.Text(0);
    x.generation_id = s.Text(1);
    x.user_id = s.Text(2);
    x.index = static_cast<int>(s.Int(3));
    x.ok = s.Text(4) == "succeeded";
    x.file_path = s.Text(5);
    x.sha256 = s.Text(6);
    x.content_type = s.Text(7);
    x.bytes = s.Int(8);
    x.width = s.Int(9);
    x.height = s.Int(10);
    x.seed = s.OptInt(11);
    x.actual_prompt = s.Text(12);
    x.error_code = s.Text(13);
    x.error_message = s.Text(14);
    x.created_at = s.Int(15);
    return x;
}

core::Result<std::vector<ImageGeneration>> QueryGenerations(Connection& c, const std::string& sql,
                                                            const std::vector<Param>& params) {
    return QueryRows<ImageGeneration>(c, sql, params, ReadGeneration);
}

// Attaches each generation's images (one query for the whole list).
core::Result<void> AttachImages(Connection& c, std::vector<ImageGeneration>& gens) {
    if (gens.empty()) return {};
    std::string sql = std::string(kSelectImage) + " WHERE generation_id IN (";
    std::vector<Param> params;
    for (std::size_t i = 0; i < gens.size(); ++i) {
        sql += i ? ", ?" : "?";
        params.emplace_back(gens[i].id);
    }
    sql += ") ORDER BY generation_id, idx";
    HUB_SQL_ASSIGN(std::vector<GeneratedImage> images,
                   QueryRows<GeneratedImage>(c, sql, params, ReadImage));
    for (auto& img : images) {
        for (auto& g : gens) {
            if (g.id == img.generation_id) {
                g.images.push_back(std::move(img));
                break;
            }
        }
    }
    return {};
}

core::Result<ImageGeneration> GetOn(Connection& c, std::string_view id,
                                    std::optional<std::string_view> user_id) {
    std::string sql = std::string(kSelectGeneration) + " WHERE id = ?";
    std::vector<Param> params{std::string(id)};
    if (user_id) {
        sql += " AND user_id = ?";
        params.emplace_back(std::string(*user_id));
    }
    HUB_SQL_ASSIGN(std::vector<ImageGeneration> rows, QueryGenerations(c, sql, params));
    if (rows.empty()) return NotFound("image_generation");
    HUB_SQL_TRY(AttachImages(c, rows));
    return std::move(rows.front());
}

core::Result<void> ApplyPatch(Connection& c, std::string_view id, const GenerationPatch& p) {
    HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE image_generations SET"
                                      " status = coalesce(?2, status),"
                                      " task_id = coalesce(?3, task_id),"
                                      " upstream_request_id = coalesce(?4, upstream_request_id),"
                                      " error_code = coalesce(?5, error_code),"
                                      " error_message = coalesce(?6, error_message),"
                                      " polls = coalesce(?7, polls),"
                                      " submitted_at = coalesce(?8, submitted_at),"
                                      " started_at = coalesce(?9, started_at),"
                                      " finished_at = coalesce(?10, finished_at)"
                                      " WHERE id = ?1"));
    std::optional<std::string> status;
    if (p.status) status = std::string(ToString(*p.status));
    HUB_SQL_TRY(st.BindAll(id, status, p.task_id, p.upstream_request_id, p.error_code,
                           p.error_message, p.polls, p.submitted_at, p.started_at, p.finished_at)
                    .Run());
    if (c.Changes() == 0) return NotFound("image_generation");
    return {};
}

class SqlImageStore final : public ImageStore {
public:
    explicit SqlImageStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<ImageGeneration> Create(ImageGeneration g) override {
        FillTime(g.created_at, ctx_.clock.NowMs());
        FillId(g.id, g.created_at);
        g.images.clear();
        return ctx_.db.Write([&](Connection& c) -> core::Result<ImageGeneration> {
            HUB_SQL_ASSIGN(
                Stmt st,
                c.Prepare("INSERT INTO image_generations (id, user_id, api_key_id, endpoint, model,"
                          " prompt, negative_prompt, size, n, seed, prompt_extend, watermark,"
                          " status, task_id, upstream_request_id, error_code, error_message,"
                          " polls, created_at, submitted_at, started_at, finished_at)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                          " ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"));
            HUB_SQL_TRY(st.BindAll(g.id, g.user_id, g.api_key_id, g.endpoint, g.model, g.prompt,
                                   g.negative_prompt, g.size, g.n, g.seed, g.prompt_extend,
                                   g.watermark, ToString(g.status), g.task_id,
                                   g.upstream_request_id, g.error_code, g.error_message, g.polls,
                                   g.created_at, g.submitted_at, g.started_at, g.finished_at)
                            .Run());
            return g;
        });
    }

    core::Result<ImageGeneration> Get(std::string_view user_id, std::string_view id) override {
        return ctx_.db.Read([&](Connection& c) { return GetOn(c, id, user_id); });
    }

    core::Result<ImageGeneration> GetAny(std::string_view id) override {
        return ctx_.db.Read([&](Connection& c) { return GetOn(c, id, std::nullopt); });
    }

    core::Result<ImageGeneration> Update(std::string_view id, const GenerationPatch& p) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<ImageGeneration> {
            HUB_SQL_TRY(ApplyPatch(c, id, p));
            return GetOn(c, id, std::nullopt);
        });
    }

    core::Result<ImageGeneration> Finish(std::string_view id, const GenerationPatch& p,
                                         std::vector<GeneratedImage> images) override {
        const std::int64_t now = ctx_.clock.NowMs();
        return ctx_.db.Write([&](Connection& c) -> core::Result<ImageGeneration> {
            HUB_SQL_ASSIGN(ImageGeneration g, GetOn(c, id, std::nullopt));
            if (IsFinished(g.status)) {
                return core::Error::Make(core::ErrorCode::kConflict, "image_generation_finished",
                                         "This generation has already ended.");
            }
            HUB_SQL_TRY(ApplyPatch(c, id, p));
            for (auto& x : images) {
                FillTime(x.created_at, now);
                FillId(x.id, x.created_at);
                HUB_SQL_ASSIGN(
                    Stmt st,
                    c.Prepare("INSERT INTO images (id, generation_id, user_id, idx, status,"
                              " file_path, sha256, content_type, bytes, width, height, seed,"
                              " actual_prompt, error_code, error_message, created_at)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
                              " ?14, ?15, ?16)"));
                HUB_SQL_TRY(st.BindAll(x.id, g.id, g.user_id, x.index,
                                       x.ok ? "succeeded" : "failed", x.file_path, x.sha256,
                                       x.content_type, x.bytes, x.width, x.height, x.seed,
                                       x.actual_prompt, x.error_code, x.error_message,
                                       x.created_at)
                                .Run());
            }
            return GetOn(c, id, std::nullopt);
        });
    }

    core::Result<bool> MarkAccounted(std::string_view id, std::int64_t at_ms) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<bool> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("UPDATE image_generations SET accounted_at = ?2"
                                              " WHERE id = ?1 AND accounted_at IS NULL"));
            HUB_SQL_TRY(st.BindAll(id, at_ms).Run());
            return c.Changes() > 0;
        });
    }

    core::Result<Page<ImageGeneration>> ListByUser(std::string_view user_id,
                                                   const PageRequest& page) override {
        int limit = ClampLimit(page.limit);
        Where w;
        w.And("user_id = ?", std::string(user_id));
        HUB_SQL_TRY(AddCursorBefore(w, "(created_at, id)", kCursorKind, page.cursor, 1));
        w.params().emplace_back(std::int64_t{limit} + 1);
        std::string sql = std::string(kSelectGeneration) + w.sql() +
                          " ORDER BY created_at DESC, id DESC LIMIT ?";
        return ctx_.db.Read([&](Connection& c) -> core::Result<Page<ImageGeneration>> {
            HUB_SQL_ASSIGN(std::vector<ImageGeneration> rows, QueryGenerations(c, sql, w.params()));
            Page<ImageGeneration> p =
                MakePage(std::move(rows), limit, kCursorKind, [](const ImageGeneration& g) {
                    return CursorKey{{g.created_at}, g.id};
                });
            HUB_SQL_TRY(AttachImages(c, p.items));
            return p;
        });
    }

    core::Result<std::vector<ImageGeneration>> ListUnsettled(int limit) override {
        static const std::string sql = std::string(kSelectGeneration) +
                                       " WHERE accounted_at IS NULL ORDER BY created_at, id LIMIT ?";
        std::vector<Param> params{std::int64_t{limit}};
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::vector<ImageGeneration>> {
            HUB_SQL_ASSIGN(std::vector<ImageGeneration> rows, QueryGenerations(c, sql, params));
            HUB_SQL_TRY(AttachImages(c, rows));
            return rows;
        });
    }

    core::Result<ImageGeneration> Delete(std::string_view user_id, std::string_view id) override {
        return ctx_.db.Write([&](Connection& c) -> core::Result<ImageGeneration> {
            HUB_SQL_ASSIGN(ImageGeneration g, GetOn(c, id, user_id));
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("DELETE FROM image_generations WHERE id = ?1"));
            HUB_SQL_TRY(st.BindAll(id).Run());
            return g;
        });
    }

    core::Result<GeneratedImage> GetImage(std::string_view user_id,
                                          std::string_view image_id) override {
        static const std::string sql = std::string(kSelectImage) + " WHERE id = ? AND user_id = ?";
        std::vector<Param> params{std::string(image_id), std::string(user_id)};
        return ctx_.db.Read([&](Connection& c) -> core::Result<GeneratedImage> {
            HUB_SQL_ASSIGN(std::vector<GeneratedImage> rows,
                           QueryRows<GeneratedImage>(c, sql, params, ReadImage));
            if (rows.empty()) return NotFound("image");
            return std::move(rows.front());
        });
    }

    core::Result<GeneratedImage> GetImageById(std::string_view image_id) override {
        static const std::string sql = std::string(kSelectImage) + " WHERE id = ?";
        std::vector<Param> params{std::string(image_id)};
        return ctx_.db.Read([&](Connection& c) -> core::Result<GeneratedImage> {
            HUB_SQL_ASSIGN(std::vector<GeneratedImage> rows,
                           QueryRows<GeneratedImage>(c, sql, params, ReadImage));
            if (rows.empty()) return NotFound("image");
            return std::move(rows.front());
        });
    }

    core::Result<std::int64_t> CountFileUses(std::string_view file_path) override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::int64_t> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT (SELECT count(*) FROM images WHERE file_path = ?1)"
                                              " + (SELECT count(*) FROM uploads WHERE file_path = ?1)"));
            st.BindAll(file_path);
            HUB_SQL_ASSIGN(bool row, st.Step());
            return row ? st.Int(0) : std::int64_t{0};
        });
    }

private:
    RepoContext ctx_;
};

}  // namespace

std::unique_ptr<ImageStore> MakeImageStore(RepoContext ctx) {
    return std::make_unique<SqlImageStore>(ctx);
}

}  // namespace hub::store::sql
