#include "api/timing.hpp"

#include <gtest/gtest.h>

namespace hub::api {
namespace {

class NoStream final : public http::ResponseStream {
public:
    net::awaitable<bool> Begin(int, http::Headers) override { co_return false; }
    net::awaitable<bool> Write(std::string) override { co_return false; }
    net::awaitable<void> End() override { co_return; }
    void Abort() override {}
    bool Started() const override { return false; }
    bool ClientGone() const override { return false; }
    void OnClientGone(std::function<void()>) override {}
};

TEST(ServerTiming, Format) {
    EXPECT_EQ(ServerTimingValue(0.44, 812.31), "hub;dur=0.4, upstream;dur=812.3");
    EXPECT_EQ(ServerTimingValue(-1, 0), "hub;dur=0.0, upstream;dur=0.0");
}

TEST(ServerTiming, StampsHubAndUpstream) {
    http::Request req;
    NoStream stream;
    http::Context ctx{req, stream, {}, {}, {}};
    MarkRequestStart(ctx);
    RequestTimer timer(ctx);
    http::Response r;
    timer.Stamp(r, 0);
    auto v = r.headers.GetOr("Server-Timing");
    EXPECT_EQ(v.rfind("hub;dur=", 0), 0u) << v;
    EXPECT_NE(v.find(", upstream;dur=0.0"), std::string::npos) << v;
}

}  // namespace
}  // namespace hub::api
