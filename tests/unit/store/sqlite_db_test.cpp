// The internal SQLite layer: statement cache, transactions, error mapping.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "store/sqlite/db.hpp"
#include "store/sql/repos.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::store::sqlite {
namespace {
using sql::LikePattern;

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

// A file database (WAL, readers) with table t, as the hub runs it.
std::unique_ptr<Database> OpenFile(const std::string& dir) {
    auto r = Database::Open({dir + "/g.db", 2, 5000});
    EXPECT_TRUE(r.ok());
    auto db = std::move(r).value();
    EXPECT_TRUE(db->Write([](Connection& c) -> core::Result<void> {
                      return c.ExecScript("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL "
                                          "CHECK (v >= 0));");
                  }).ok());
    EXPECT_TRUE(db->OpenReaders().ok());
    return db;
}

core::Result<void> Insert(Connection& c, const std::string& k, int v) {
    auto st = c.Prepare("INSERT INTO t (k, v) VALUES (?1, ?2)");
    if (!st.ok()) return st.error();
    return st.value().BindAll(k, v).Run();
}

core::Result<bool> Has(Database& db, const std::string& k) {
    return db.Read([&](Connection& c) -> core::Result<bool> {
        HUB_SQL_ASSIGN(Stmt st, c.Prepare("SELECT 1 FROM t WHERE k = ?1"));
        st.BindAll(k);
        return st.Step();
    });
}

TEST(SqliteDb, WritesThatArriveTogetherShareOneCommit) {
    testing::TempDir dir;
    auto db = OpenFile(dir.path().string());
    auto commits = db->commits();
    std::thread second;
    core::Result<void> second_result = core::Ok();
    auto first = db->Write([&](Connection& c) -> core::Result<void> {
        HUB_SQL_TRY(Insert(c, "first", 1));
        second = std::thread([&] {
            second_result = db->Write([](Connection& c2) { return Insert(c2, "second", 2); });
        });
        while (db->arrivals() < 2) std::this_thread::yield();  // the second write is waiting
        return core::Ok();
    });
    second.join();
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(second_result.ok());
    EXPECT_EQ(db->commits(), commits + 1);  // one COMMIT (one fsync) for both
    EXPECT_TRUE(Has(*db, "first").value());
    EXPECT_TRUE(Has(*db, "second").value());
}

TEST(SqliteDb, AFailedWriteInAGroupUndoesOnlyItself) {
    testing::TempDir dir;
    auto db = OpenFile(dir.path().string());
    std::thread bad, thrower;
    core::Result<void> bad_result = core::Ok();
    bool threw = false;
    auto good = db->Write([&](Connection& c) -> core::Result<void> {
        HUB_SQL_TRY(Insert(c, "good", 1));
        bad = std::thread([&] {
            bad_result = db->Write([](Connection& c2) -> core::Result<void> {
                HUB_SQL_TRY(Insert(c2, "bad-part", 1));
                return Insert(c2, "bad", -1);  // CHECK fails
            });
        });
        thrower = std::thread([&] {
            try {
                (void)db->Write([](Connection& c2) -> core::Result<void> {
                    HUB_SQL_TRY(Insert(c2, "thrown", 1));
                    throw std::runtime_error("bug");
                });
            } catch (const std::runtime_error&) {
                threw = true;
            }
        });
        while (db->arrivals() < 3) std::this_thread::yield();
        return core::Ok();
    });
    bad.join();
    thrower.join();
    ASSERT_TRUE(good.ok());
    ASSERT_FALSE(bad_result.ok());
    EXPECT_EQ(bad_result.error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_TRUE(threw);
    EXPECT_TRUE(Has(*db, "good").value());
    EXPECT_FALSE(Has(*db, "bad-part").value());
    EXPECT_FALSE(Has(*db, "thrown").value());
    // The writer is usable afterwards, and no transaction was left open.
    ASSERT_TRUE(db->Write([](Connection& c) { return Insert(c, "after", 1); }).ok());
    EXPECT_TRUE(Has(*db, "after").value());
}

TEST(SqliteDb, ManyConcurrentWritersAreAllDurableAndVisibleOnReturn) {
    testing::TempDir dir;
    auto db = OpenFile(dir.path().string());
    auto commits = db->commits();
    constexpr int kThreads = 8, kEach = 40;
    std::atomic<int> failures{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t) {
        ts.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                std::string k = std::to_string(t) + ":" + std::to_string(i);
                if (!db->Write([&](Connection& c) { return Insert(c, k, i); }).ok()) ++failures;
                // Returned means committed: a reader connection sees it at once.
                auto seen = Has(*db, k);
                if (!seen.ok() || !seen.value()) ++failures;
            }
        });
    }
    for (auto& th : ts) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(Count(*db).value(), kThreads * kEach);
    EXPECT_LE(db->commits() - commits, static_cast<std::uint64_t>(kThreads * kEach));
    EXPECT_EQ(db->arrivals(), 0);
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

TEST(SqlRepos, UpsertSpeaksEachDialect) {
    constexpr std::string_view kInsert = "INSERT INTO t (k, a, b_2) VALUES (?1, ?2, ?3)";
    constexpr std::string_view kSet = "a = excluded.a, b_2 = excluded.b_2 + 1";
    EXPECT_EQ(sql::Upsert(false, kInsert, "k", kSet),
              "INSERT INTO t (k, a, b_2) VALUES (?1, ?2, ?3) ON CONFLICT (k) DO UPDATE SET"
              " a = excluded.a, b_2 = excluded.b_2 + 1");
    EXPECT_EQ(sql::Upsert(true, kInsert, "k", kSet),
              "INSERT INTO t (k, a, b_2) VALUES (?1, ?2, ?3) ON DUPLICATE KEY UPDATE"
              " a = VALUES(a), b_2 = VALUES(b_2) + 1");
}

TEST(SqliteDb, WhereBuildsClausesAndParams) {
    Where w;
    w.And("a = ?", std::int64_t{1}).And("b IS NULL").And("c = ?", std::string("x"));
    EXPECT_EQ(w.sql(), " WHERE a = ? AND b IS NULL AND c = ?");
    EXPECT_EQ(w.params().size(), 2u);
}

}  // namespace
}  // namespace hub::store::sqlite
