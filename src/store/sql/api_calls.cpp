#include "store/sql/repos.hpp"
#include "store/sql/run_once.hpp"

namespace hub::store::sql {

namespace {

constexpr std::string_view kColumns =
    "id, user_id, api_key_id, conversation_id, endpoint, model, status_code, error_code,"
    " input_tokens, output_tokens, image_count, latency_ms, first_token_ms, cost_micro_cny,"
    " upstream_request_id, cache_hit, created_at, upstream_task_id, image_tokens";
constexpr std::string_view kCursorKind = "api_calls";

ApiCall ReadCall(const Stmt& s) {
    ApiCall x;
    x.id = s.Text(0);
    x.user_id = s.Text(1);
    x.api_key_id = s.OptText(2);
    x.conversation_id = s.OptText(3);
    x.endpoint = s.Text(4);
    x.model = s.Text(5);
    x.status_code = static_cast<int>(s.Int(6));
    x.error_code = s.Text(7);
    x.input_tokens = s.Int(8);
    x.output_tokens = s.Int(9);
    x.image_count = s.Int(10);
    x.latency_ms = s.Int(11);
    x.first_token_ms = s.OptInt(12);
    x.cost_micro_cny = s.Int(13);
    x.upstream_request_id = s.Text(14);
    x.cache_hit = s.Bool(15);
    x.created_at = s.Int(16);
    x.upstream_task_id = s.Text(17);
    x.image_tokens = s.Int(18);
    return x;
}

core::Result<void> InsertOn(Connection& c, const ApiCall& x) {
    static const std::string sql =
        "INSERT INTO api_calls (" + std::string(kColumns) +
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
        " ?19)";
    HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
    return st
        .BindAll(x.id, x.user_id, x.api_key_id, x.conversation_id, x.endpoint, x.model,
                 x.status_code, x.error_code, x.input_tokens, x.output_tokens, x.image_count,
                 x.latency_ms, x.first_token_ms, x.cost_micro_cny, x.upstream_request_id,
                 x.cache_hit, x.created_at, x.upstream_task_id, x.image_tokens)
        .Run();
}

// `endpoint GLOB 'p*'` (case-sensitive prefix) in the dialect: MySQL says LIKE BINARY 'p%'.
std::string Glob(bool mysql, std::string clause) {
    if (!mysql) return clause;
    for (std::size_t at = clause.find("GLOB '"); at != std::string::npos;
         at = clause.find("GLOB '", at)) {
        clause.replace(at, 6, "LIKE BINARY '");
        std::size_t star = clause.find('*', at);
        clause[star] = '%';
    }
    return clause;
}

Where FilterWhere(const ApiCallFilter& f, bool mysql) {
    Where w;
    if (f.user_id) w.And("user_id = ?", *f.user_id);
    if (f.from_ms) w.And("created_at >= ?", *f.from_ms);
    if (f.to_ms) w.And("created_at < ?", *f.to_ms);
    if (f.model) w.And("model = ?", *f.model);
    if (f.api_key_id) {
        if (f.api_key_id->empty()) w.And("api_key_id IS NULL");
        else w.And("api_key_id = ?", *f.api_key_id);
    }
    if (f.kind) {
        // As CallKindOf(); GLOB is case-sensitive, as the C++ comparison.
        switch (*f.kind) {
            case CallKind::kTitle:
                w.And("endpoint = 'chat.title'");
                break;
            case CallKind::kImages:
                w.And(Glob(mysql, "(endpoint GLOB 'images*' OR endpoint GLOB '/v1/images/*')"));
                break;
            case CallKind::kChat:
                w.And(Glob(mysql, "(endpoint = 'chat' OR (endpoint GLOB 'chat.*' AND endpoint <> 'chat.title'))"));
                break;
            case CallKind::kCompatible:
                w.And(Glob(mysql, "(endpoint GLOB '/v1/*' AND NOT endpoint GLOB '/v1/images/*')"));
                break;
            case CallKind::kPassthrough:
                w.And(Glob(mysql, "endpoint GLOB '/dashscope/*'"));
                break;
            case CallKind::kOther:
                w.And(Glob(mysql, "NOT (endpoint = 'chat' OR endpoint GLOB 'chat.*' OR endpoint GLOB 'images*'"
                    " OR endpoint GLOB '/v1/*' OR endpoint GLOB '/dashscope/*')"));
                break;
        }
    }
    switch (f.outcome) {
        case CallOutcome::kAny:
            break;
        case CallOutcome::kOk:
            w.And("status_code < 400 AND error_code = ''");
            break;
        case CallOutcome::kError:
            w.And("(status_code >= 400 OR error_code <> '')");
            break;
    }
    return w;
}

class SqlApiCallStore final : public ApiCallStore {
public:
    explicit SqlApiCallStore(RepoContext ctx) : ctx_(ctx) {}

    core::Result<ApiCall> Insert(ApiCall call) override {
        Fill(call);
        return ctx_.db.WriteFor({call.user_id}, [&](Connection& c) -> core::Result<ApiCall> {
            HUB_SQL_TRY(InsertOn(c, call));
            return call;
        });
    }

    core::Result<std::vector<ApiCall>> InsertBatch(std::vector<ApiCall> calls) override {
        std::vector<std::string_view> users;
        for (ApiCall& call : calls) {
            Fill(call);
            users.push_back(call.user_id);
        }
        return ctx_.db.WriteFor(users, [&](Connection& c) -> core::Result<std::vector<ApiCall>> {
            for (const ApiCall& call : calls) HUB_SQL_TRY(InsertOn(c, call));
            return std::move(calls);
        });
    }

