#include "store/mysql/db.hpp"

#include <mysql.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "core/text.hpp"

namespace hub::store::mysql {

using core::Error;
using core::ErrorCode;

namespace {

constexpr std::string_view kSqlMode =
    "SET SESSION sql_mode = 'ANSI_QUOTES,PIPES_AS_CONCAT,STRICT_ALL_TABLES,"
    "NO_BACKSLASH_ESCAPES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO'";

using core::IEquals;

// The words of the start of a statement, to find the table an INSERT/UPDATE/REPLACE writes.
std::string TargetTable(std::string_view sql) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (words.size() < 4 && i < sql.size()) {
        while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
        std::size_t start = i;
        while (i < sql.size() && !std::isspace(static_cast<unsigned char>(sql[i])) &&
               sql[i] != '(') {
            ++i;
        }
        if (i == start) break;
        words.push_back(sql.substr(start, i - start));
    }
    auto unquote = [](std::string_view w) {
        if (w.size() >= 2 && (w.front() == '"' || w.front() == '`')) w = w.substr(1, w.size() - 2);
        return std::string(w);
    };
    std::size_t k = 0;
    if (k < words.size() && IEquals(words[k], "UPDATE")) {
        ++k;
        if (k < words.size() && IEquals(words[k], "IGNORE")) ++k;
        return k < words.size() ? unquote(words[k]) : std::string();
    }
    if (k < words.size() && (IEquals(words[k], "INSERT") || IEquals(words[k], "REPLACE"))) {
        ++k;
        if (k < words.size() && IEquals(words[k], "IGNORE")) ++k;
        if (k < words.size() && IEquals(words[k], "INTO")) ++k;
        return k < words.size() ? unquote(words[k]) : std::string();
    }
    if (k < words.size() && IEquals(words[k], "DELETE")) {
        ++k;
        if (k < words.size() && IEquals(words[k], "FROM")) ++k;
        return k < words.size() ? unquote(words[k]) : std::string();
    }
    return {};
}

Error Unavailable(std::string detail) {
    return Error::Make(ErrorCode::kUnavailable, "database_unavailable",
                       "the database is unavailable", std::move(detail));
}

// Removes the password from a text that goes into an error (belt and braces: the server's
// and the client's messages do not contain it).
std::string Scrub(std::string text, const std::string& password) {
    if (password.size() < 4) return text;
    for (auto p = text.find(password); p != std::string::npos; p = text.find(password, p)) {
        text.replace(p, password.size(), "***");
    }
    return text;
}

}  // namespace

// ---- parameters ----

core::Result<RewrittenSql> RewriteParams(std::string_view sql) {
    RewrittenSql out;
    out.sql.reserve(sql.size());
    std::size_t i = 0;
    const std::size_t n = sql.size();
    auto copy_until = [&](std::size_t end) {
        out.sql.append(sql.substr(i, end - i));
        i = end;
    };
    while (i < n) {
        char c = sql[i];
        if (c == '\'' || c == '"' || c == '`') {
            // Quoted text; a doubled quote is a quote (no backslash escapes in our sql_mode).
            std::size_t j = i + 1;
            while (j < n) {
                if (sql[j] == c) {
                    if (j + 1 < n && sql[j + 1] == c) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                ++j;
            }
            if (j >= n) {
                return Error::Make(ErrorCode::kInternal, "database_error", "database error",
                                   "mysql: unterminated quote in '" +
                                       std::string(sql.substr(0, 120)) + "'");
            }
            copy_until(j + 1);
        } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
            auto end = sql.find('\n', i);
            copy_until(end == std::string_view::npos ? n : end);
        } else if (c == '#') {
            auto end = sql.find('\n', i);
            copy_until(end == std::string_view::npos ? n : end);
        } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
            auto end = sql.find("*/", i + 2);
            copy_until(end == std::string_view::npos ? n : end + 2);
        } else if (c == '?') {
            std::size_t j = i + 1;
            while (j < n && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
            int number = out.highest + 1;
            if (j > i + 1) {
                auto [p, ec] = std::from_chars(sql.data() + i + 1, sql.data() + j, number);
                if (ec != std::errc() || number < 1 || number > 32766) {
                    return Error::Make(ErrorCode::kInternal, "database_error", "database error",
                                       "mysql: bad parameter number in '" +
                                           std::string(sql.substr(0, 120)) + "'");
                }
            }
            out.numbers.push_back(number);
            out.highest = std::max(out.highest, number);
            out.sql.push_back('?');
            i = j;
        } else {
            out.sql.push_back(c);
            ++i;
        }
    }
    return out;
}

