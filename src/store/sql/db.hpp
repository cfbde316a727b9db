#pragma once
// Internal to the stores: what the repositories (store/sql/*.cpp) see of a database, the same
// for every dialect. A dialect (store/sqlite/, store/mysql/) implements StmtImpl, Connection
// and Database; the repositories are written once against these and pick a dialect's SQL
// text only where the two languages differ (Database::dialect()).
//
// SQL text uses SQLite's numbered parameters (?1, ?2, a number may repeat) or plain `?`
// (the previous number plus one); a dialect without them rewrites the text when preparing.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.hpp"

// Early return of the error of a Result expression.
#define HUB_SQL_TRY(expr)                                     \
    do {                                                      \
        if (auto hub_sql_try_ = (expr); !hub_sql_try_.ok()) { \
            return hub_sql_try_.error();                      \
        }                                                     \
    } while (0)

#define HUB_SQL_CONCAT_INNER(a, b) a##b
#define HUB_SQL_CONCAT(a, b) HUB_SQL_CONCAT_INNER(a, b)
// `decl` = value of a Result expression, or early return of its error.
#define HUB_SQL_ASSIGN(decl, expr) \
    HUB_SQL_ASSIGN_IMPL(HUB_SQL_CONCAT(hub_sql_r_, __LINE__), decl, expr)
#define HUB_SQL_ASSIGN_IMPL(tmp, decl, expr)      \
    auto tmp = (expr);                            \
    if (!tmp.ok()) return std::move(tmp).error(); \
    decl = std::move(tmp).value()

namespace hub::store::sql {

enum class Dialect { kSqlite, kMysql };

// A positional parameter of a statement assembled at run time (optional filters).
using Param = std::variant<std::nullptr_t, std::int64_t, std::string>;

// One prepared statement of a dialect, owned by its connection (usually in a cache). Binding
// errors (an index the statement does not have) are bugs and throw std::logic_error.
class StmtImpl {
public:
    virtual ~StmtImpl() = default;
    // Parameters are 1-based (the numbers of ?N).
    virtual void BindInt(int index, std::int64_t v) = 0;
    virtual void BindText(int index, std::string_view v) = 0;
    virtual void BindBlob(int index, std::string_view bytes) = 0;
    virtual void BindNull(int index) = 0;
    // Runs the statement on the first call, then moves row by row; true: a row is ready.
    virtual core::Result<bool> Step() = 0;
    // Columns are 0-based; the row is the one Step() last made ready.
    virtual bool IsNull(int col) const = 0;
    virtual std::int64_t Int(int col) const = 0;
    // Text or blob bytes without a copy; valid until the next Step() or Release().
    virtual std::string_view Bytes(int col) const = 0;
    // Resets the statement (bindings, results) and gives it back to its connection.
    virtual void Release() noexcept = 0;
};

// A borrowed prepared statement: one per SQL text may be alive at a time on a connection.
class Stmt {
public:
    explicit Stmt(StmtImpl* impl) : impl_(impl) {}
    Stmt(Stmt&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt& operator=(Stmt&&) = delete;
    ~Stmt() {
        if (impl_ != nullptr) impl_->Release();
    }

    Stmt& Bind(int index, std::int64_t v) {
        impl_->BindInt(index, v);
        return *this;
    }
    Stmt& Bind(int index, int v) { return Bind(index, static_cast<std::int64_t>(v)); }
    Stmt& Bind(int index, bool v) { return Bind(index, std::int64_t{v ? 1 : 0}); }
    Stmt& Bind(int index, std::string_view v) {
        impl_->BindText(index, v);
        return *this;
    }
    Stmt& Bind(int index, const std::string& v) { return Bind(index, std::string_view(v)); }
    Stmt& Bind(int index, const char* v) { return Bind(index, std::string_view(v)); }
    Stmt& Bind(int index, std::nullptr_t) {
        impl_->BindNull(index);
        return *this;
    }
    Stmt& Bind(int index, const Param& p) {
        std::visit([&](const auto& v) { Bind(index, v); }, p);
        return *this;
    }
    template <class T>
    Stmt& Bind(int index, const std::optional<T>& v) {
        return v ? Bind(index, *v) : Bind(index, nullptr);
    }
    Stmt& BindBlob(int index, std::string_view bytes) {
        impl_->BindBlob(index, bytes);
        return *this;
    }
    Stmt& BindBlob(int index, const std::string& bytes) {
        return BindBlob(index, std::string_view(bytes));
    }
    Stmt& BindBlob(int index, const std::optional<std::string>& bytes) {
        return bytes ? BindBlob(index, std::string_view(*bytes)) : Bind(index, nullptr);
    }
    // Binds the arguments to ?1, ?2, ... in order.
    template <class... A>
    Stmt& BindAll(const A&... args) {
        int i = 0;
        (Bind(++i, args), ...);
        return *this;
    }
    Stmt& BindParams(const std::vector<Param>& params) {
        int i = 0;
        for (const auto& p : params) Bind(++i, p);
        return *this;
    }

    core::Result<bool> Step() { return impl_->Step(); }
    core::Result<void> Run() {  // steps to the end, ignoring rows
        while (true) {
            HUB_SQL_ASSIGN(bool row, Step());
            if (!row) return core::Ok();
        }
    }

    bool IsNull(int col) const { return impl_->IsNull(col); }
    std::int64_t Int(int col) const { return impl_->Int(col); }
    bool Bool(int col) const { return Int(col) != 0; }
    std::string Text(int col) const { return std::string(impl_->Bytes(col)); }
    std::string_view TextView(int col) const { return impl_->Bytes(col); }
    std::string Blob(int col) const { return std::string(impl_->Bytes(col)); }
    std::optional<std::int64_t> OptInt(int col) const {
        if (IsNull(col)) return std::nullopt;
        return Int(col);
    }
    std::optional<std::string> OptText(int col) const {
        if (IsNull(col)) return std::nullopt;
        return Text(col);
    }
    std::optional<std::string> OptBlob(int col) const { return OptText(col); }

private:
    StmtImpl* impl_;
};

class Connection {
public:
    virtual ~Connection() = default;
    // A cached prepared statement.
    virtual core::Result<Stmt> Prepare(std::string_view sql) = 0;
    // Rows changed (matched, for an UPDATE) by the last INSERT/UPDATE/DELETE.
    virtual std::int64_t Changes() const = 0;
    virtual Dialect dialect() const = 0;
    // Prepares (cached) and runs a statement without parameters.
    core::Result<void> Exec(std::string_view sql) {
        HUB_SQL_ASSIGN(Stmt st, Prepare(sql));
        return st.Run();
    }
};

// A non-owning reference to a callable (valid while the call it is passed to runs).
template <class Sig>
class FunctionRef;
template <class R, class... A>
class FunctionRef<R(A...)> {
public:
    template <class F>
    FunctionRef(F& f)  // NOLINT(google-explicit-constructor)
        : obj_(&f), call_([](void* o, A... a) -> R { return (*static_cast<F*>(o))(std::forward<A>(a)...); }) {}
    R operator()(A... a) const { return call_(obj_, std::forward<A>(a)...); }

private:
    void* obj_;
    R (*call_)(void*, A...);
};

using Body = FunctionRef<core::Result<void>(Connection&)>;

class Database {
public:
    virtual ~Database() = default;
    virtual Dialect dialect() const = 0;

