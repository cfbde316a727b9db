#include "store/sql/repos.hpp"

#include <cctype>

#include "core/id.hpp"

namespace hub::store::sql {

core::Error RefineConflict(core::Error e, std::initializer_list<UniqueRule> rules) {
    if (e.code != core::ErrorCode::kConflict) return e;
    for (const auto& r : rules) {
        if (e.detail.find(r.column) != std::string::npos) {
            e.api_code = std::string(r.api_code);
            e.public_message = std::string(r.message);
            return e;
        }
    }
    return e;
}

core::Error NotFound(std::string_view what) {
    return core::Error::Make(core::ErrorCode::kNotFound, std::string(what) + "_not_found",
                             std::string(what) + " not found");
}

std::string Upsert(bool mysql, std::string_view insert, std::string_view key,
                   std::string_view set) {
    std::string sql(insert);
    if (!mysql) {
        sql += " ON CONFLICT (";
        sql += key;
        sql += ") DO UPDATE SET ";
        sql += set;
        return sql;
    }
    sql += " ON DUPLICATE KEY UPDATE ";
    constexpr std::string_view kExcluded = "excluded.";
    std::size_t from = 0;
    for (std::size_t at = set.find(kExcluded); at != std::string_view::npos;
         at = set.find(kExcluded, from)) {
        sql += set.substr(from, at - from);
        std::size_t end = at + kExcluded.size();
        while (end < set.size() && (std::isalnum(static_cast<unsigned char>(set[end])) != 0 ||
                                    set[end] == '_')) {
            ++end;
        }
        sql += "VALUES(";
        sql += set.substr(at + kExcluded.size(), end - at - kExcluded.size());
        sql += ")";
        from = end;
    }
    sql += set.substr(from);
    return sql;
}

core::Result<std::vector<int>> RecordedVersions(Connection& c) {
    HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT version FROM schema_migrations ORDER BY version"));
    std::vector<int> versions;
    while (true) {
        HUB_SQL_ASSIGN(bool row, st.Step());
        if (!row) break;
        versions.push_back(static_cast<int>(st.Int(0)));
    }
    return versions;
}

void FillId(std::string& id, std::int64_t at_ms) {
    if (id.empty()) id = core::NewIdAt(at_ms);
}

void FillTime(std::int64_t& t, std::int64_t now_ms) {
    if (t == 0) t = now_ms;
}

std::string LikePattern(std::string_view text) {
    std::string p = "%";
    for (char c : text) {
        if (c == '%' || c == '_' || c == '\\') p.push_back('\\');
        p.push_back(c);
    }
    p.push_back('%');
    return p;
}

core::Result<void> AddCursorBefore(Where& where, std::string_view columns, std::string_view kind,
                                   const std::string& cursor, std::size_t key_count) {
    if (cursor.empty()) return core::Ok();
    HUB_SQL_ASSIGN(CursorKey key, DecodeCursor(kind, cursor, key_count));
    std::string clause(columns);
    clause += " < (";
    for (std::size_t i = 0; i < key_count; ++i) clause += "?, ";
    clause += "?)";
    where.And(clause);
    for (std::int64_t k : key.keys) where.params().emplace_back(k);
    where.params().emplace_back(std::move(key.id));
    return core::Ok();
}

}  // namespace hub::store::sql
