// The client against a real redis-server (tests/support/redis.hpp).
#include "redis/client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "support/io_runner.hpp"
#include "support/redis.hpp"

namespace hub::redis {
namespace {

using test::IoRunner;
using test::RedisServer;
using test::WaitUntil;
using namespace std::chrono_literals;

ClientOptions Options(const std::string& url) {
    auto u = ParseUrl(url);
    EXPECT_TRUE(u.ok()) << url;
    ClientOptions o;
    o.url = u.value();
    o.timeout = 2000ms;
    o.backoff_min = 20ms;
    o.backoff_max = 200ms;
    return o;
}

net::awaitable<core::Result<Reply>> Cmd(Client& c, std::vector<std::string> args,
                                        std::chrono::milliseconds timeout = 0ms) {
    co_return co_await c.Command(std::move(args), timeout);
}

class RedisClientTest : public ::testing::Test {
protected:
    void SetUp() override { server_.Start(); }
    RedisServer server_;
    IoRunner runner_;
};

TEST_F(RedisClientTest, SetGetAndBigValues) {
    Client c(runner_.io(), Options(server_.Url()));
    c.Start();
    ASSERT_TRUE(WaitUntil([&] { return c.up(); }));
    std::string big(3 * 1024 * 1024 + 17, 'x');
    for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
    auto set = runner_.Run(Cmd(c, {"SET", "big", big}));
    ASSERT_TRUE(set.ok());
    EXPECT_EQ(set->str, "OK");
    auto get = runner_.Run(Cmd(c, {"GET", "big"}));
    ASSERT_TRUE(get.ok());
    EXPECT_EQ(get->type, Reply::Type::kString);
    EXPECT_EQ(get->str, big);
    auto missing = runner_.Run(Cmd(c, {"GET", "nope"}));
    ASSERT_TRUE(missing.ok());
    EXPECT_EQ(missing->type, Reply::Type::kNil);
}

net::awaitable<int> EchoMany(Client& c, int from, int count) {
    int matched = 0;
    for (int i = from; i < from + count; ++i) {
        std::string v = "v" + std::to_string(i);
        std::vector<std::string> args{"ECHO", v};
        auto r = co_await c.Command(std::move(args));
        if (r.ok() && r->str == v) ++matched;
    }
    co_return matched;
}

TEST_F(RedisClientTest, PipelinedRepliesMatchTheirCommandsUnderConcurrency) {
    Client c(runner_.io(), Options(server_.Url()));
    c.Start();
    ASSERT_TRUE(WaitUntil([&] { return c.up(); }));
    // 32 coroutines on 2 threads, 50 commands each, all in flight on one connection.
    std::vector<std::future<int>> results;
    for (int k = 0; k < 32; ++k)
        results.push_back(net::co_spawn(runner_.io(), EchoMany(c, k * 1000, 50), net::use_future));
    int total = 0;
    for (auto& f : results) total += f.get();
    EXPECT_EQ(total, 32 * 50);
    EXPECT_GE(c.stats().commands, 32u * 50u);
}

TEST_F(RedisClientTest, AnErrorReplyIsAReplyAndTheConnectionGoesOn) {
    Client c(runner_.io(), Options(server_.Url()));
    c.Start();
    ASSERT_TRUE(WaitUntil([&] { return c.up(); }));
    ASSERT_TRUE(runner_.Run(Cmd(c, {"SET", "s", "text"})).ok());
    auto r = runner_.Run(Cmd(c, {"INCR", "s"}));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->is_error());
    EXPECT_NE(r->str.find("not an integer"), std::string::npos);
    auto next = runner_.Run(Cmd(c, {"INCR", "n"}));
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(next->integer, 1);
}

TEST_F(RedisClientTest, ATimeoutWithAPausedServerLeavesTheConnectionInStep) {
    Client c(runner_.io(), Options(server_.Url()));
    c.Start();
    ASSERT_TRUE(WaitUntil([&] { return c.up(); }));
    server_.Pause();
    auto slow = runner_.Run(Cmd(c, {"ECHO", "late"}, 50ms));
    ASSERT_FALSE(slow.ok());
    EXPECT_EQ(slow.error().detail, "timeout");
    EXPECT_EQ(c.stats().errors_timeout, 1u);
    server_.Resume();
    // The late reply ("late") is read and dropped: the next command gets its own.
    auto r = runner_.Run(Cmd(c, {"ECHO", "mine"}));
    ASSERT_TRUE(r.ok()) << r.error().public_message;
    EXPECT_EQ(r->str, "mine");
    EXPECT_TRUE(c.up());
    EXPECT_EQ(c.stats().connects, 1u);  // the same connection
}

TEST_F(RedisClientTest, ReconnectsAfterARestartAndSaysSo) {
    Client c(runner_.io(), Options(server_.Url()));
    std::atomic<int> ups{0}, downs{0};
    c.OnState([&](bool up) { (up ? ups : downs)++; });
    c.Start();
    ASSERT_TRUE(WaitUntil([&] { return ups == 1; }));
    server_.Stop();
    ASSERT_TRUE(WaitUntil([&] { return downs == 1; }));
    EXPECT_FALSE(c.up());
    auto down = runner_.Run(Cmd(c, {"PING"}));
    ASSERT_FALSE(down.ok());
    EXPECT_EQ(down.error().detail, "connect");
    EXPECT_FALSE(c.stats().last_error.empty());
    server_.Start();
    ASSERT_TRUE(WaitUntil([&] { return ups == 2; }));
    auto r = runner_.Run(Cmd(c, {"PING"}));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->str, "PONG");
}