// ---- errors ----

bool IsConnectionError(unsigned e) {
    if (e >= 2000 && e < 3000) return true;  // every client-side error (CR_*)
    switch (e) {
        case 1040:  // too many connections
        case 1053:  // server shutdown in progress
        case 1077:  // normal shutdown
        case 1078:  // got signal, aborting
        case 1079:  // shutdown complete
        case 1152:  // aborted connection
        case 1153:  // packet too large (the connection is reset)
        case 1158: case 1159: case 1160: case 1161:  // network read/write errors, timeouts
        case 1927:  // connection was killed
        case 4031:  // disconnected by the server (inactivity)
            return true;
        default:
            return false;
    }
}

Error ErrorFromMysql(unsigned number, std::string_view message, std::string_view context) {
    std::string detail = "mysql: ";
    if (!context.empty()) {
        detail += context;
        detail += ": ";
    }
    detail += message;
    detail += " (" + std::to_string(number) + ")";
    switch (number) {
        case 1022:  // duplicate key
        case 1062:  // duplicate entry
        case 1586:  // duplicate entry for key
            return Error::Make(ErrorCode::kConflict, "conflict", "it already exists",
                               std::move(detail));
        case 1216: case 1217:  // (old) foreign key errors
        case 1451:  // cannot delete or update a parent row
        case 1452:  // cannot add or update a child row
            return Error::Make(ErrorCode::kUnprocessable, "invalid_reference",
                               "a referenced record does not exist", std::move(detail));
        case 1048:  // column cannot be null
        case 1263:  // NULL supplied to NOT NULL column
        case 1264:  // out of range value
        case 1265:  // data truncated
        case 1292:  // truncated incorrect value
        case 1364:  // field has no default value
        case 1365:  // division by 0
        case 1366:  // incorrect string/integer value
        case 1406:  // data too long
        case 3819:  // check constraint violated (MySQL)
        case 4025:  // CONSTRAINT ... failed (MariaDB)
            return Error::Make(ErrorCode::kInvalidArgument, "validation_failed",
                               "a value is not allowed", std::move(detail));
        case 1205:  // lock wait timeout
        case 1213:  // deadlock
            return Error::Make(ErrorCode::kUnavailable, "database_busy",
                               "the database is busy, try again", std::move(detail));
        case 1044:  // access denied to the database
        case 1045:  // access denied (wrong user or password)
        case 1049:  // unknown database
        case 1130:  // host not allowed
            return Unavailable(std::move(detail));
        default:
            if (IsConnectionError(number)) return Unavailable(std::move(detail));
            return Error::Make(ErrorCode::kInternal, "database_error", "database error",
                               std::move(detail));
    }
}

// ---- Statement ----

class Statement final : public sql::StmtImpl {
public:
    Statement(Connection* conn, MYSQL_STMT* st, RewrittenSql rewritten, std::string target)
        : conn_(conn), st_(st), rw_(std::move(rewritten)), target_(std::move(target)),
          values_(static_cast<std::size_t>(rw_.highest)) {}
    ~Statement() override {
        if (st_ != nullptr) mysql_stmt_close(st_);
    }

    bool in_use = false;
    const std::string& text() const { return text_; }
    void set_text(std::string t) { text_ = std::move(t); }

    void BindInt(int index, std::int64_t v) override {
        Value& x = Slot(index);
        x.kind = Kind::kInt;
        x.i = v;
    }
    void BindText(int index, std::string_view v) override {
        Value& x = Slot(index);
        x.kind = Kind::kText;
        x.s.assign(v);
    }
    void BindBlob(int index, std::string_view bytes) override {
        Value& x = Slot(index);
        x.kind = Kind::kBlob;
        x.s.assign(bytes);
    }
    void BindNull(int index) override { Slot(index).kind = Kind::kNull; }

