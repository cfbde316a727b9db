#include "store/copy.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "store/sql/sql_store.hpp"

namespace hub::store {

namespace {

using core::Error;
using core::ErrorCode;
using sql::Connection;
using sql::Dialect;
using sql::Stmt;

enum class Kind { kInt, kText, kBlob };

struct Column {
    std::string name;
    Kind kind = Kind::kText;
};

struct Table {
    std::string name;
    std::vector<Column> columns;
};

// Tables that migrations fill: a new database has their rows, the copy replaces them.
const std::set<std::string>& SeededTables() {
    static const std::set<std::string> kSeeded = {"permissions", "role_permissions", "roles"};
    return kSeeded;
}

Kind KindOf(std::string type) {
    std::transform(type.begin(), type.end(), type.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (type.find("INT") != std::string::npos) return Kind::kInt;
    if (type.find("BLOB") != std::string::npos || type.find("BINARY") != std::string::npos)
        return Kind::kBlob;
    return Kind::kText;
}

std::string Quoted(const std::string& name) { return "\"" + name + "\""; }

// Every table of the schema with its columns (generated columns and search indexes left out).
core::Result<std::vector<Table>> Catalog(Connection& c) {
    std::vector<Table> tables;
    if (c.dialect() == Dialect::kSqlite) {
        HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT name FROM sqlite_master WHERE type = 'table'"
                                          " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%'"
                                          " AND name <> 'schema_migrations' ORDER BY name"));
        while (true) {
            HUB_SQL_ASSIGN(bool row, st.Step());
            if (!row) break;
            tables.push_back({st.Text(0), {}});
        }
        for (Table& t : tables) {
            HUB_SQL_ASSIGN(Stmt cols, c.Prepare("SELECT name, type FROM pragma_table_info(?1)"));
            cols.BindAll(t.name);
            while (true) {
                HUB_SQL_ASSIGN(bool row, cols.Step());
                if (!row) break;
                t.columns.push_back({cols.Text(0), KindOf(cols.Text(1))});
            }
        }
        return tables;
    }
    HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT table_name, column_name, column_type"
                                      " FROM information_schema.columns"
                                      " WHERE table_schema = DATABASE()"
                                      " AND table_name <> 'schema_migrations'"
                                      " AND extra NOT LIKE '%GENERATED%'"
                                      " ORDER BY table_name, ordinal_position"));
    while (true) {
        HUB_SQL_ASSIGN(bool row, st.Step());
        if (!row) break;
        std::string table = st.Text(0);
        if (tables.empty() || tables.back().name != table) tables.push_back({table, {}});
        tables.back().columns.push_back({st.Text(1), KindOf(st.Text(2))});
    }
    return tables;
}

const Table* Find(const std::vector<Table>& tables, const std::string& name) {
    for (const Table& t : tables) {
        if (t.name == name) return &t;
    }
    return nullptr;
}

core::Result<std::int64_t> Count(Connection& c, const std::string& table) {
    HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT count(*) FROM " + Quoted(table)));
    HUB_SQL_ASSIGN(bool row, st.Step());
    return row ? st.Int(0) : 0;
}

// Copies the rows of one table; returns how many.
core::Result<std::int64_t> CopyTable(Connection& src, Connection& dst, const Table& target,
                                     const Table& source) {
    std::vector<Column> columns;
    for (const Column& col : target.columns) {
        bool in_source = std::any_of(source.columns.begin(), source.columns.end(),
                                     [&](const Column& s) { return s.name == col.name; });
        if (in_source) columns.push_back(col);
    }
    if (columns.empty()) return 0;
    std::string list, marks;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (i > 0) {
            list += ", ";
            marks += ", ";
        }
        list += Quoted(columns[i].name);
        marks += "?" + std::to_string(i + 1);
    }
    HUB_SQL_ASSIGN(Stmt read, src.Prepare("SELECT " + list + " FROM " + Quoted(target.name)));
    const std::string insert =
        "INSERT INTO " + Quoted(target.name) + " (" + list + ") VALUES (" + marks + ")";
    std::int64_t n = 0;
    while (true) {
        HUB_SQL_ASSIGN(bool row, read.Step());
        if (!row) break;
        HUB_SQL_ASSIGN(Stmt write, dst.Prepare(insert));
        for (std::size_t i = 0; i < columns.size(); ++i) {
            int col = static_cast<int>(i);
            int param = col + 1;
            if (read.IsNull(col)) {
                write.Bind(param, nullptr);
            } else if (columns[i].kind == Kind::kInt) {
                write.Bind(param, read.Int(col));
            } else if (columns[i].kind == Kind::kBlob) {
                write.BindBlob(param, read.TextView(col));
            } else {
                write.Bind(param, read.TextView(col));
            }
        }
        if (auto r = write.Run(); !r.ok()) {
            Error e = r.error();
            e.detail = "table " + target.name + ": " + e.detail;
            return e;
        }
        ++n;
    }
    return n;
}

