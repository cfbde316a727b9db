// The MariaDB/MySQL layer of the store (store/mysql/): parameter rewriting, URLs, script
// splitting (pure), and against a real mariadbd (support/mariadb.hpp): types, utf8mb4, errors,
// transactions, the pool, reconnects and the migration runner.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/migration.hpp"
#include "store/mysql/db.hpp"
#include "store/mysql/migrate.hpp"
#include "store/mysql/url.hpp"
#include "support/mariadb.hpp"

namespace hub::store::mysql {
namespace {

using core::ErrorCode;
using test::MariaDbServer;

// ---- pure ----

TEST(MysqlRewrite, NumberedAndPlainParameters) {
    auto r = RewriteParams("SELECT * FROM users u WHERE u.username = ?1 OR u.email = ?1 AND x = ?2");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->sql, "SELECT * FROM users u WHERE u.username = ? OR u.email = ? AND x = ?");
    EXPECT_EQ(r->numbers, (std::vector<int>{1, 1, 2}));
    EXPECT_EQ(r->highest, 2);

    auto plain = RewriteParams("INSERT INTO t VALUES (?, ?, ?)");
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(plain->numbers, (std::vector<int>{1, 2, 3}));

    // A plain ? after ?3 is 4 (SQLite: the highest number so far plus one).
    auto mixed = RewriteParams("SELECT ?3, ?1, ?");
    ASSERT_TRUE(mixed.ok());
    EXPECT_EQ(mixed->sql, "SELECT ?, ?, ?");
    EXPECT_EQ(mixed->numbers, (std::vector<int>{3, 1, 4}));
    EXPECT_EQ(mixed->highest, 4);
}

TEST(MysqlRewrite, SkipsQuotedTextAndComments) {
    auto r = RewriteParams(
        "SELECT 'a ?1 ''?'' b', \"col?\", `x?` -- a ?5 comment\n"
        " , /* ?7 */ ?2 # ?9\n, ?1 WHERE y LIKE ?3 ESCAPE '\\'");
    ASSERT_TRUE(r.ok()) << r.error().detail;
    EXPECT_EQ(r->numbers, (std::vector<int>{2, 1, 3}));
    EXPECT_NE(r->sql.find("'a ?1 ''?'' b'"), std::string::npos);
    EXPECT_NE(r->sql.find("-- a ?5 comment"), std::string::npos);
    EXPECT_NE(r->sql.find("/* ?7 */ ?"), std::string::npos);
    EXPECT_NE(r->sql.find("ESCAPE '\\'"), std::string::npos);
}

TEST(MysqlRewrite, RejectsBadText) {
    EXPECT_FALSE(RewriteParams("SELECT 'open").ok());
    EXPECT_FALSE(RewriteParams("SELECT ?0").ok());
    EXPECT_FALSE(RewriteParams("SELECT ?99999").ok());
}

TEST(MysqlUrl, ParsesEveryPart) {
    auto o = ParseUrl("mysql://hub%40x:p%3Ass%2Fw@db.example:3307/bailian?pool=4&timeout_ms=2500&tls=required");
    ASSERT_TRUE(o.ok()) << o.error().public_message;
    EXPECT_EQ(o->user, "hub@x");
    EXPECT_EQ(o->password, "p:ss/w");
    EXPECT_EQ(o->host, "db.example");
    EXPECT_EQ(o->port, 3307u);
    EXPECT_EQ(o->database, "bailian");
    EXPECT_EQ(o->pool, 4);
    EXPECT_EQ(o->timeout_ms, 2500);
    EXPECT_TRUE(o->tls_required);

    auto d = ParseUrl("mysql://u:pw@localhost/db");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->port, 3306u);
    EXPECT_FALSE(d->tls_required);
    EXPECT_TRUE(d->socket.empty());

    auto s = ParseUrl("mysql://u:pw@ignored/db?socket=/run/mysqld/mysqld.sock");
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->socket, "/run/mysqld/mysqld.sock");
    auto ca = ParseUrl("mysql://u:pw@h/db?tls_ca=/etc/ssl/db-ca.pem");
    ASSERT_TRUE(ca.ok());
    EXPECT_TRUE(ca->tls_required);
    EXPECT_EQ(ca->tls_ca, "/etc/ssl/db-ca.pem");
    auto s2 = ParseUrl("mysql://u:pw@/db?socket=%2Ftmp%2Fm.sock");
    ASSERT_TRUE(s2.ok());
    EXPECT_EQ(s2->socket, "/tmp/m.sock");

    auto v6 = ParseUrl("mysql://u@[::1]:3310/db");
    ASSERT_TRUE(v6.ok());
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 3310u);
    EXPECT_EQ(v6->password, "");
}

