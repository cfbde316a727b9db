// The internal SQLite layer: statement cache, transactions, error mapping.
#include <gtest/gtest.h>

#include <stdexcept>

#include "store/sqlite/db.hpp"
#include "store/sqlite/repos.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::store::sqlite {
namespace {

std::unique_ptr<Database> OpenMemory() {
    auto r = Database::Open({":memory:", 0, 1000});
    EXPECT_TRUE(r.ok());
    auto db = std::move(r).value();
    auto created = db->Write([](Connection& c) -> core::Result<void> {
        return c.ExecScript(
            "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL CHECK (v >= 0));");
    });
    EXPECT_TRUE(created.ok());
    return db;
}

core::Result<std::int64_t> Count(Database& db) {
    return db.Read([](Connection& c) -> core::Result<std::int64_t> {
        HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT count(*) FROM t"));
        HUB_SQL_TRY(st.Step());
        return st.Int(0);
    });
}

TEST(SqliteDb, WriteCommitsOrRollsBack) {
    auto db = OpenMemory();
    auto insert = [](Connection& c, const char* k, int v) {
        auto st = c.Prepare("INSERT INTO t (k, v) VALUES (?1, ?2)");
        if (!st.ok()) return core::Result<void>(st.error());
        return st.value().BindAll(k, v).Run();
    };
    ASSERT_TRUE(db->Write([&](Connection& c) { return insert(c, "a", 1); }).ok());
    EXPECT_EQ(Count(*db).value(), 1);

    // An error after a successful statement undoes it.
    auto failed = db->Write([&](Connection& c) -> core::Result<void> {
        HUB_SQL_TRY(insert(c, "b", 2));
        return insert(c, "a", 3);  // duplicate key
    });
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().code, core::ErrorCode::kConflict);
    EXPECT_EQ(Count(*db).value(), 1);

    // So does an exception (a bug), which still propagates.
    EXPECT_THROW(db->Write([&](Connection& c) -> core::Result<void> {
        HUB_SQL_TRY(insert(c, "c", 3));
        throw std::runtime_error("bug");
    }),
                 std::runtime_error);
    EXPECT_EQ(Count(*db).value(), 1);

    auto check = db->Write([&](Connection& c) { return insert(c, "d", -1); });
    ASSERT_FALSE(check.ok());
    EXPECT_EQ(check.error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_EQ(check.error().api_code, "validation_failed");
}

TEST(SqliteDb, StatementCacheReusesAndEvicts) {
    auto db = OpenMemory();
    auto r = db->Write([](Connection& c) -> core::Result<void> {
        // A statement held across the eviction stays valid.
        HUB_SQL_ASSIGN(Stmt held, c.Prepare("SELECT ?1 + 1"));
        held.BindAll(41);
        for (std::size_t i = 0; i < Connection::kMaxCachedStatements + 10; ++i) {
            HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT " + std::to_string(i)));
            HUB_SQL_ASSIGN(bool row, st.Step());
            EXPECT_TRUE(row);
            EXPECT_EQ(st.Int(0), static_cast<std::int64_t>(i));
        }
        HUB_SQL_ASSIGN(bool row, held.Step());
        EXPECT_TRUE(row);
        EXPECT_EQ(held.Int(0), 42);
        // Using the same statement twice at once is a bug.
        EXPECT_THROW((void)c.Prepare("SELECT ?1 + 1"), std::logic_error);
        return core::Ok();
    });
    EXPECT_TRUE(r.ok());
    // Once released it can be prepared again, with its bindings cleared.
    auto again = db->Read([](Connection& c) -> core::Result<bool> {
        HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT ?1 + 1"));
        HUB_SQL_TRY(st.Step());
        return st.IsNull(0);
    });
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again.value());
}

TEST(SqliteDb, SyntaxErrorsAreInternalErrorsWithDetail) {
    auto db = OpenMemory();
    auto r = db->Read([](Connection& c) -> core::Result<void> {
        HUB_SQL_TRY(c.Prepare("SELEC nonsense"));
        return core::Ok();
    });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, core::ErrorCode::kInternal);
    EXPECT_NE(r.error().detail.find("syntax error"), std::string::npos) << r.error().detail;
    EXPECT_EQ(r.error().public_message, "database error");  // no SQL reaches a client
}

TEST(SqliteDb, LikePatternEscapesWildcards) {
    EXPECT_EQ(LikePattern("50%_a\\"), "%50\\%\\_a\\\\%");
    EXPECT_EQ(LikePattern(""), "%%");
}

TEST(SqliteDb, WhereBuildsClausesAndParams) {
    Where w;
    w.And("a = ?", std::int64_t{1}).And("b IS NULL").And("c = ?", std::string("x"));
    EXPECT_EQ(w.sql(), " WHERE a = ? AND b IS NULL AND c = ?");
    EXPECT_EQ(w.params().size(), 2u);
}

}  // namespace
}  // namespace hub::store::sqlite