// Rows arrive table by table, children possibly before their parents: SQLite checks foreign
// keys at COMMIT instead (the pragma ends with the transaction), MySQL not at all for this
// session until they are turned back on (the rows come from a database that checked them).
core::Result<void> RelaxForeignKeys(Connection& c, bool relax) {
    if (c.dialect() == Dialect::kSqlite) {
        return relax ? c.Exec("PRAGMA defer_foreign_keys = ON") : core::Ok();
    }
    return c.Exec(relax ? "SET FOREIGN_KEY_CHECKS = 0" : "SET FOREIGN_KEY_CHECKS = 1");
}

core::Result<CopyReport> CopyInto(Connection& src, Connection& dst) {
    HUB_SQL_ASSIGN(std::vector<Table> from, Catalog(src));
    HUB_SQL_ASSIGN(std::vector<Table> to, Catalog(dst));
    for (const Table& t : to) {
        if (Find(from, t.name) == nullptr) {
            return Error::Make(ErrorCode::kConflict, "schema_mismatch",
                               "the two databases do not have the same tables",
                               "the source has no table " + t.name);
        }
        if (SeededTables().count(t.name) != 0) continue;
        HUB_SQL_ASSIGN(Stmt any, dst.Prepare("SELECT 1 FROM " + Quoted(t.name) + " LIMIT 1"));
        HUB_SQL_ASSIGN(bool row, any.Step());
        if (row) {
            return Error::Make(ErrorCode::kConflict, "target_not_empty",
                               "the target database is not empty", "table " + t.name + " has rows");
        }
    }
    HUB_SQL_TRY(RelaxForeignKeys(dst, true));
    struct Restore {
        Connection& c;
        ~Restore() { (void)RelaxForeignKeys(c, false); }
    } restore{dst};
    for (const std::string& seeded : SeededTables()) {
        HUB_SQL_TRY(dst.Exec("DELETE FROM " + Quoted(seeded)));
    }
    CopyReport report;
    for (const Table& t : to) {
        HUB_SQL_ASSIGN(std::int64_t copied, CopyTable(src, dst, t, *Find(from, t.name)));
        HUB_SQL_ASSIGN(std::int64_t in_source, Count(src, t.name));
        HUB_SQL_ASSIGN(std::int64_t in_target, Count(dst, t.name));
        if (copied != in_source || in_target != in_source) {
            return Error::Make(ErrorCode::kInternal, "copy_mismatch",
                               "the copy does not have the source's rows",
                               "table " + t.name + ": source " + std::to_string(in_source) +
                                   ", copied " + std::to_string(copied) + ", target " +
                                   std::to_string(in_target));
        }
        report.rows[t.name] = in_source;
    }
    return report;
}

}  // namespace

core::Result<CopyReport> CopyStore(Store& from, Store& to) {
    auto* source = dynamic_cast<sql::SqlStore*>(&from);
    auto* target = dynamic_cast<sql::SqlStore*>(&to);
    if (source == nullptr || target == nullptr) {
        return Error::Make(ErrorCode::kInvalidArgument, "unsupported_store",
                           "this store cannot be copied");
    }
    HUB_SQL_ASSIGN(SchemaState a, from.SchemaStatus());
    HUB_SQL_ASSIGN(SchemaState b, to.SchemaStatus());
    if (a.current != b.current) {
        return Error::Make(ErrorCode::kConflict, "schema_mismatch",
                           "the two databases are at different schema versions",
                           "source at " + std::to_string(a.current) + ", target at " +
                               std::to_string(b.current));
    }
    return source->database().Read([&](Connection& src) -> core::Result<CopyReport> {
        return target->database().Write(
            [&](Connection& dst) -> core::Result<CopyReport> { return CopyInto(src, dst); });
    });
}

}  // namespace hub::store