TEST(MysqlUrl, MalformedUrlsAreInvalidConfigWithoutThePassword) {
    const char* secret = "Sup3rSecretPw";
    std::vector<std::string> bad = {
        std::string("postgres://u:") + secret + "@h/db",
        std::string("mysql://u:") + secret + "@h:99999/db",
        std::string("mysql://u:") + secret + "@h:/db",
        std::string("mysql://u:") + secret + "@h",
        std::string("mysql://u:") + secret + "@h/db?pool=0",
        std::string("mysql://u:") + secret + "@h/db?timeout_ms=abc",
        std::string("mysql://u:") + secret + "@h/db?tls=maybe",
        std::string("mysql://u:") + secret + "@h/db?tls_ca=relative.pem",
        std::string("mysql://u:") + secret + "@h/db?nope=1",
        std::string("mysql://u:") + secret + "%zz@h/db",
        std::string("mysql://:") + secret + "@h/db",
        std::string("mysql://h/db"),
        std::string("mysql://u:") + secret + "@h/d;b",
        std::string("mysql://u:") + secret + "@/db",
    };
    for (const auto& url : bad) {
        auto r = ParseUrl(url);
        ASSERT_FALSE(r.ok()) << Redacted(url);
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(r.error().api_code, "invalid_config");
        EXPECT_EQ(r.error().public_message.find(secret), std::string::npos);
        EXPECT_EQ(r.error().detail.find(secret), std::string::npos);
    }
}

TEST(MysqlUrl, RedactedHidesThePassword) {
    EXPECT_EQ(Redacted("mysql://hub:s3cret@h:3306/db?pool=2"), "mysql://hub:***@h:3306/db?pool=2");
    EXPECT_EQ(Redacted("mysql://hub:p@ss@h/db"), "mysql://hub:***@h/db");
    EXPECT_EQ(Redacted("mysql://hub@h/db"), "mysql://hub@h/db");
    EXPECT_EQ(Redacted("mysql://h/db"), "mysql://h/db");
    EXPECT_EQ(Redacted("garbage:secret@"), "garbage:***@");
}

TEST(MysqlMigrate, SplitsStatementsOutsideQuotesAndComments) {
    auto s = SplitStatements(
        "-- header; with a semicolon\n"
        "CREATE TABLE a (x VARCHAR(8) DEFAULT ';');\n"
        "/* block; comment */\n"
        "INSERT INTO a VALUES ('it''s; fine'), (\"q;\");  # trailing; comment\n"
        "  ;\n"
        "-- only a comment at the end;\n");
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0], "CREATE TABLE a (x VARCHAR(8) DEFAULT ';')");
    EXPECT_EQ(s[1], "INSERT INTO a VALUES ('it''s; fine'), (\"q;\")");
}

// ---- against a real server ----

class MysqlDbTest : public ::testing::Test {
protected:
    void SetUp() override {
        url_ = MariaDbServer::Shared().FreshDatabase();
        auto o = ParseUrl(url_);
        ASSERT_TRUE(o.ok());
        options_ = o.value();
        auto db = Database::Open(options_);
        ASSERT_TRUE(db.ok()) << db.error().detail;
        db_ = std::move(db).value();
    }

    void Exec(std::string_view sql) {
        auto r = db_->WithConnection(fn_ = [&](Connection& c) { return c.Query(sql); });
        ASSERT_TRUE(r.ok()) << r.error().detail;
    }

    std::int64_t CountRows(std::string_view table) {
        std::string q = "SELECT count(*) FROM " + std::string(table);
        auto r = db_->Read([&](sql::Connection& c) -> core::Result<std::int64_t> {
            HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare(q));
            HUB_SQL_TRY(st.Step());
            return st.Int(0);
        });
        EXPECT_TRUE(r.ok()) << r.error().detail;
        return r.ok() ? r.value() : -1;
    }

    std::string url_;
    UrlOptions options_;
    std::unique_ptr<Database> db_;
    std::function<core::Result<void>(Connection&)> fn_;
};

