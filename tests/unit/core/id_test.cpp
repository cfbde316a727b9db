#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/id.hpp"
#include "core/secret.hpp"

namespace hub::core {
namespace {

TEST(Id, IsUuidV7AndTimeOrdered) {
    auto a = NewIdAt(1'700'000'000'000);
    auto b = NewIdAt(1'700'000'000'001);
    EXPECT_TRUE(IsValidId(a));
    EXPECT_EQ(a[14], '7');
    EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b');
    EXPECT_LT(a, b);
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(NewId()).second);
}

// The random bits come from a per-thread block of the kernel's bytes: threads never share a
// block, and one id's bits are never another's.
TEST(Id, ThreadsNeverShareRandomBits) {
    std::mutex mu;
    std::set<std::string> tails;  // the 74 random bits and the version/variant nibbles
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            std::vector<std::string> mine;
            for (int i = 0; i < 2000; ++i) mine.push_back(NewIdAt(1'700'000'000'000).substr(14));
            std::lock_guard lock(mu);
            for (auto& m : mine) EXPECT_TRUE(tails.insert(m).second) << m;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(tails.size(), 8000u);
}

// A forked child must not hand out the ids its parent is about to: the block the parent had
// fetched is not the child's.
TEST(Id, AForkedChildDoesNotRepeatItsParentsIds) {
    (void)NewId();  // the parent's block is fetched and partly used
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string ids;
        for (int i = 0; i < 20; ++i) ids += NewIdAt(1'700'000'000'000);
        ssize_t w = ::write(fds[1], ids.data(), ids.size());
        ::_exit(w == static_cast<ssize_t>(ids.size()) ? 0 : 1);
    }
    ::close(fds[1]);
    std::string child;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) child.append(buf, n);
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_EQ(child.size(), 20u * 36);
    std::set<std::string> parent;
    for (int i = 0; i < 20; ++i) parent.insert(NewIdAt(1'700'000'000'000));
    for (std::size_t i = 0; i < child.size(); i += 36)
        EXPECT_EQ(parent.count(child.substr(i, 36)), 0u) << child.substr(i, 36);
}

TEST(Id, Validation) {
    EXPECT_FALSE(IsValidId("not-an-id"));
    EXPECT_FALSE(IsValidId("0192F3A0-AAAA-7BBB-8CCC-123456789ABC"));
    EXPECT_TRUE(IsValidRequestId("abc-123.x_y:z"));
    EXPECT_FALSE(IsValidRequestId(""));
    EXPECT_FALSE(IsValidRequestId("has space"));
    EXPECT_FALSE(IsValidRequestId(std::string(129, 'a')));
}

TEST(Clock, ManualClockAndIsoFormat) {
    ManualClock c(0);
    c.Advance(std::chrono::milliseconds(1'500));
    EXPECT_EQ(c.NowMs(), 1'500);
    EXPECT_EQ(FormatIsoMs(1'764'133'378'123), "2025-11-26T05:02:58.123Z");
}

TEST(Secret, NeverPrints) {
    Secret<std::string> s("sk-very-secret");
    std::ostringstream os;
    os << s;
    EXPECT_EQ(os.str(), "***");
    EXPECT_EQ(s.Reveal(), "sk-very-secret");
}

TEST(Id, InstanceIdIsFixedAndNamesHostAndPid) {
    const std::string& id = InstanceId();
    EXPECT_EQ(&id, &InstanceId());
    EXPECT_NE(id.find("-" + std::to_string(getpid()) + "-"), std::string::npos) << id;
    EXPECT_EQ(id.size() - id.rfind('-') - 1, 8u) << id;
}

}  // namespace
}  // namespace hub::core
