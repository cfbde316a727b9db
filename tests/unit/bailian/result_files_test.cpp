#include "bailian/result_files.hpp"

#include <gtest/gtest.h>

#include "unit/bailian/conformance.hpp"
#include "bailian/task.hpp"

namespace hub::bailian {
namespace {

std::vector<OriginPattern> Allow(std::initializer_list<const char*> texts) {
    std::vector<OriginPattern> out;
    for (const char* t : texts) {
        auto p = ParseOriginPattern(t);
        EXPECT_TRUE(p.ok()) << t;
        if (p.ok()) out.push_back(*p);
    }
    return out;
}

http::Url Origin(const char* url) {
    auto r = ParseResultUrl(url);
    EXPECT_TRUE(r.ok()) << url;
    return r.ok() ? r->origin : http::Url{};
}

TEST(ResultFiles, DefaultOriginsCoverEveryRecordedResultHost) {
    auto allow = Allow({"https://dashscope-result-*.aliyuncs.com"});
    EXPECT_EQ(DefaultResultOrigins(), std::vector<std::string>{"https://dashscope-result-*.aliyuncs.com"});
    // Every URL of the recorded task results is allowed as it is.
    for (const char* name : {"wanx_v1_task_succeeded.json", "wanx_t2i_v2_task_succeeded.json",
                             "wanx_task_partial_failure.json"}) {
        auto task = ParseTaskResponse(testing::ReadConformance(name));
        ASSERT_TRUE(task.ok()) << name;
        for (const auto& item : task->results) {
            if (!item.ok()) continue;
            auto url = ParseResultUrl(item.url);
            ASSERT_TRUE(url.ok()) << item.url;
            EXPECT_TRUE(OriginAllowed(allow, url->origin)) << item.url;
            EXPECT_EQ(url->target.front(), '/');
        }
    }
}

TEST(ResultFiles, OnlyAllowedOriginsWithTheirExactPort) {
    auto allow = Allow({"https://dashscope-result-*.aliyuncs.com", "http://127.0.0.1:9000"});
    EXPECT_TRUE(OriginAllowed(allow, Origin("https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/a.png")));
    EXPECT_TRUE(OriginAllowed(allow, Origin("http://127.0.0.1:9000/results/t/1.png?Expires=1")));
    // Another port on the same host, another scheme, another host: refused.
    EXPECT_FALSE(OriginAllowed(allow, Origin("http://127.0.0.1:9001/results/t/1.png")));
    EXPECT_FALSE(OriginAllowed(allow, Origin("https://127.0.0.1:9000/x")));
    EXPECT_FALSE(OriginAllowed(allow, Origin("http://localhost:9000/x")));
    EXPECT_FALSE(OriginAllowed(allow, Origin("https://dashscope-result-bj.oss.aliyuncs.com:8443/a")));
    EXPECT_FALSE(OriginAllowed(allow, Origin("https://evil.com/dashscope-result-x.aliyuncs.com")));
    EXPECT_FALSE(OriginAllowed(allow, Origin("https://dashscope-result-x.aliyuncs.com.evil.com/a")));
    EXPECT_FALSE(OriginAllowed(allow, Origin("https://aliyuncs.com/a")));
    EXPECT_FALSE(OriginAllowed({}, Origin("http://127.0.0.1:9000/x")));
}

TEST(ResultFiles, RefusesUrlsThatHideTheirHost) {
    EXPECT_FALSE(ParseResultUrl("https://dashscope-result-bj.aliyuncs.com@evil.com/a.png").ok());
    EXPECT_FALSE(ParseResultUrl("ftp://dashscope-result-bj.aliyuncs.com/a.png").ok());
    EXPECT_FALSE(ParseResultUrl("dashscope-result-bj.aliyuncs.com/a.png").ok());
    EXPECT_FALSE(ParseResultUrl("http://10.0.0.1/a.png").ok());  // plain http off loopback
    EXPECT_FALSE(ParseResultUrl("https://h.aliyuncs.com/a b.png").ok());
    auto r = ParseResultUrl("https://Dashscope-Result-SH.aliyuncs.com/x/1.png?Expires=1&Signature=a%2F#frag");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->origin.host, "dashscope-result-sh.aliyuncs.com");
    EXPECT_EQ(r->origin.port, 443);
    EXPECT_EQ(r->target, "/x/1.png?Expires=1&Signature=a%2F");
}

TEST(ResultFiles, PatternsAreValidated) {
    EXPECT_FALSE(ParseOriginPattern("dashscope-result-*.aliyuncs.com").ok());
    EXPECT_FALSE(ParseOriginPattern("http://*.example.com").ok());
    EXPECT_FALSE(ParseOriginPattern("https://host/path").ok());
    auto p = ParseOriginPattern("https://Images.Example.com:8443");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->host, "images.example.com");
    EXPECT_EQ(p->port, 8443);
}

}  // namespace
}  // namespace hub::bailian