TEST_F(MysqlDbTest, BindsAndReadsEveryType) {
    Exec("CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, s VARCHAR(100) NULL, b BLOB NULL,"
         " n BIGINT NULL, tiny TINYINT NOT NULL DEFAULT 0, d DECIMAL(10, 2) NULL, j JSON NULL)"
         " ENGINE = InnoDB");
    std::string bytes("\x00\x01\xff\x7f zero", 9);
    auto w = db_->Write([&](sql::Connection& c) -> core::Result<void> {
        HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("INSERT INTO t (id, s, b, n, tiny, d, j)"
                                               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
        st.Bind(1, std::int64_t{-9007199254740993}).Bind(2, "text").BindBlob(3, bytes);
        st.Bind(4, nullptr).Bind(5, true).Bind(6, "12.00").Bind(7, R"({"a": [1, 2]})");
        HUB_SQL_TRY(st.Run());
        EXPECT_EQ(c.Changes(), 1);
        HUB_SQL_ASSIGN(sql::Stmt st2, c.Prepare("INSERT INTO t (id, s) VALUES (?, ?)"));
        return st2.BindAll(2, std::optional<std::string>()).Run();
    });
    ASSERT_TRUE(w.ok()) << w.error().detail;

    auto r = db_->Read([&](sql::Connection& c) -> core::Result<void> {
        HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("SELECT id, s, b, n, tiny, d, j, id || 'x'"
                                               " FROM t WHERE id = ?1 OR s = ?1 ORDER BY id"));
        st.Bind(1, std::int64_t{-9007199254740993});
        HUB_SQL_ASSIGN(bool row, st.Step());
        EXPECT_TRUE(row);
        EXPECT_EQ(st.Int(0), -9007199254740993);
        EXPECT_EQ(st.Text(1), "text");
        EXPECT_EQ(st.Blob(2), bytes);
        EXPECT_TRUE(st.IsNull(3));
        EXPECT_EQ(st.OptInt(3), std::nullopt);
        EXPECT_EQ(st.Int(4), 1);
        EXPECT_TRUE(st.Bool(4));
        EXPECT_EQ(st.Int(5), 12);
        EXPECT_EQ(st.Text(5), "12.00");
        EXPECT_NE(st.Text(6).find("\"a\""), std::string::npos);
        EXPECT_EQ(st.Text(7), "-9007199254740993x");  // || concatenates (PIPES_AS_CONCAT)
        EXPECT_EQ(st.Text(0), "-9007199254740993");  // an integer read as text
        HUB_SQL_ASSIGN(bool more, st.Step());
        EXPECT_FALSE(more);

        HUB_SQL_ASSIGN(sql::Stmt agg, c.Prepare("SELECT count(*), sum(id), sum(d), avg(tiny),"
                                                " max(s), 7 DIV 2, \"s\" FROM t WHERE id = 2"));
        HUB_SQL_ASSIGN(bool arow, agg.Step());
        EXPECT_TRUE(arow);
        EXPECT_EQ(agg.Int(0), 1);
        EXPECT_EQ(agg.Int(1), 2);   // SUM of BIGINT: DECIMAL
        EXPECT_TRUE(agg.IsNull(2)); // SUM of NULL
        EXPECT_EQ(agg.Int(3), 0);
        EXPECT_TRUE(agg.IsNull(4));
        EXPECT_EQ(agg.Int(5), 3);
        EXPECT_TRUE(agg.IsNull(6));  // "s" is the column (ANSI_QUOTES), NULL for id 2
        return core::Ok();
    });
    ASSERT_TRUE(r.ok()) << r.error().detail;
}

TEST_F(MysqlDbTest, LargeValuesAndUtf8mb4RoundTrip) {
    Exec("CREATE TABLE big (id INT PRIMARY KEY, t LONGTEXT NOT NULL, b LONGBLOB NOT NULL,"
         " u VARCHAR(32) NOT NULL) ENGINE = InnoDB");
    std::string text(1 << 20, 'x');
    for (std::size_t i = 0; i < text.size(); i += 997) text[i] = static_cast<char>('a' + i % 26);
    std::string blob(1 << 20, '\0');
    for (std::size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>(i * 31 % 256);
    const std::string unicode = "你好，世界 😀🎉 émoji";
    auto w = db_->Write([&](sql::Connection& c) -> core::Result<void> {
        HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("INSERT INTO big VALUES (?1, ?2, ?3, ?4)"));
        HUB_SQL_TRY(st.Bind(1, 1).Bind(2, text).BindBlob(3, blob).Bind(4, unicode).Run());
        HUB_SQL_ASSIGN(sql::Stmt st2, c.Prepare("INSERT INTO big (id, t, b, u) VALUES (?1, ?2, ?3, ?4)"));
        return st2.Bind(1, 2).Bind(2, "short").BindBlob(3, std::string_view("b")).Bind(4, "😀").Run();
    });
    ASSERT_TRUE(w.ok()) << w.error().detail;
    auto r = db_->Read([&](sql::Connection& c) -> core::Result<void> {
        HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("SELECT t, b, u, char_length(u) FROM big ORDER BY id"));
        HUB_SQL_ASSIGN(bool row, st.Step());
        EXPECT_TRUE(row);
        EXPECT_EQ(st.TextView(0).size(), text.size());
        EXPECT_TRUE(st.Text(0) == text);
        EXPECT_TRUE(st.Blob(1) == blob);
        EXPECT_EQ(st.Text(2), unicode);
        EXPECT_EQ(st.Int(3), 14);  // characters, not bytes
        HUB_SQL_ASSIGN(bool row2, st.Step());
        EXPECT_TRUE(row2);
        EXPECT_EQ(st.Text(0), "short");
        EXPECT_EQ(st.Text(2), "😀");
        // A value found by an emoji and by CJK text.
        HUB_SQL_ASSIGN(sql::Stmt like, c.Prepare("SELECT id FROM big WHERE u LIKE ?1 ESCAPE '\\'"));
        like.Bind(1, "%世界%");
        HUB_SQL_ASSIGN(bool found, like.Step());
        EXPECT_TRUE(found);
        EXPECT_EQ(like.Int(0), 1);
        return core::Ok();
    });
    ASSERT_TRUE(r.ok()) << r.error().detail;
}