    core::Result<bool> Step() override {
        if (!executed_) {
            executed_ = true;
            HUB_SQL_TRY(Execute());
        }
        if (!has_result_) return false;
        int rc = mysql_stmt_fetch(st_);
        if (rc == MYSQL_NO_DATA) return false;
        if (rc == 1) return Fail("fetch");
        if (rc == MYSQL_DATA_TRUNCATED) {
            // A value longer than its buffer (should not happen: buffers are sized from the
            // result's max_length); read it whole.
            bool rebind = false;
            for (std::size_t c = 0; c < cols_.size(); ++c) {
                if (!cols_[c].error || cols_[c].is_null) continue;
                Column& col = cols_[c];
                col.buf.resize(col.length + 1);
                binds_[c].buffer = col.buf.data();
                binds_[c].buffer_length = col.buf.size();
                if (mysql_stmt_fetch_column(st_, &binds_[c], static_cast<unsigned>(c), 0) != 0) {
                    return Fail("fetch column");
                }
                rebind = true;
            }
            if (rebind && mysql_stmt_bind_result(st_, binds_.data()) != 0) return Fail("bind result");
        }
        return true;
    }

    bool IsNull(int col) const override { return Col(col).is_null; }

    std::int64_t Int(int col) const override {
        const Column& c = Col(col);
        if (c.is_null) return 0;
        if (c.integer) return c.i;
        // DECIMAL/NEWDECIMAL, DOUBLE or text: parse the leading number.
        std::string_view s(c.buf.data(), std::min<std::size_t>(c.length, c.buf.size()));
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec == std::errc() && (p == s.data() + s.size() || *p == '.')) return v;
        double d = 0;
        auto [pd, ecd] = std::from_chars(s.data(), s.data() + s.size(), d);
        if (ecd == std::errc()) return static_cast<std::int64_t>(d);
        return 0;
    }

    std::string_view Bytes(int col) const override {
        const Column& c = Col(col);
        if (c.is_null) return {};
        if (c.integer) {
            // An integer column read as text.
            c.text = std::to_string(c.i);
            return c.text;
        }
        return std::string_view(c.buf.data(), std::min<std::size_t>(c.length, c.buf.size()));
    }

    void Release() noexcept override {
        if (has_result_) mysql_stmt_free_result(st_);
        has_result_ = false;
        executed_ = false;
        for (auto& v : values_) v.kind = Kind::kUnset;
        in_use = false;
    }