    // f(Connection&) -> Result<T> inside one transaction; returns once its changes are durable.
    // An error from f undoes f's changes and is returned as it is.
    template <class F>
    auto Write(F&& f) -> std::invoke_result_t<F&, Connection&> {
        return Erased(f, [this](Body b) { return RunWrite(b); });
    }
    // f(Connection&) -> Result<T> inside a read transaction (one snapshot).
    template <class F>
    auto Read(F&& f) -> std::invoke_result_t<F&, Connection&> {
        return Erased(f, [this](Body b) { return RunRead(b); });
    }

    // A write of data of `users` that a heavy read of theirs may look for next: a database
    // with a read replica remembers it so that those users read their own writes.
    template <class F>
    auto WriteFor(const std::vector<std::string_view>& users, F&& f)
        -> std::invoke_result_t<F&, Connection&> {
        return Erased(f, [&](Body b) { return RunWriteFor(users, b); });
    }
    // A heavy read (history lists, statistics, CSV export, conversation lists) of `user`'s data
    // (empty: everyone's): it may be served by a read replica.
    template <class F>
    auto ReadHeavy(std::string_view user, F&& f) -> std::invoke_result_t<F&, Connection&> {
        return Erased(f, [&](Body b) { return RunReadHeavy(user, b); });
    }

protected:
    // body's error aborts the transaction (and comes back); otherwise it commits.
    virtual core::Result<void> RunWrite(Body body) = 0;
    virtual core::Result<void> RunRead(Body body) = 0;
    // Without a replica these are RunWrite and RunRead.
    virtual core::Result<void> RunWriteFor(const std::vector<std::string_view>& users, Body body) {
        (void)users;
        return RunWrite(body);
    }
    virtual core::Result<void> RunReadHeavy(std::string_view user, Body body) {
        (void)user;
        return RunRead(body);
    }

private:
    template <class F, class Run>
    static auto Erased(F& f, Run run) -> std::invoke_result_t<F&, Connection&> {
        using R = std::invoke_result_t<F&, Connection&>;
        std::optional<R> out;
        auto body = [&](Connection& c) -> core::Result<void> {
            out.emplace(f(c));
            if (!out->ok()) return out->error();
            return core::Ok();
        };
        core::Result<void> done = run(Body(body));
        if (out && !out->ok()) return std::move(*out);
        if (!done.ok()) return R(done.error());
        return std::move(*out);
    }
};

// Appends " AND <clause>" pieces and their parameters to build a WHERE at run time from a
// fixed set of fragments (each distinct text is one cached statement).
class Where {
public:
    Where& And(std::string_view clause) {
        sql_ += sql_.empty() ? " WHERE " : " AND ";
        sql_ += clause;
        return *this;
    }
    template <class... P>
    Where& And(std::string_view clause, P&&... params) {
        And(clause);
        (params_.emplace_back(std::forward<P>(params)), ...);
        return *this;
    }
    const std::string& sql() const { return sql_; }
    std::vector<Param>& params() { return params_; }

private:
    std::string sql_;
    std::vector<Param> params_;
};

// Refines a kConflict from a UNIQUE constraint into a specific api code when the error's
// detail names `column` ("table.column"; every dialect's error says it that way).
struct UniqueRule {
    std::string_view column;
    std::string_view api_code;
    std::string_view message;
};
core::Error RefineConflict(core::Error e, std::initializer_list<UniqueRule> rules);

core::Error NotFound(std::string_view what);  // kNotFound "<what>_not_found"

}  // namespace hub::store::sql