TEST_F(MysqlDbTest, ChangesCountsMatchedRows) {
    Exec("CREATE TABLE c (id INT PRIMARY KEY, v INT NOT NULL) ENGINE = InnoDB");
    Exec("INSERT INTO c VALUES (1, 5), (2, 5)");
    auto r = db_->Write([&](sql::Connection& c) -> core::Result<void> {
        HUB_SQL_ASSIGN(sql::Stmt same, c.Prepare("UPDATE c SET v = ?2 WHERE id = ?1"));
        HUB_SQL_TRY(same.BindAll(1, 5).Run());
        EXPECT_EQ(c.Changes(), 1);  // matched, not changed: still 1 (CLIENT_FOUND_ROWS)
        HUB_SQL_ASSIGN(sql::Stmt none, c.Prepare("UPDATE c SET v = 6 WHERE id = ?1"));
        HUB_SQL_TRY(none.BindAll(99).Run());
        EXPECT_EQ(c.Changes(), 0);
        HUB_SQL_ASSIGN(sql::Stmt all, c.Prepare("UPDATE c SET v = 5"));
        HUB_SQL_TRY(all.Run());
        EXPECT_EQ(c.Changes(), 2);
        HUB_SQL_ASSIGN(sql::Stmt sel, c.Prepare("SELECT id FROM c"));
        HUB_SQL_TRY(sel.Run());
        EXPECT_EQ(c.Changes(), 2);  // a SELECT leaves it alone
        return core::Ok();
    });
    ASSERT_TRUE(r.ok()) << r.error().detail;
}