private:
    enum class Kind { kUnset, kNull, kInt, kText, kBlob };
    struct Value {
        Kind kind = Kind::kUnset;
        std::int64_t i = 0;
        std::string s;
    };
    struct Column {
        bool integer = false;
        std::int64_t i = 0;
        std::vector<char> buf;
        unsigned long length = 0;
        my_bool is_null = 0;
        my_bool error = 0;
        mutable std::string text;  // an integer column read as text
    };

    Value& Slot(int index) {
        if (index < 1 || index > rw_.highest) {
            throw std::logic_error("mysql bind " + std::to_string(index) + " of '" + text_ +
                                   "': no such parameter");
        }
        return values_[static_cast<std::size_t>(index - 1)];
    }

    const Column& Col(int col) const {
        if (col < 0 || static_cast<std::size_t>(col) >= cols_.size()) {
            throw std::logic_error("mysql column " + std::to_string(col) + " of '" + text_ +
                                   "': no such column");
        }
        return cols_[static_cast<std::size_t>(col)];
    }

    core::Result<bool> Fail(std::string_view what) {
        unsigned number = mysql_stmt_errno(st_);
        std::string message = mysql_stmt_error(st_);
        return conn_->ErrorOf(number, message, what, target_);
    }

    core::Result<void> Execute() {
        if (conn_->broken_) {
            return Unavailable("mysql: the connection was lost earlier");
        }
        std::vector<MYSQL_BIND> params(rw_.numbers.size());
        std::vector<my_bool> nulls(rw_.numbers.size(), 0);
        for (std::size_t p = 0; p < rw_.numbers.size(); ++p) {
            Value& v = values_[static_cast<std::size_t>(rw_.numbers[p] - 1)];
            MYSQL_BIND& b = params[p];
            std::memset(&b, 0, sizeof b);
            switch (v.kind) {
                case Kind::kUnset:
                case Kind::kNull:
                    b.buffer_type = MYSQL_TYPE_NULL;
                    break;
                case Kind::kInt:
                    b.buffer_type = MYSQL_TYPE_LONGLONG;
                    b.buffer = &v.i;
                    break;
                case Kind::kText:
                    b.buffer_type = MYSQL_TYPE_STRING;
                    b.buffer = v.s.data();
                    b.buffer_length = v.s.size();
                    break;
                case Kind::kBlob:
                    b.buffer_type = MYSQL_TYPE_BLOB;
                    b.buffer = v.s.data();
                    b.buffer_length = v.s.size();
                    break;
            }
        }
        if (!params.empty() && mysql_stmt_bind_param(st_, params.data()) != 0) {
            return Fail("bind").error();
        }
        if (mysql_stmt_execute(st_) != 0) return Fail("execute").error();
        unsigned fields = mysql_stmt_field_count(st_);
        if (fields == 0) {
            conn_->changes_ = static_cast<std::int64_t>(mysql_stmt_affected_rows(st_));
            return core::Ok();
        }
        // Buffer the whole result on the client, with each column's longest value known, so
        // other statements may run on this connection while the rows are read.
        my_bool update_max = 1;
        mysql_stmt_attr_set(st_, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
        if (mysql_stmt_store_result(st_) != 0) return Fail("store result").error();
        has_result_ = true;
        MYSQL_RES* meta = mysql_stmt_result_metadata(st_);
        if (meta == nullptr) return Fail("result metadata").error();
        MYSQL_FIELD* f = mysql_fetch_fields(meta);
        cols_.assign(fields, Column{});
        binds_.assign(fields, MYSQL_BIND{});
        for (unsigned c = 0; c < fields; ++c) {
            Column& col = cols_[c];
            MYSQL_BIND& b = binds_[c];
            std::memset(&b, 0, sizeof b);
            b.is_null = &col.is_null;
            b.error = &col.error;
            b.length = &col.length;
            switch (f[c].type) {
                case MYSQL_TYPE_TINY:
                case MYSQL_TYPE_SHORT:
                case MYSQL_TYPE_INT24:
                case MYSQL_TYPE_LONG:
                case MYSQL_TYPE_LONGLONG:
                case MYSQL_TYPE_YEAR:
                    col.integer = true;
                    b.buffer_type = MYSQL_TYPE_LONGLONG;
                    b.buffer = &col.i;
                    b.is_unsigned = 0;
                    break;
                default: {
                    col.integer = false;
                    std::size_t size = std::max<std::size_t>(f[c].max_length, 1) + 1;
                    col.buf.resize(size);
                    b.buffer_type = (f[c].type == MYSQL_TYPE_BLOB ||
                                     f[c].type == MYSQL_TYPE_MEDIUM_BLOB ||
                                     f[c].type == MYSQL_TYPE_LONG_BLOB ||
                                     f[c].type == MYSQL_TYPE_TINY_BLOB)
                                        ? MYSQL_TYPE_BLOB
                                        : MYSQL_TYPE_STRING;
                    b.buffer = col.buf.data();
                    b.buffer_length = col.buf.size();
                    break;
                }
            }
        }
        mysql_free_result(meta);
        if (mysql_stmt_bind_result(st_, binds_.data()) != 0) return Fail("bind result").error();
        return core::Ok();
    }

    Connection* conn_;
    MYSQL_STMT* st_;
    RewrittenSql rw_;
    std::string target_;
    std::string text_;
    std::vector<Value> values_;
    std::vector<Column> cols_;
    std::vector<MYSQL_BIND> binds_;
    bool executed_ = false;
    bool has_result_ = false;
};

// ---- Connection ----

Connection::Connection(MYSQL* db, UrlOptions options) : db_(db), options_(std::move(options)) {}

Connection::~Connection() {
    cache_.clear();  // closes the statements before the connection
    mysql_close(db_);
}

