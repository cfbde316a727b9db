// The SQLite store as a whole: concurrent use of the writer and the reader pool.
#include <atomic>
#include <thread>

#include "unit/store/store_fixture.hpp"

namespace hub::store {
namespace {

class SqliteStoreTest : public testing::DialectStoreTest {};

TEST_P(SqliteStoreTest, ConcurrentWritersAndReadersLoseNothing) {
    constexpr int kThreads = 4;
    constexpr int kPerThread = 50;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                ApiCall c;
                c.user_id = "user-" + std::to_string(t);
                c.endpoint = "chat";
                c.input_tokens = 1;
                if (!store().ApiCalls().Insert(c).ok()) ++failures;
                ApiCallFilter f;
                f.user_id = c.user_id;
                if (!store().ApiCalls().Stats(f, UsageGroupBy::kNone).ok()) ++failures;
                if (!store().Ping().ok()) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    ASSERT_OK_AND_ASSIGN(UsageStats s, store().ApiCalls().Stats({}, UsageGroupBy::kNone));
    EXPECT_EQ(s.totals.calls, kThreads * kPerThread);
}

TEST_P(SqliteStoreTest, ReadersSeeCommittedWrites) {
    User u = NewUser("reader");
    for (int i = 0; i < 10; ++i) {
        UserPatch p;
        p.display_name = "name-" + std::to_string(i);
        ASSERT_OK(store().Users().Update(u.id, p));
        ASSERT_OK_AND_ASSIGN(User got, store().Users().Get(u.id));
        EXPECT_EQ(got.display_name, "name-" + std::to_string(i));
    }
}


HUB_STORE_DIALECTS(SqliteStoreTest);
}  // namespace
}  // namespace hub::store