TEST_F(RedisClientTest, FireAndForgetSends) {
    Client c(runner_.io(), Options(server_.Url()));
    c.Start();
    ASSERT_TRUE(WaitUntil([&] { return c.up(); }));
    std::atomic<bool> replied{false};
    c.Send({"SET", "ff", "1"});
    c.Send({"INCR", "ff"}, [&](const Reply& r) { replied = r.integer == 2; });
    ASSERT_TRUE(WaitUntil([&] { return replied.load(); }));
}

TEST_F(RedisClientTest, SubscriberGetsMessagesAndResubscribesAfterARestart) {
    Client pub(runner_.io(), Options(server_.Url()));
    auto sopts = Options(server_.Url());
    sopts.subscribe = {"chan"};
    Client sub(runner_.io(), sopts);
    std::mutex mu;
    std::vector<std::string> got;
    std::atomic<int> ups{0};
    sub.OnMessage([&](const std::string& ch, const std::string& payload) {
        std::lock_guard lock(mu);
        got.push_back(ch + "=" + payload);
    });
    sub.OnState([&](bool up) {
        if (up) ++ups;
    });
    pub.Start();
    sub.Start();
    ASSERT_TRUE(WaitUntil([&] { return pub.up() && ups == 1; }));
    ASSERT_TRUE(runner_.Run(Cmd(pub, {"PUBLISH", "chan", "one"})).ok());
    ASSERT_TRUE(WaitUntil([&] {
        std::lock_guard lock(mu);
        return got.size() == 1;
    }));
    server_.Stop();
    server_.Start();
    ASSERT_TRUE(WaitUntil([&] { return pub.up() && ups == 2; }));
    ASSERT_TRUE(runner_.Run(Cmd(pub, {"PUBLISH", "chan", "two"})).ok());
    ASSERT_TRUE(WaitUntil([&] {
        std::lock_guard lock(mu);
        return got.size() == 2;
    }));
    std::lock_guard lock(mu);
    EXPECT_EQ(got[0], "chan=one");
    EXPECT_EQ(got[1], "chan=two");
}

TEST(RedisClientAuth, WrongPasswordIsRefusedWithoutShowingIt) {
    RedisServer server({"right-Pw-71", false});
    server.Start();
    auto ok = Client::CheckReachable(Options(server.Url()));
    EXPECT_TRUE(ok.ok()) << ok.error().public_message;
    auto wrong = Client::CheckReachable(Options(server.Url("wrong-Pw-42", 0)));
    ASSERT_FALSE(wrong.ok());
    EXPECT_NE(wrong.error().public_message.find("AUTH"), std::string::npos)
        << wrong.error().public_message;
    EXPECT_EQ(wrong.error().public_message.find("wrong-Pw-42"), std::string::npos);
    auto none = Client::CheckReachable(Options(server.Url("", 0)));
    ASSERT_FALSE(none.ok());  // NOAUTH at PING
    // A live client with the password, and SELECT of another database.
    IoRunner runner;
    Client c(runner.io(), Options(server.Url(3)));
    c.Start();
    ASSERT_TRUE(WaitUntil([&] { return c.up(); }));
    ASSERT_TRUE(runner.Run(Cmd(c, {"SET", "in3", "x"})).ok());
    EXPECT_NE(server.Cli("-n 3 GET in3").find("x"), std::string::npos);
    EXPECT_EQ(server.Cli("-n 0 EXISTS in3").find("1"), std::string::npos);
}

TEST(RedisClientAuth, UnreachableIsAConnectError) {
    RedisServer server;  // never started: nothing listens on its port
    auto o = Options(server.Url());
    o.connect_timeout = 500ms;
    auto r = Client::CheckReachable(o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().public_message.find("cannot connect"), std::string::npos)
        << r.error().public_message;
}

TEST(RedisClientTls, VerifiesTheServerAgainstTheCa) {
    RedisServer server({"", true});
    server.Start();
    auto ok = Client::CheckReachable(Options(server.Url()));
    EXPECT_TRUE(ok.ok()) << ok.error().public_message;
    IoRunner runner;
    Client c(runner.io(), Options(server.Url()));
    c.Start();
    ASSERT_TRUE(WaitUntil([&] { return c.up(); }));
    auto r = runner.Run(Cmd(c, {"ECHO", "over tls"}));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->str, "over tls");

    auto other = Options(server.Url());
    other.url.tls_ca = server.OtherCaFile();
    auto refused = Client::CheckReachable(other);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().public_message.find("TLS"), std::string::npos)
        << refused.error().public_message;
    // Plain TCP against the TLS port never gets a Redis answer.
    auto plain = Options(server.Url());
    plain.url.tls = false;
    plain.url.tls_ca.clear();
    plain.connect_timeout = 500ms;
    EXPECT_FALSE(Client::CheckReachable(plain).ok());
}

}  // namespace
}  // namespace hub::redis