TEST_F(MysqlDbTest, ErrorsMapToTheStoreCodes) {
    Exec("CREATE TABLE users (id VARCHAR(36) NOT NULL PRIMARY KEY, username VARCHAR(8) NOT NULL,"
         " email VARCHAR(64) NULL, CONSTRAINT users_username_uq UNIQUE (username),"
         " CONSTRAINT users_email_uq UNIQUE (email)) ENGINE = InnoDB");
    Exec("CREATE TABLE notes (id INT PRIMARY KEY, user_id VARCHAR(36) NOT NULL,"
         " n INT NOT NULL CHECK (n >= 0),"
         " CONSTRAINT notes_user_fk FOREIGN KEY (user_id) REFERENCES users (id)) ENGINE = InnoDB");
    auto run = [&](std::string sql) {
        return db_->Write([&](sql::Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare(sql));
            return st.Run();
        });
    };
    ASSERT_TRUE(run("INSERT INTO users VALUES ('u1', 'alice', 'a@x')").ok());

    auto dup = run("INSERT INTO users VALUES ('u2', 'ALICE', 'b@x')");  // case-insensitive
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
    EXPECT_EQ(dup.error().api_code, "conflict");
    EXPECT_NE(dup.error().detail.find("users.username"), std::string::npos) << dup.error().detail;
    EXPECT_EQ(dup.error().detail.rfind("mysql: ", 0), 0u);
    auto dup_email = run("UPDATE users SET email = 'a@x' WHERE id = 'u1' AND 1 = 0 OR id = 'zz'");
    EXPECT_TRUE(dup_email.ok());
    ASSERT_TRUE(run("INSERT INTO users VALUES ('u2', 'bob', 'b@x')").ok());
    auto dup2 = run("UPDATE users SET email = 'a@x' WHERE id = 'u2'");
    ASSERT_FALSE(dup2.ok());
    EXPECT_NE(dup2.error().detail.find("users.email"), std::string::npos) << dup2.error().detail;
    auto dup_pk = run("INSERT INTO users VALUES ('u1', 'carol', NULL)");
    ASSERT_FALSE(dup_pk.ok());
    EXPECT_EQ(dup_pk.error().code, ErrorCode::kConflict);
    EXPECT_NE(dup_pk.error().detail.find("users.id"), std::string::npos) << dup_pk.error().detail;

    auto fk = run("INSERT INTO notes VALUES (1, 'missing', 1)");
    ASSERT_FALSE(fk.ok());
    EXPECT_EQ(fk.error().code, ErrorCode::kUnprocessable);
    EXPECT_EQ(fk.error().api_code, "invalid_reference");
    ASSERT_TRUE(run("INSERT INTO notes VALUES (1, 'u1', 1)").ok());
    auto parent = run("DELETE FROM users WHERE id = 'u1'");
    ASSERT_FALSE(parent.ok());
    EXPECT_EQ(parent.error().api_code, "invalid_reference");

    for (const char* sql : {"INSERT INTO users VALUES ('u3', 'waytoolongname', NULL)",
                            "INSERT INTO users VALUES ('u3', NULL, NULL)",
                            "INSERT INTO notes VALUES (2, 'u1', -1)",
                            "INSERT INTO notes VALUES (2, 'u1', 99999999999)"}) {
        auto v = run(sql);
        ASSERT_FALSE(v.ok()) << sql;
        EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument) << v.error().detail;
        EXPECT_EQ(v.error().api_code, "validation_failed") << v.error().detail;
    }
    EXPECT_EQ(CountRows("users"), 2);  // nothing truncated, nothing half-written
    EXPECT_EQ(CountRows("notes"), 1);

    auto syntax = run("SELEKT 1");
    ASSERT_FALSE(syntax.ok());
    EXPECT_EQ(syntax.error().code, ErrorCode::kInternal);
    EXPECT_EQ(syntax.error().api_code, "database_error");
}

TEST_F(MysqlDbTest, BindingANumberTheStatementLacksIsABug) {
    auto r = db_->Read([&](sql::Connection& c) -> core::Result<void> {
        HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("SELECT ?1 + ?2"));
        EXPECT_THROW(st.Bind(3, 1), std::logic_error);
        EXPECT_THROW(st.Bind(0, 1), std::logic_error);
        st.Bind(1, 40).Bind(2, 2);
        HUB_SQL_TRY(st.Step());
        EXPECT_EQ(st.Int(0), 42);
        return core::Ok();
    });
    ASSERT_TRUE(r.ok()) << r.error().detail;
}

TEST_F(MysqlDbTest, AFailedOrThrowingWriteRollsBack) {
    Exec("CREATE TABLE t (k VARCHAR(10) PRIMARY KEY) ENGINE = InnoDB");
    auto insert = [](sql::Connection& c, const char* k) -> core::Result<void> {
        HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("INSERT INTO t VALUES (?1)"));
        return st.BindAll(k).Run();
    };
    auto failed = db_->Write([&](sql::Connection& c) -> core::Result<void> {
        HUB_SQL_TRY(insert(c, "a"));
        return core::Error::Make(ErrorCode::kInvalidArgument, "nope", "nope");
    });
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().api_code, "nope");
    EXPECT_THROW((void)db_->Write([&](sql::Connection& c) -> core::Result<void> {
        (void)insert(c, "b");
        throw std::runtime_error("boom");
    }),
                 std::runtime_error);
    EXPECT_EQ(CountRows("t"), 0);
    auto ok = db_->Write([&](sql::Connection& c) { return insert(c, "c"); });
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(CountRows("t"), 1);
    EXPECT_EQ(db_->Stats().in_use, 0);
}

