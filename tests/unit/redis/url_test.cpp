#include "redis/url.hpp"

#include <gtest/gtest.h>

namespace hub::redis {
namespace {

TEST(RedisUrl, PlainHostPortDb) {
    auto u = ParseUrl("redis://cache.internal:6380/2");
    ASSERT_TRUE(u.ok()) << u.error().public_message;
    EXPECT_FALSE(u->tls);
    EXPECT_EQ(u->host, "cache.internal");
    EXPECT_EQ(u->port, 6380u);
    EXPECT_EQ(u->db, 2);
    EXPECT_TRUE(u->password.empty());
    EXPECT_EQ(u->Redacted(), "redis://cache.internal:6380/2");
}

TEST(RedisUrl, DefaultsPortAndDb) {
    auto u = ParseUrl("redis://127.0.0.1");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->port, 6379u);
    EXPECT_EQ(u->db, 0);
}

TEST(RedisUrl, PasswordAndAclUserAreDecodedAndRedacted) {
    auto u = ParseUrl("redis://:s%40cret-pw@10.0.0.5:6379/1");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->password, "s@cret-pw");
    EXPECT_TRUE(u->user.empty());
    EXPECT_EQ(u->Redacted(), "redis://:***@10.0.0.5:6379/1");
    auto acl = ParseUrl("rediss://hub:pw-9x@redis.example:6380/0?tls_ca=/etc/ca.pem");
    ASSERT_TRUE(acl.ok());
    EXPECT_TRUE(acl->tls);
    EXPECT_EQ(acl->user, "hub");
    EXPECT_EQ(acl->password, "pw-9x");
    EXPECT_EQ(acl->tls_ca, "/etc/ca.pem");
    EXPECT_EQ(acl->Redacted(), "rediss://hub:***@redis.example:6380/0");
    auto v6 = ParseUrl("redis://[::1]:7000");
    ASSERT_TRUE(v6.ok());
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->Redacted(), "redis://[::1]:7000/0");
}

TEST(RedisUrl, ErrorsSayWhatIsWrongAndNeverThePassword) {
    const char* bad[] = {"http://x:6379",          "redis://:hunter2-pw@:6379",
                         "redis://:hunter2-pw@h:0", "redis://:hunter2-pw@h:99999",
                         "redis://:hunter2-pw@h/x", "redis://hunter2-pw@h",
                         "redis://h?tls_ca=/a",    "rediss://h?foo=1",
                         "redis://:hunter2-pw@h:",  "redis://:%zz@h"};
    for (const char* url : bad) {
        auto u = ParseUrl(url);
        ASSERT_FALSE(u.ok()) << url;
        EXPECT_EQ(u.error().public_message.find("hunter2"), std::string::npos) << url;
        EXPECT_EQ(u.error().public_message.rfind("invalid Redis URL: ", 0), 0u) << url;
    }
    EXPECT_NE(ParseUrl("redis://h:0").error().public_message.find("port"), std::string::npos);
    EXPECT_NE(ParseUrl("redis://h/x").error().public_message.find("database"), std::string::npos);
    EXPECT_NE(ParseUrl("redis://h?tls_ca=/a").error().public_message.find("rediss://"),
              std::string::npos);
}

TEST(RedisUrl, RedactUnparsedHidesThePassword) {
    EXPECT_EQ(RedactUnparsed("redis://:hunter2@h:1/0"), "redis://:***@h:1/0");
    EXPECT_EQ(RedactUnparsed("redis://u:hunter2@h"), "redis://u:***@h");
    EXPECT_EQ(RedactUnparsed("redis://h:1"), "redis://h:1");
}

}  // namespace
}  // namespace hub::redis