core::Result<std::unique_ptr<Connection>> Connection::Open(const UrlOptions& o) {
    static std::once_flag library_init;  // mysql_init alone is not thread-safe the first time
    std::call_once(library_init, [] { mysql_library_init(0, nullptr, nullptr); });
    MYSQL* db = mysql_init(nullptr);
    if (db == nullptr) return Unavailable("mysql: out of memory");
    unsigned timeout_s = static_cast<unsigned>((o.timeout_ms + 999) / 1000);
    my_bool no = 0;
    my_bool yes = 1;
    mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_s);
    mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &timeout_s);
    mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &timeout_s);
    mysql_options(db, MYSQL_OPT_RECONNECT, &no);
    mysql_options(db, MYSQL_REPORT_DATA_TRUNCATION, &yes);
    if (o.tls_required) {
        // Connector/C 3.3 enforces TLS only together with certificate verification.
        mysql_options(db, MYSQL_OPT_SSL_ENFORCE, &yes);
        mysql_options(db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
        if (!o.tls_ca.empty()) mysql_options(db, MYSQL_OPT_SSL_CA, o.tls_ca.c_str());
    }
    const char* host = o.socket.empty() ? o.host.c_str() : nullptr;
    const char* socket = o.socket.empty() ? nullptr : o.socket.c_str();
    if (mysql_real_connect(db, host, o.user.c_str(), o.password.c_str(), o.database.c_str(),
                           o.socket.empty() ? o.port : 0, socket, CLIENT_FOUND_ROWS) == nullptr) {
        unsigned number = mysql_errno(db);
        std::string message = Scrub(mysql_error(db), o.password);
        mysql_close(db);
        Error e = ErrorFromMysql(number, message, "cannot connect");
        if (e.code != ErrorCode::kUnavailable) e = Unavailable(e.detail);
        return e;
    }
    std::unique_ptr<Connection> conn(new Connection(db, o));
    HUB_SQL_TRY(conn->Query("SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci"));
    HUB_SQL_TRY(conn->Query(kSqlMode));
    HUB_SQL_TRY(conn->Query("SET SESSION time_zone = '+00:00'"));
    HUB_SQL_TRY(conn->Query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"));
    // A row lock held by another transaction is given up before the client's read timeout.
    std::string lock_wait = "SET SESSION innodb_lock_wait_timeout = " +
                            std::to_string(std::max(1u, timeout_s > 1 ? timeout_s - 1 : 1u));
    HUB_SQL_TRY(conn->Query(lock_wait));
    return conn;
}

Error Connection::ErrorOf(unsigned number, std::string_view message, std::string_view context,
                          std::string_view target_table) {
    last_error_ = number;
    if (IsConnectionError(number)) broken_ = true;
    std::string text = Scrub(std::string(message), options_.password);
    if (number == 1062 || number == 1586) {
        // "Duplicate entry 'v' for key 'users_username_uq'" (MySQL 8: 'users.users_username_uq'):
        // name the index and its table.columns, leave the value out of the logs.
        std::string index;
        auto k = text.rfind("for key '");
        if (k != std::string::npos) {
            auto end = text.find('\'', k + 9);
            if (end != std::string::npos) index = text.substr(k + 9, end - k - 9);
        }
        std::string table(target_table);
        if (auto dot = index.find('.'); dot != std::string::npos) {
            table = index.substr(0, dot);
            index = index.substr(dot + 1);
        }
        std::string cols = index.empty() ? std::string() : UniqueColumns(index, table);
        text = "duplicate entry for key '" + index + "'";
        if (!cols.empty()) text += " [" + cols + "]";
    }
    return ErrorFromMysql(number, text, context);
}

std::string Connection::UniqueColumns(std::string_view index, std::string_view target_table) {
    auto find = [&]() -> std::string {
        if (!target_table.empty()) {
            auto it = unique_columns_.find(std::string(target_table) + "\n" + std::string(index));
            if (it != unique_columns_.end()) return it->second;
            return {};
        }
        std::string found;
        for (const auto& [key, cols] : unique_columns_) {
            if (key.substr(key.find('\n') + 1) == index) {
                if (!found.empty()) return {};  // the same name on two tables: ambiguous
                found = cols;
            }
        }
        return found;
    };
    if (unique_loaded_) {
        if (auto s = find(); !s.empty()) return s;
    }
    // Load (or reload: a migration may have added an index since).
    unique_loaded_ = true;
    unique_columns_.clear();
    std::string_view q =
        "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS"
        " WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0"
        " ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";
    if (mysql_real_query(db_, q.data(), q.size()) != 0) return {};
    MYSQL_RES* res = mysql_store_result(db_);
    if (res == nullptr) return {};
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
        if (row[0] == nullptr || row[1] == nullptr || row[2] == nullptr) continue;
        std::string key = std::string(row[0]) + "\n" + row[1];
        std::string& cols = unique_columns_[key];
        if (!cols.empty()) cols += ", ";
        cols += std::string(row[0]) + "." + row[2];
    }
    mysql_free_result(res);
    return find();
}

