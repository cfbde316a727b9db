#include "services/history.hpp"

#include <gtest/gtest.h>

#include "cache/lru_cache.hpp"
#include "cache/topics.hpp"
#include "support/linked_bus.hpp"

namespace hub::services {
namespace {

using store::Message;
using store::MessageRole;

Message M(const std::string& id, MessageRole role, const std::string& content) {
    Message m;
    m.id = id;
    m.conversation_id = "c1";
    m.role = role;
    m.content = content;
    m.model = "qwen-plus";
    m.created_at = 1000 + static_cast<std::int64_t>(id.size());
    return m;
}

std::vector<std::string> Ids(const std::vector<Message>& ms) {
    std::vector<std::string> out;
    for (const auto& m : ms) out.push_back(m.id);
    return out;
}

class HistoryCacheTest : public ::testing::Test {
protected:
    core::ManualClock clock_;
    cache::LruCache cache_{cache::LruOptions{}, clock_};
};

TEST_F(HistoryCacheTest, EncodeDecodeKeepsWhatTheContextNeeds) {
    Message a = M("a", MessageRole::kUser, "line one\nline \"two\"\t\x01");
    a.attachments = {"up-1", "up-2"};  // a picture question keeps its pictures in the history
    Message b = M("b", MessageRole::kAssistant, "答案");
    b.parent_id = "a";
    b.status = store::MessageStatus::kInterrupted;
    b.error_code = "upstream_stream_broken";
    b.input_tokens = 12;
    b.output_tokens = 3;
    b.reasoning = "not cached";
    auto back = HistoryCache::Decode(HistoryCache::Encode({a, b}));
    ASSERT_TRUE(back);
    ASSERT_EQ(back->size(), 2u);
    EXPECT_EQ((*back)[0].content, a.content);
    EXPECT_EQ((*back)[0].role, MessageRole::kUser);
    EXPECT_FALSE((*back)[0].parent_id);
    EXPECT_EQ((*back)[0].attachments, (std::vector<std::string>{"up-1", "up-2"}));
    EXPECT_TRUE((*back)[1].attachments.empty());
    EXPECT_EQ((*back)[1].content, "答案");
    EXPECT_EQ((*back)[1].parent_id, "a");
    EXPECT_EQ((*back)[1].status, store::MessageStatus::kInterrupted);
    EXPECT_EQ((*back)[1].error_code, "upstream_stream_broken");
    EXPECT_EQ((*back)[1].input_tokens, 12);
    EXPECT_EQ((*back)[1].created_at, b.created_at);
    EXPECT_EQ((*back)[1].reasoning, "");
    EXPECT_TRUE(HistoryCache::Decode(HistoryCache::Encode({})));
    EXPECT_FALSE(HistoryCache::Decode("garbage"));
    // The earlier JSON-lines encoding (a hub of an older version, a shared cache) is a miss.
    EXPECT_FALSE(HistoryCache::Decode(
        "hist1\n{\"i\":\"a\",\"r\":\"user\",\"c\":\"hi\",\"s\":\"complete\",\"t\":1}\n"));
}

// A damaged value is a miss (the history is read again from the database), never a wrong
// history nor a crash: every truncation and every single-byte change of an encoded value.
TEST_F(HistoryCacheTest, ADamagedValueIsAMiss) {
    Message a = M("a", MessageRole::kUser, "question with 中文");
    a.attachments = {"up-1"};
    Message b = M("bb", MessageRole::kAssistant, "answer");
    b.parent_id = "a";
    const std::string good = HistoryCache::Encode({a, b});
    ASSERT_TRUE(HistoryCache::Decode(good));
    for (std::size_t n = 0; n < good.size(); ++n) {
        auto cut = HistoryCache::Decode(std::string_view(good).substr(0, n));
        // A cut at a record boundary is a shorter, valid history; anywhere else, a miss.
        if (cut) {
            EXPECT_LT(cut->size(), 2u) << n;
        }
    }
    int misses = 0;
    for (std::size_t i = 0; i < good.size(); ++i) {
        for (unsigned char flip : {0x01, 0x80, 0xff}) {
            std::string bad = good;
            bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ flip);
            auto back = HistoryCache::Decode(bad);  // must not crash or over-read (sanitizers)
            if (!back) {
                ++misses;
            } else {
                EXPECT_LE(back->size(), 2u);
            }
        }
    }
    EXPECT_GT(misses, 0);
    // A record length or attachment count far past the value's end.
    std::string huge = good;
    huge[6] = huge[7] = huge[8] = static_cast<char>(0xff);
    EXPECT_FALSE(HistoryCache::Decode(huge));
}

TEST_F(HistoryCacheTest, MissInstallHitAppend) {
    HistoryCache h(cache_, 100);
    auto miss = h.Get("c1");
    EXPECT_FALSE(miss.messages);
    h.Install("c1", {M("a", MessageRole::kUser, "q")}, miss.seen);
    auto hit = h.Get("c1");
    ASSERT_TRUE(hit.messages);
    EXPECT_EQ(Ids(*hit.messages), (std::vector<std::string>{"a"}));
    EXPECT_EQ((*hit.messages)[0].conversation_id, "c1");
    h.Append("c1", M("b", MessageRole::kAssistant, "ans"));
    EXPECT_EQ(Ids(*h.Get("c1").messages), (std::vector<std::string>{"a", "b"}));
    h.Forget("c1");
    EXPECT_FALSE(h.Get("c1").messages);
    EXPECT_GE(cache_.Stats().hits, 2);
}

TEST_F(HistoryCacheTest, AWriteDuringALoadWins) {
    HistoryCache h(cache_, 100);
    // A reader misses and goes to the database...
    auto look = h.Get("c1");
    ASSERT_FALSE(look.messages);
    // ...meanwhile a writer commits a message; with no entry it leaves a stale marker...
    h.Append("c1", M("new", MessageRole::kUser, "q2"));
    // ...so the reader's older result is not installed.
    h.Install("c1", {M("old", MessageRole::kUser, "q1")}, look.seen);
    auto after = h.Get("c1");
    EXPECT_FALSE(after.messages);
    // The next reader loads afresh and installs over the marker.
    h.Install("c1", {M("old", MessageRole::kUser, "q1"), M("new", MessageRole::kUser, "q2")},
              after.seen);
    ASSERT_TRUE(h.Get("c1").messages);
    EXPECT_EQ(Ids(*h.Get("c1").messages), (std::vector<std::string>{"old", "new"}));
}

TEST_F(HistoryCacheTest, KeepsOnlyTheLatestMessages) {
    HistoryCache h(cache_, 3);
    std::vector<Message> five;
    for (const char* id : {"1", "22", "333", "4444", "55555"})
        five.push_back(M(id, MessageRole::kUser, id));
    h.Install("c1", five, std::nullopt);
    EXPECT_EQ(Ids(*h.Get("c1").messages), (std::vector<std::string>{"333", "4444", "55555"}));
    h.Append("c1", M("6", MessageRole::kAssistant, "x"));
    h.Append("c1", M("7", MessageRole::kUser, "y"));
    EXPECT_EQ(Ids(*h.Get("c1").messages), (std::vector<std::string>{"55555", "6", "7"}));
}

// Two hubs, each with its own in-process cache, joined by an in-process bus.
TEST_F(HistoryCacheTest, AWriteOnADropsBsEntry) {
    testing::LinkedBuses buses;
    cache::LruCache cache_b{cache::LruOptions{}, clock_};
    HistoryCache a(cache_, 10);
    HistoryCache b(cache_b, 10);
    a.Connect(buses.a());
    b.Connect(buses.b());
    b.Install("c1", {M("a", MessageRole::kUser, "q")}, std::nullopt);
    ASSERT_TRUE(b.Get("c1").messages);
    store::Conversation row;
    row.id = "c1";
    row.user_id = "u1";
    b.PutRow(row);
    a.Append("c1", M("bb", MessageRole::kAssistant, "answer"));
    buses.Drain();
    EXPECT_FALSE(b.Get("c1").messages) << "B reloads from the database next time";
    EXPECT_FALSE(b.GetRow("c1", "u1")) << "and reads the conversation row";
    auto log = buses.b().log();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0], (cache::BusEvent{cache::topic::kHistoryChanged, "c1"}));  // the id only

    b.Install("c1", {M("a", MessageRole::kUser, "q")}, std::nullopt);
    a.Forget("c1");  // deleted through A
    buses.Drain();
    EXPECT_FALSE(b.Get("c1").messages);
    EXPECT_EQ(buses.a().received(), 0u);  // no echo
}

