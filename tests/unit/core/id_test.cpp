#include <gtest/gtest.h>

#include <unistd.h>

#include <set>

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