core::Result<sql::Stmt> Connection::Prepare(std::string_view sql) {
    if (broken_) return Unavailable("mysql: the connection was lost earlier");
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        if (cache_.size() >= kMaxCachedStatements) EvictIdle();
        HUB_SQL_ASSIGN(RewrittenSql rw, RewriteParams(sql));
        MYSQL_STMT* st = mysql_stmt_init(db_);
        if (st == nullptr) return ErrorOf(mysql_errno(db_), mysql_error(db_), "prepare", {});
        if (mysql_stmt_prepare(st, rw.sql.data(), rw.sql.size()) != 0) {
            unsigned number = mysql_stmt_errno(st);
            std::string message = mysql_stmt_error(st);
            mysql_stmt_close(st);
            return ErrorOf(number, message, "prepare '" + std::string(sql.substr(0, 120)) + "'",
                           {});
        }
        auto stmt = std::make_unique<Statement>(this, st, std::move(rw), TargetTable(sql));
        stmt->set_text(std::string(sql));
        it = cache_.emplace(std::string(sql), std::move(stmt)).first;
    }
    if (it->second->in_use) {
        throw std::logic_error("mysql statement used twice at once: " + it->first);
    }
    it->second->in_use = true;
    return sql::Stmt(it->second.get());
}

void Connection::EvictIdle() {
    for (auto it = cache_.begin(); it != cache_.end();) {
        if (it->second->in_use) {
            ++it;
        } else {
            it = cache_.erase(it);
        }
    }
}

core::Result<void> Connection::Query(std::string_view sql) {
    if (broken_) return Unavailable("mysql: the connection was lost earlier");
    if (mysql_real_query(db_, sql.data(), sql.size()) != 0) {
        return ErrorOf(mysql_errno(db_), mysql_error(db_), {}, TargetTable(sql));
    }
    // Discard any result sets.
    do {
        if (MYSQL_RES* res = mysql_store_result(db_)) {
            mysql_free_result(res);
        } else if (mysql_field_count(db_) == 0) {
            changes_ = static_cast<std::int64_t>(mysql_affected_rows(db_));
        } else {
            return ErrorOf(mysql_errno(db_), mysql_error(db_), {}, {});
        }
    } while (mysql_next_result(db_) == 0);
    last_error_ = 0;
    return core::Ok();
}

void Connection::RollbackQuietly() noexcept {
    if (broken_) return;
    if (mysql_real_query(db_, "ROLLBACK", 8) != 0) {
        if (IsConnectionError(mysql_errno(db_))) broken_ = true;
    }
}

core::Result<void> Connection::Ping() {
    if (broken_) return Unavailable("mysql: the connection was lost earlier");
    if (mysql_ping(db_) != 0) return ErrorOf(mysql_errno(db_), mysql_error(db_), "ping", {});
    return core::Ok();
}

// ---- Database ----