TEST_F(MysqlDbTest, ConcurrentWritesFromEightThreads) {
    Exec("CREATE TABLE counter (id INT PRIMARY KEY, n BIGINT NOT NULL) ENGINE = InnoDB");
    Exec("CREATE TABLE events (id BIGINT AUTO_INCREMENT PRIMARY KEY, who INT NOT NULL) ENGINE = InnoDB");
    Exec("INSERT INTO counter VALUES (1, 0)");
    constexpr int kThreads = 8;
    constexpr int kEach = 40;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                auto r = db_->Write([&](sql::Connection& c) -> core::Result<void> {
                    HUB_SQL_ASSIGN(sql::Stmt up, c.Prepare("UPDATE counter SET n = n + 1 WHERE id = 1"));
                    HUB_SQL_TRY(up.Run());
                    if (c.Changes() != 1) return core::Error::Make(ErrorCode::kInternal, "x", "x");
                    HUB_SQL_ASSIGN(sql::Stmt ins, c.Prepare("INSERT INTO events (who) VALUES (?1)"));
                    return ins.BindAll(t).Run();
                });
                if (!r.ok()) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(CountRows("events"), kThreads * kEach);
    auto n = db_->Read([&](sql::Connection& c) -> core::Result<std::int64_t> {
        HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("SELECT n FROM counter WHERE id = 1"));
        HUB_SQL_TRY(st.Step());
        return st.Int(0);
    });
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n.value(), kThreads * kEach);
    PoolStats s = db_->Stats();
    EXPECT_EQ(s.in_use, 0);
    EXPECT_LE(s.open, s.size);
}

TEST_F(MysqlDbTest, ADeadlockedWriteIsRunAgain) {
    Exec("CREATE TABLE d (id INT PRIMARY KEY, n INT NOT NULL) ENGINE = InnoDB");
    Exec("INSERT INTO d VALUES (1, 0), (2, 0)");
    // Two writes lock the two rows in opposite orders; both hold their first row before
    // either asks for its second, so InnoDB must kill one (1213). Its body runs again.
    std::latch both_hold_one(2);
    auto writer = [&](int first, int second, std::atomic<int>* runs) {
        return db_->Write([&](sql::Connection& c) -> core::Result<void> {
            int run = ++*runs;
            HUB_SQL_ASSIGN(sql::Stmt a, c.Prepare("UPDATE d SET n = n + 1 WHERE id = ?1"));
            HUB_SQL_TRY(a.BindAll(first).Run());
            if (run == 1) both_hold_one.arrive_and_wait();
            HUB_SQL_ASSIGN(sql::Stmt b, c.Prepare("UPDATE d SET n = n + 10 WHERE id = ?1"));
            return b.BindAll(second).Run();
        });
    };
    std::atomic<int> runs_a{0};
    std::atomic<int> runs_b{0};
    auto fa = std::async(std::launch::async, [&] { return writer(1, 2, &runs_a); });
    auto fb = std::async(std::launch::async, [&] { return writer(2, 1, &runs_b); });
    auto a = fa.get();
    auto b = fb.get();
    ASSERT_TRUE(a.ok()) << a.error().detail;
    ASSERT_TRUE(b.ok()) << b.error().detail;
    EXPECT_EQ(runs_a.load() + runs_b.load(), 3);  // one of them ran twice
    EXPECT_EQ(db_->deadlock_retries(), 1u);
    auto sum = db_->Read([](sql::Connection& c) -> core::Result<std::int64_t> {
        HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("SELECT sum(n) FROM d"));
        HUB_SQL_TRY(st.Step());
        return st.Int(0);
    });
    ASSERT_TRUE(sum.ok());
    EXPECT_EQ(sum.value(), 22);  // each write counted once: the killed attempt left nothing
}