TEST_F(HistoryCacheTest, ResyncedLeavesEveryEarlierEntryUnread) {
    HistoryCache h(cache_, 10);
    h.Install("c1", {M("a", MessageRole::kUser, "q")}, std::nullopt);
    h.Install("c2", {M("a", MessageRole::kUser, "q")}, std::nullopt);
    store::Conversation row;
    row.id = "c1";
    row.user_id = "u1";
    h.PutRow(row);
    h.Apply({cache::kBusResynced, ""});
    EXPECT_FALSE(h.Get("c1").messages);
    EXPECT_FALSE(h.GetRow("c1", "u1"));
    EXPECT_FALSE(h.Get("c2").messages);
    h.Install("c1", {M("a", MessageRole::kUser, "q")}, std::nullopt);  // and works as before
    ASSERT_TRUE(h.Get("c1").messages);
    h.Append("c1", M("bb", MessageRole::kAssistant, "x"));
    EXPECT_EQ(Ids(*h.Get("c1").messages), (std::vector<std::string>{"a", "bb"}));
    h.Apply({cache::topic::kHistoryChanged, ""});  // malformed: ignored
    EXPECT_TRUE(h.Get("c1").messages);
}

TEST_F(HistoryCacheTest, TheConversationRowIsKeptForItsOwnerOnly) {
    store::Conversation row;
    row.id = "c1";
    row.user_id = "u1";
    row.title = "Trip";
    row.model = "qwen-max";
    row.system_prompt = "Be brief.\n\x01";
    row.pinned = true;
    row.created_at = 500;
    row.updated_at = 1001;
    auto back = HistoryCache::DecodeRow(HistoryCache::EncodeRow(row));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->id, "c1");
    EXPECT_EQ(back->user_id, "u1");
    EXPECT_EQ(back->title, "Trip");
    EXPECT_EQ(back->model, "qwen-max");
    EXPECT_EQ(back->system_prompt, "Be brief.\n\x01");
    EXPECT_TRUE(back->pinned);
    EXPECT_FALSE(back->archived);
    EXPECT_EQ(back->created_at, 500);
    EXPECT_EQ(back->updated_at, 1001);
    std::string encoded = HistoryCache::EncodeRow(row);
    EXPECT_FALSE(HistoryCache::DecodeRow(encoded.substr(0, encoded.size() - 1)));  // damaged
    EXPECT_FALSE(HistoryCache::DecodeRow(encoded + "x"));

    HistoryCache h(cache_, 10);
    EXPECT_FALSE(h.GetRow("c1", "u1"));
    h.PutRow(row);
    ASSERT_TRUE(h.GetRow("c1", "u1"));
    EXPECT_EQ(h.GetRow("c1", "u1")->updated_at, 1001);
    EXPECT_FALSE(h.GetRow("c1", "u2")) << "another user's turn reads the database";
    EXPECT_FALSE(h.GetRow("c2", "u1"));
    h.Install("c1", {M("a", MessageRole::kUser, "q")}, std::nullopt);
    h.ForgetRow("c1");  // an edit: the row only
    EXPECT_FALSE(h.GetRow("c1", "u1"));
    EXPECT_TRUE(h.Get("c1").messages);
    h.PutRow(row);
    h.Forget("c1");  // a deletion: both
    EXPECT_FALSE(h.GetRow("c1", "u1"));
    EXPECT_FALSE(h.Get("c1").messages);
    row.deleted_at = 2000;
    h.PutRow(row);
    EXPECT_FALSE(h.GetRow("c1", "u1")) << "a deleted row is not cached";
}

TEST_F(HistoryCacheTest, CurrentWhenNoMessageIsNewerThanTheCachedOnes) {
    store::Conversation c;
    c.created_at = 500;
    c.updated_at = 500;
    EXPECT_TRUE(HistoryCache::IsCurrent({}, c));
    c.updated_at = 1001;  // a message written elsewhere, or a rename
    EXPECT_FALSE(HistoryCache::IsCurrent({}, c));
    std::vector<Message> cached{M("a", MessageRole::kUser, "q")};  // created_at 1001
    EXPECT_TRUE(HistoryCache::IsCurrent(cached, c));
    c.updated_at = 1002;
    EXPECT_FALSE(HistoryCache::IsCurrent(cached, c));
}

}  // namespace
}  // namespace hub::services