class Database::Lease {
public:
    Lease(Database& db, int slot) : db_(db), slot_(slot) {}
    ~Lease() { db_.Give(slot_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& conn() { return *db_.slots_[static_cast<std::size_t>(slot_)]; }
    // Starts a transaction with `begin`. A pooled connection may have died while idle (the
    // server restarted): then it is reopened and the begin tried once more, nothing having
    // run on it yet.
    core::Result<void> Begin(std::string_view begin) {
        auto r = conn().Query(begin);
        if (r.ok() || !conn().broken()) return r;
        HUB_SQL_TRY(Reopen());
        return conn().Query(begin);
    }
    core::Result<void> Ping() {
        auto r = conn().Ping();
        if (r.ok() || !conn().broken()) return r;
        HUB_SQL_TRY(Reopen());
        return conn().Ping();
    }

private:
    core::Result<void> Reopen() {
        auto& slot = db_.slots_[static_cast<std::size_t>(slot_)];
        slot.reset();
        HUB_SQL_ASSIGN(slot, Connection::Open(db_.options_));
        return core::Ok();
    }

public:

private:
    Database& db_;
    int slot_;
};

Database::Database(UrlOptions options) : options_(std::move(options)) {
    slots_.resize(static_cast<std::size_t>(options_.pool));
    for (int i = options_.pool - 1; i >= 0; --i) idle_.push_back(i);
}

Database::~Database() = default;

core::Result<std::unique_ptr<Database>> Database::Open(const UrlOptions& options) {
    std::unique_ptr<Database> db(new Database(options));
    HUB_SQL_ASSIGN(auto first, Connection::Open(options));
    db->slots_[static_cast<std::size_t>(db->idle_.back())] = std::move(first);
    return db;
}

std::unique_ptr<Database> Database::OpenLazily(const UrlOptions& options) {
    return std::unique_ptr<Database>(new Database(options));
}

core::Result<std::unique_ptr<Database::Lease>> Database::Acquire() {
    int slot = -1;
    {
        std::unique_lock lock(mu_);
        auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(options_.timeout_ms);
        if (!freed_.wait_until(lock, deadline, [&] { return !idle_.empty(); })) {
            return Error::Make(ErrorCode::kUnavailable, "database_busy",
                               "the database is busy, try again",
                               "mysql: no free connection in the pool of " +
                                   std::to_string(options_.pool) + " within " +
                                   std::to_string(options_.timeout_ms) + " ms");
        }
        // Prefer a slot with an open connection.
        auto it = std::find_if(idle_.rbegin(), idle_.rend(), [&](int s) {
            return slots_[static_cast<std::size_t>(s)] != nullptr;
        });
        auto pick = it != idle_.rend() ? std::prev(it.base()) : std::prev(idle_.end());
        slot = *pick;
        idle_.erase(pick);
        ++in_use_;
    }
    auto lease = std::make_unique<Lease>(*this, slot);
    auto& conn = slots_[static_cast<std::size_t>(slot)];  // this thread owns the slot now
    if (conn != nullptr && conn->broken()) conn.reset();
    if (conn == nullptr) {
        HUB_SQL_ASSIGN(conn, Connection::Open(options_));
    }
    return lease;
}

void Database::Give(int slot) {
    auto& conn = slots_[static_cast<std::size_t>(slot)];
    if (conn != nullptr && conn->broken()) conn.reset();  // reopened on its next use
    {
        std::lock_guard lock(mu_);
        idle_.push_back(slot);
        --in_use_;
    }
    freed_.notify_one();
}

PoolStats Database::Stats() const {
    std::lock_guard lock(mu_);
    PoolStats s;
    s.size = options_.pool;
    s.in_use = in_use_;
    for (int i : idle_) {
        if (slots_[static_cast<std::size_t>(i)] != nullptr) ++s.open;
    }
    s.open += in_use_;
    return s;
}

std::uint64_t Database::deadlock_retries() const {
    std::lock_guard lock(mu_);
    return deadlock_retries_;
}

core::Result<void> Database::Ping() {
    HUB_SQL_ASSIGN(auto lease, Acquire());
    return lease->Ping();
}

core::Result<void> Database::WithConnection(ConnectionFn f) {
    HUB_SQL_ASSIGN(auto lease, Acquire());
    return f(lease->conn());
}

core::Result<void> Database::RunWrite(sql::Body body) {
    for (int attempt = 0;; ++attempt) {
        HUB_SQL_ASSIGN(auto lease, Acquire());
        HUB_SQL_TRY(lease->Begin("START TRANSACTION"));
        Connection& c = lease->conn();
        c.clear_last_error();
        core::Result<void> r;
        try {
            r = body(c);
        } catch (...) {
            c.RollbackQuietly();
            throw;
        }
        if (r.ok()) {
            r = c.Query("COMMIT");
            if (r.ok()) return r;
        }
        bool deadlock = c.last_error() == 1213;
        c.RollbackQuietly();
        if (deadlock && attempt < kMaxDeadlockRetries) {
            std::lock_guard lock(mu_);
            ++deadlock_retries_;
            continue;
        }
        return r;
    }
}

core::Result<void> Database::RunRead(sql::Body body) {
    HUB_SQL_ASSIGN(auto lease, Acquire());
    HUB_SQL_TRY(lease->Begin("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
    Connection& c = lease->conn();
    HUB_SQL_TRY(c.Query("START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT"));
    core::Result<void> r;
    try {
        r = body(c);
    } catch (...) {
        c.RollbackQuietly();
        throw;
    }
    if (!r.ok()) {
        c.RollbackQuietly();
        return r;
    }
    r = c.Query("COMMIT");
    if (!r.ok()) c.RollbackQuietly();
    return r;
}

}  // namespace hub::store::mysql