TEST_F(MysqlDbTest, AnExhaustedPoolAnswersBusyInsteadOfWaitingForever) {
    auto o = ParseUrl(url_ + "?pool=1&timeout_ms=300");
    ASSERT_TRUE(o.ok());
    auto small = Database::Open(o.value());
    ASSERT_TRUE(small.ok());
    std::promise<void> holding;
    std::promise<void> release;
    auto release_f = release.get_future().share();
    std::thread holder([&] {
        (void)small.value()->Write([&](sql::Connection&) -> core::Result<void> {
            holding.set_value();
            release_f.wait();
            return core::Ok();
        });
    });
    holding.get_future().wait();
    EXPECT_EQ(small.value()->Stats().in_use, 1);
    auto busy = small.value()->Read([](sql::Connection&) -> core::Result<void> { return core::Ok(); });
    release.set_value();
    holder.join();
    ASSERT_FALSE(busy.ok());
    EXPECT_EQ(busy.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(busy.error().api_code, "database_busy");
    EXPECT_TRUE(small.value()->Read([](sql::Connection&) -> core::Result<void> { return core::Ok(); }).ok());
}

TEST_F(MysqlDbTest, ReadsSeeOneSnapshot) {
    Exec("CREATE TABLE s (id INT PRIMARY KEY) ENGINE = InnoDB");
    auto r = db_->Read([&](sql::Connection& c) -> core::Result<void> {
        HUB_SQL_ASSIGN(sql::Stmt a, c.Prepare("SELECT count(*) FROM s"));
        HUB_SQL_TRY(a.Step());
        EXPECT_EQ(a.Int(0), 0);
        // Another connection commits a row meanwhile.
        auto w = db_->Write([](sql::Connection& w) -> core::Result<void> {
            HUB_SQL_ASSIGN(sql::Stmt st, w.Prepare("INSERT INTO s VALUES (1)"));
            return st.Run();
        });
        EXPECT_TRUE(w.ok());
        HUB_SQL_ASSIGN(sql::Stmt b, c.Prepare("SELECT count(*) FROM s WHERE id > 0"));
        HUB_SQL_TRY(b.Step());
        EXPECT_EQ(b.Int(0), 0);  // the same snapshot
        return core::Ok();
    });
    ASSERT_TRUE(r.ok()) << r.error().detail;
    EXPECT_EQ(CountRows("s"), 1);
}

TEST_F(MysqlDbTest, WrongPasswordIsAClearErrorWithoutThePassword) {
    UrlOptions o = options_;
    o.password = "Wr0ngPassw0rd!";
    auto r = Database::Open(o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(r.error().api_code, "database_unavailable");
    EXPECT_NE(r.error().detail.find("Access denied"), std::string::npos) << r.error().detail;
    EXPECT_EQ(r.error().detail.find(o.password), std::string::npos);
    EXPECT_EQ(r.error().detail.find(MariaDbServer::kPassword), std::string::npos);

    UrlOptions nobody = options_;
    nobody.port = 1;  // nothing listens there
    auto down = Database::Open(nobody);
    ASSERT_FALSE(down.ok());
    EXPECT_EQ(down.error().api_code, "database_unavailable");
    EXPECT_EQ(down.error().detail.find(MariaDbServer::kPassword), std::string::npos);
}

TEST_F(MysqlDbTest, TlsRequiredIsRefusedByAServerWithoutTls) {
    // The throwaway server has no certificate: ?tls=required must not fall back to plain text.
    auto o = ParseUrl(url_ + "?tls=required");
    ASSERT_TRUE(o.ok());
    EXPECT_TRUE(o->tls_required);
    auto r = Database::Open(o.value());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "database_unavailable");
    EXPECT_NE(r.error().detail.find("SSL"), std::string::npos) << r.error().detail;
    EXPECT_EQ(r.error().detail.find(MariaDbServer::kPassword), std::string::npos);
}

// ---- migrations ----

TEST_F(MysqlDbTest, MigratesFromEmptyToLatestThenNothing) {
    const auto& all = mysqlMigrations();
    ASSERT_EQ(all.size(), sqliteMigrations().size());
    auto first = ApplyMigrations(*db_, all, 1000);
    ASSERT_TRUE(first.ok()) << first.error().detail;
    EXPECT_EQ(first.value().size(), all.size());
    auto again = ApplyMigrations(*db_, all, 2000);
    ASSERT_TRUE(again.ok()) << again.error().detail;
    EXPECT_TRUE(again.value().empty());
    auto state = ReadSchemaState(*db_, all);
    ASSERT_TRUE(state.ok());
    EXPECT_TRUE(state.value().UpToDate());
    EXPECT_EQ(state.value().current, all.back().version);
    EXPECT_EQ(CountRows("schema_migrations"), static_cast<std::int64_t>(all.size()));
    EXPECT_GE(CountRows("roles"), 3);

    // A unique key of the real schema names its table.column in a conflict.
    auto dup = db_->Write([](sql::Connection& c) -> core::Result<void> {
        HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("INSERT INTO roles SELECT * FROM roles WHERE name = 'admin'"));
        return st.Run();
    });
    ASSERT_FALSE(dup.ok());
    EXPECT_NE(dup.error().detail.find("roles.name"), std::string::npos) << dup.error().detail;

    // A database newer than the binary.
    std::vector<Migration> older(all.begin(), all.end() - 1);
    auto too_new = ApplyMigrations(*db_, older, 3000);
    ASSERT_FALSE(too_new.ok());
    EXPECT_EQ(too_new.error().api_code, "schema_too_new");
}

TEST_F(MysqlDbTest, TwoMigratorsAtOnceApplyEachStepOnce) {
    auto second = Database::Open(options_);
    ASSERT_TRUE(second.ok());
    const auto& all = mysqlMigrations();
    auto fa = std::async(std::launch::async, [&] { return ApplyMigrations(*db_, all, 1); });
    auto fb = std::async(std::launch::async, [&] { return ApplyMigrations(*second.value(), all, 2); });
    auto a = fa.get();
    auto b = fb.get();
    ASSERT_TRUE(a.ok()) << a.error().detail;
    ASSERT_TRUE(b.ok()) << b.error().detail;
    EXPECT_EQ(a.value().size() + b.value().size(), all.size());
    EXPECT_TRUE(a.value().empty() || b.value().empty());
    EXPECT_EQ(CountRows("schema_migrations"), static_cast<std::int64_t>(all.size()));
}