    core::Result<Page<ApiCall>> List(const ApiCallFilter& filter,
                                     const PageRequest& page) override {
        return ListBatch(filter, page, ClampLimit(page.limit));
    }

    core::Result<Page<ApiCall>> ListBatch(const ApiCallFilter& filter, const PageRequest& page,
                                          int limit) override {
        limit = std::max(limit, 1);
        Where w = FilterWhere(filter, ctx_.mysql());
        HUB_SQL_TRY(AddCursorBefore(w, "(created_at, id)", kCursorKind, page.cursor, 1));
        w.params().emplace_back(std::int64_t{limit} + 1);
        std::string sql = "SELECT " + std::string(kColumns) + " FROM api_calls" + w.sql() +
                          " ORDER BY created_at DESC, id DESC LIMIT ?";
        return ctx_.db.ReadHeavy(filter.user_id.value_or(""), [&](Connection& c) -> core::Result<Page<ApiCall>> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            st.BindParams(w.params());
            std::vector<ApiCall> rows;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                rows.push_back(ReadCall(st));
            }
            return MakePage(std::move(rows), limit, kCursorKind, [](const ApiCall& x) {
                return CursorKey{{x.created_at}, x.id};
            });
        });
    }

    core::Result<UsageDashboard> Dashboard(const ApiCallFilter& filter, int tz_offset_minutes,
                                           std::size_t top_n) override {
        Where w = FilterWhere(filter, ctx_.mysql());
        // Every column read here and in FilterWhere is in api_calls_stats_idx /
        // api_calls_user_stats_idx (migration 0006): the scan never touches the table.
        std::string sql =
            "SELECT created_at, model, input_tokens, output_tokens, image_count, cost_micro_cny,"
            " latency_ms, status_code, error_code, user_id, coalesce(api_key_id, '')"
            " FROM api_calls" +
            w.sql() + " ORDER BY created_at";
        return ctx_.db.ReadHeavy(filter.user_id.value_or(""), [&](Connection& c) -> core::Result<UsageDashboard> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            st.BindParams(w.params());
            DashboardAccumulator acc(tz_offset_minutes, top_n);
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                acc.Add(DashboardSample{
                    .usage =
                        UsageSample{
                            .created_at = st.Int(0),
                            .model = st.TextView(1),
                            .input_tokens = st.Int(2),
                            .output_tokens = st.Int(3),
                            .image_count = st.Int(4),
                            .cost_micro_cny = st.Int(5),
                            .latency_ms = st.Int(6),
                            .error = IsErrorCall(static_cast<int>(st.Int(7)), st.TextView(8)),
                        },
                    .user_id = top_n > 0 ? st.TextView(9) : std::string_view(),
                    .api_key_id = top_n > 0 ? st.TextView(10) : std::string_view(),
                });
            }
            return std::move(acc).Finish();
        });
    }

    core::Result<UsageStats> Stats(const ApiCallFilter& filter, UsageGroupBy group_by,
                                   int tz_offset_minutes) override {
        Where w = FilterWhere(filter, ctx_.mysql());
        std::string sql =
            "SELECT created_at, model, input_tokens, output_tokens, image_count, cost_micro_cny,"
            " latency_ms, status_code, error_code FROM api_calls" +
            w.sql();
        return ctx_.db.ReadHeavy(filter.user_id.value_or(""), [&](Connection& c) -> core::Result<UsageStats> {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare(sql));
            st.BindParams(w.params());
            UsageAccumulator acc(group_by, tz_offset_minutes);
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                std::string model = st.Text(1);
                acc.Add(UsageSample{
                    .created_at = st.Int(0),
                    .model = model,
                    .input_tokens = st.Int(2),
                    .output_tokens = st.Int(3),
                    .image_count = st.Int(4),
                    .cost_micro_cny = st.Int(5),
                    .latency_ms = st.Int(6),
                    .error = IsErrorCall(static_cast<int>(st.Int(7)), st.Text(8)),
                });
            }
            return std::move(acc).Finish();
        });
    }

    core::Result<std::int64_t> TokensUsedSince(std::string_view user_id,
                                               std::int64_t since_ms) override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::int64_t> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("SELECT coalesce(sum(input_tokens + output_tokens), 0)"
                                     " FROM api_calls WHERE user_id = ?1 AND created_at >= ?2"));
            HUB_SQL_TRY(st.BindAll(user_id, since_ms).Step());
            return st.Int(0);
        });
    }

    core::Result<std::vector<Spend>> SpendSince(std::int64_t since_ms) override {
        return ctx_.db.Read([&](Connection& c) -> core::Result<std::vector<Spend>> {
            HUB_SQL_ASSIGN(Stmt st,
                           c.Prepare("SELECT user_id, coalesce(sum(input_tokens + output_tokens), 0),"
                                     " coalesce(sum(cost_micro_cny), 0) FROM api_calls"
                                     " WHERE created_at >= ?1 GROUP BY user_id"));
            st.BindAll(since_ms);
            std::vector<Spend> out;
            while (true) {
                HUB_SQL_ASSIGN(bool row, st.Step());
                if (!row) break;
                out.push_back(Spend{st.Text(0), st.Int(1), st.Int(2)});
            }
            return out;
        });
    }

private:
    void Fill(ApiCall& call) const {
        FillTime(call.created_at, ctx_.clock.NowMs());
        FillId(call.id, call.created_at);
    }

    RepoContext ctx_;
};

}  // namespace

core::Result<void> InsertApiCallOn(Connection& c, const ApiCall& call) { return InsertOn(c, call); }

std::unique_ptr<ApiCallStore> MakeApiCallStore(RepoContext ctx) {
    return std::make_unique<SqlApiCallStore>(ctx);
}

}  // namespace hub::store::sql