TEST_F(MysqlDbTest, AFailingStepNamesItsFileAndIsNotRecorded) {
    std::vector<Migration> ms = {
        {1, "0001_ok", "CREATE TABLE a (id INT PRIMARY KEY);\nINSERT INTO a VALUES (1);"},
        {2, "0002_bad", "CREATE TABLE b (id INT PRIMARY KEY);\nCREATE TABLE oops ("},
    };
    auto r = ApplyMigrations(*db_, ms, 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInternal);
    EXPECT_EQ(r.error().api_code, "migration_failed");
    EXPECT_NE(r.error().detail.find("0002_bad.sql"), std::string::npos) << r.error().detail;
    EXPECT_NE(r.error().detail.find("statement 2"), std::string::npos) << r.error().detail;
    EXPECT_EQ(CountRows("schema_migrations"), 1);
}

TEST_F(MysqlDbTest, AUserWithoutRightsToCreateTablesGetsMigrationFailed) {
    std::string db = options_.database;
    MariaDbServer::Shared().Admin("CREATE USER IF NOT EXISTS 'hub_ro'@'%' IDENTIFIED BY 'ro-Pass-9f'");
    MariaDbServer::Shared().Admin("GRANT SELECT ON " + db + ".* TO 'hub_ro'@'%'");
    UrlOptions o = options_;
    o.user = "hub_ro";
    o.password = "ro-Pass-9f";
    auto ro = Database::Open(o);
    ASSERT_TRUE(ro.ok()) << ro.error().detail;
    auto r = ApplyMigrations(*ro.value(), mysqlMigrations(), 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "migration_failed");
    EXPECT_NE(r.error().detail.find("denied"), std::string::npos) << r.error().detail;
    EXPECT_EQ(r.error().detail.find("ro-Pass-9f"), std::string::npos);
}

// ---- a server restart while a Database is open (a server of its own) ----

TEST(MysqlRestart, CallsFailFastWhileDownAndSucceedOnceTheServerIsBack) {
    MariaDbServer server;
    std::string url = server.FreshDatabase("pool=3&timeout_ms=2000");
    auto o = ParseUrl(url);
    ASSERT_TRUE(o.ok());
    auto opened = Database::Open(o.value());
    ASSERT_TRUE(opened.ok()) << opened.error().detail;
    Database& db = *opened.value();
    auto write = [&](int id) {
        return db.Write([&](sql::Connection& c) -> core::Result<void> {
            HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("INSERT INTO r VALUES (?1)"));
            return st.BindAll(id).Run();
        });
    };
    auto create = db.Write([](sql::Connection& c) { return c.Exec("CREATE TABLE r (id INT PRIMARY KEY)"); });
    ASSERT_TRUE(create.ok()) << create.error().detail;
    // Several pooled connections are open when the server goes away.
    std::vector<std::thread> warm;
    for (int i = 0; i < 3; ++i) warm.emplace_back([&, i] { EXPECT_TRUE(write(100 + i).ok()); });
    for (auto& t : warm) t.join();

    server.Stop();
    for (int i = 0; i < 5; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = write(i);
        auto took = std::chrono::steady_clock::now() - t0;
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
        EXPECT_EQ(r.error().api_code, "database_unavailable") << r.error().detail;
        EXPECT_LT(took, std::chrono::milliseconds(2500));
        EXPECT_FALSE(db.Ping().ok());
    }

    server.Start();  // same data folder and port
    auto back = write(1);
    ASSERT_TRUE(back.ok()) << back.error().detail;
    std::vector<std::thread> after;
    std::atomic<int> failures{0};
    for (int i = 0; i < 3; ++i) {
        after.emplace_back([&, i] {
            if (!write(200 + i).ok()) ++failures;
        });
    }
    for (auto& t : after) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_TRUE(db.Ping().ok());
    auto count = db.Read([](sql::Connection& c) -> core::Result<std::int64_t> {
        HUB_SQL_ASSIGN(sql::Stmt st, c.Prepare("SELECT count(*) FROM r"));
        HUB_SQL_TRY(st.Step());
        return st.Int(0);
    });
    ASSERT_TRUE(count.ok());
    EXPECT_EQ(count.value(), 7);  // 3 before, 1 + 3 after; none written during the outage
}

}  // namespace
}  // namespace hub::store::mysql
