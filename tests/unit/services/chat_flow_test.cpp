// A whole chat turn against a scripted upstream and a real SQLite store: what is stored when,
// what reaches the upstream, what is recorded.
#include <gtest/gtest.h>

#include <algorithm>

#include <deque>
#include <functional>

#include "cache/lru_cache.hpp"
#include "services/chat.hpp"
#include "services/conversations.hpp"
#include "support/linked_bus.hpp"
#include "unit/store/store_fixture.hpp"

namespace hub::services {
namespace {

using store::MessageRole;
using store::MessageStatus;

// What the scripted upstream does for one call.
struct Script {
    std::vector<std::string> reasoning;
    std::vector<std::string> content;
    bool ok = true;
    std::string error_api_code;  // when !ok
    std::string upstream_code;
    bailian::Usage usage{10, 5, 15};
};

class FakeUpstream final : public bailian::Client {
public:
    explicit FakeUpstream(store::Store& store) : store_(store) {}

    net::awaitable<void> ChatInto(bailian::ChatRequest req, bailian::EventSink* sink,
                                  bailian::Cancel& cancel, bailian::ChatOutcome& out) override {
        out = co_await Answer(std::move(req), sink, cancel);
    }

    net::awaitable<bailian::ChatOutcome> Answer(bailian::ChatRequest req, bailian::EventSink* sink,
                                                bailian::Cancel& cancel) {
        requests.push_back(req);
        // What the database held when the upstream call started.
        messages_at_call.push_back(CountMessages());
        if (req.request_id.ends_with(":title")) {  // a title request
            bailian::ChatOutcome out;
            out.ok = title_ok;
            out.result.content = "\"Trip planning\"";
            out.result.usage = {20, 3, 23};
            out.upstream_request_id = "up-title";
            if (!title_ok)
                out.error = core::Error::Make(core::ErrorCode::kUpstream, "upstream_error", "x");
            co_return out;
        }
        if (during_call) during_call();
        Script s = scripts.empty() ? Script{} : scripts.front();
        if (!scripts.empty()) scripts.pop_front();
        // A whole-answer call (stream false) sends nothing to the sink, as DashScopeClient.
        if (!req.stream) sink = nullptr;
        bailian::ChatOutcome out;
        out.upstream_request_id = "up-" + std::to_string(requests.size());
        out.latency_ms = 42;
        for (const auto& r : s.reasoning) {
            out.result.reasoning += r;
            bailian::StreamEvent ev = bailian::ReasoningDelta{r};  // named: no temporary
            if (!co_await Emit(out, sink, cancel, ev)) break;
        }
        for (const auto& c : s.content) {
            if (cancel.triggered()) break;
            out.result.content += c;
            bailian::StreamEvent ev = bailian::ContentDelta{c};
            if (!co_await Emit(out, sink, cancel, ev)) break;
        }
        if (cancel.triggered()) {
            out.cancelled = true;
            out.error = core::Error::Make(core::ErrorCode::kUnavailable, "client_closed", "gone");
            co_return out;
        }
        if (!s.ok) {
            out.error = core::Error::Make(core::ErrorCode::kUpstream, s.error_api_code, "failed");
            out.error_code = s.upstream_code;
            co_return out;
        }
        out.ok = true;
        out.result.usage = s.usage;
        co_return out;
    }
    net::awaitable<bailian::RawOutcome> Forward(bailian::RawRequest, bailian::RawSink&,
                                                bailian::Cancel&) override {
        co_return bailian::RawOutcome{};
    }
    net::awaitable<core::Result<bailian::FetchedFile>> FetchResult(std::string, std::size_t,
                                                                   bailian::Cancel&) override {
        co_return core::Error::Make(core::ErrorCode::kUpstream, "result_fetch_failed", "x");
    }

    // `ev` by reference: a by-value variant built from a temporary inside the co_await
    // expression is destroyed twice by g++ 12.
    static net::awaitable<bool> Emit(bailian::ChatOutcome& out, bailian::EventSink* sink,
                                     bailian::Cancel& cancel, const bailian::StreamEvent& ev) {
        if (out.first_token_ms < 0) out.first_token_ms = 7;
        if (sink == nullptr) co_return true;
        out.any_output = true;
        bool go = co_await sink->OnEvent(ev);
        if (!go) cancel.Trigger();
        co_return go;
    }

    std::int64_t CountMessages() {
        auto r = store_.Messages().Latest(user_id, conversation_id, 1000);
        return r.ok() ? static_cast<std::int64_t>(r->size()) : -1;
    }

    store::Store& store_;
    std::string user_id, conversation_id;
    std::deque<Script> scripts;
    std::function<void()> during_call;  // runs while an answer call is upstream
    bool title_ok = true;
    std::vector<bailian::ChatRequest> requests;
    std::vector<std::int64_t> messages_at_call;
};

class Recorder final : public TurnObserver {
public:
    net::awaitable<void> OnStarted(const store::Message& q) override {
        started = q;
        co_return;
    }
    net::awaitable<bool> OnDelta(std::string content, std::string reasoning) override {
        ++deltas;
        text += content;
        thought += reasoning;
        co_return deltas < stop_after;
    }
    std::optional<store::Message> started;
    int deltas = 0;
    int stop_after = 1'000'000;
    std::string text, thought;
};

class ChatFlowTest : public store::testing::StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        user_ = NewUser("chatter");
        other_ = NewUser("stranger");
        upstream_ = std::make_unique<FakeUpstream>(store());
        usage_ = std::make_unique<UsageRecorder>(store(), db_, catalog_, clock_, nullptr);
        history_ = std::make_unique<HistoryCache>(cache_, 100);
        convs_ = std::make_unique<Conversations>(store(), db_, catalog_, *history_,
                                                 ConversationLimits{});
        ChatConfig cfg;
        cfg.max_content_chars = 100;
        chat_ = std::make_unique<Chat>(store(), db_, *upstream_, catalog_, *usage_, *history_,
                                       clock_, cfg);
        auto c = Await(convs_->Create(user_.id, {}));
        ASSERT_TRUE(c.ok());
        conv_ = c.value();
        upstream_->user_id = user_.id;
        upstream_->conversation_id = conv_.id;
    }

    template <class T>
    T Await(net::awaitable<T> aw) {
        net::io_context io;
        std::optional<T> out;
        net::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
            if (e) std::rethrow_exception(e);
            out = std::move(v);
        });
        io.run();
        return std::move(*out);
    }

    core::Result<TurnResult> Send(const std::string& content, Recorder& rec,
                                  nlohmann::json params = nullptr, bool stream = true) {
        TurnRequest r;
        r.stream = stream;
        r.user_id = user_.id;
        r.conversation_id = conv_.id;
        r.content = content;
        r.parameters = std::move(params);
        r.request_id = "rid-1";
        return Await(chat_->Run(std::move(r), rec, cancel_));
    }

    std::vector<store::ApiCall> Calls() {
        store::ApiCallFilter f;
        f.user_id = user_.id;
        auto p = store().ApiCalls().List(f, {});
        EXPECT_TRUE(p.ok());
        auto items = p->items;
        std::reverse(items.begin(), items.end());  // oldest first
        // Rows written in the same millisecond are ordered by id, which is random within it:
        // random: put an answer's row before the title row that follows it.
        std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
            if (a.created_at != b.created_at) return a.created_at < b.created_at;
            return (a.endpoint == "chat.title") < (b.endpoint == "chat.title");
        });
        return items;
    }

    async::WorkerPool db_{"db", 1};
    Catalog catalog_;
    cache::LruCache cache_{cache::LruOptions{}, clock_};
    std::unique_ptr<FakeUpstream> upstream_;
    std::unique_ptr<UsageRecorder> usage_;
    std::unique_ptr<HistoryCache> history_;
    std::unique_ptr<Conversations> convs_;
    std::unique_ptr<Chat> chat_;
    store::User user_, other_;
    store::Conversation conv_;
    core::Cancel cancel_;
};

TEST_F(ChatFlowTest, FirstTurnStoresBothMessagesRecordsUsageAndNamesTheConversation) {
    upstream_->scripts.push_back({{}, {"Hello", " there"}});
    Recorder rec;
    ASSERT_OK_AND_ASSIGN(TurnResult r, Send("Plan a trip to Paris", rec));
    // The question was in the database before the upstream call started.
    ASSERT_GE(upstream_->messages_at_call.size(), 1u);
    EXPECT_EQ(upstream_->messages_at_call[0], 1);
    ASSERT_TRUE(rec.started);
    EXPECT_EQ(rec.started->content, "Plan a trip to Paris");
    EXPECT_EQ(rec.text, "Hello there");
    EXPECT_FALSE(r.error);
    EXPECT_EQ(r.answer.status, MessageStatus::kComplete);
    EXPECT_EQ(r.answer.content, "Hello there");
    EXPECT_EQ(r.answer.parent_id, r.question.id);
    EXPECT_EQ(r.answer.model, "qwen-plus");
    EXPECT_EQ(r.answer.input_tokens, 10);
    EXPECT_EQ(r.answer.output_tokens, 5);
    EXPECT_EQ(r.conversation.title, "Trip planning");

    ASSERT_EQ(upstream_->requests.size(), 2u);  // the answer, then the title
    const auto& sent = upstream_->requests[0].messages;
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["content"], "Plan a trip to Paris");
    EXPECT_EQ(upstream_->requests[0].request_id, "rid-1");
    EXPECT_EQ(upstream_->requests[1].model, "qwen-flash");

    auto calls = Calls();
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0].endpoint, "chat");
    EXPECT_EQ(calls[0].status_code, 200);
    EXPECT_EQ(calls[0].conversation_id, conv_.id);
    EXPECT_EQ(calls[0].input_tokens, 10);
    EXPECT_EQ(calls[0].output_tokens, 5);
    EXPECT_EQ(calls[0].cost_micro_cny, (10 * 800 + 5 * 2000 + 500) / 1000);
    EXPECT_EQ(calls[0].upstream_request_id, "up-1");
    EXPECT_EQ(calls[0].first_token_ms, 7);
    EXPECT_EQ(calls[0].latency_ms, 42);
    EXPECT_EQ(calls[1].endpoint, "chat.title");
    EXPECT_EQ(calls[1].model, "qwen-flash");
}

TEST_F(ChatFlowTest, HistoryReachesTheUpstreamFromTheCache) {
    upstream_->scripts.push_back({{}, {"A1"}});
    upstream_->scripts.push_back({{}, {"A2"}});
    Recorder r1, r2;
    ASSERT_TRUE(Send("Q1", r1).ok());
    auto hits_before = cache_.Stats().hits;
    ASSERT_TRUE(Send("Q2", r2).ok());
    EXPECT_GT(cache_.Stats().hits, hits_before);
    const auto& sent = upstream_->requests.back().messages;
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_EQ(sent[0]["content"], "Q1");
    EXPECT_EQ(sent[1]["role"], "assistant");
    EXPECT_EQ(sent[1]["content"], "A1");
    EXPECT_EQ(sent[2]["content"], "Q2");
}

TEST_F(ChatFlowTest, ReasoningIsStoredApart) {
    upstream_->scripts.push_back({{"Think", "ing"}, {"Answer"}});
    Recorder rec;
    ASSERT_OK_AND_ASSIGN(TurnResult r, Send("why?", rec, {{"enable_thinking", true}}));
    EXPECT_EQ(rec.thought, "Thinking");
    EXPECT_EQ(r.answer.reasoning, "Thinking");
    EXPECT_EQ(r.answer.content, "Answer");
    EXPECT_EQ(upstream_->requests[0].parameters["enable_thinking"], true);
    auto stored = store().Messages().Get(user_.id, r.answer.id);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->reasoning, "Thinking");
    // Thinking output price (0.008 CNY/1K) for qwen-plus.
    EXPECT_EQ(Calls()[0].cost_micro_cny, (10 * 800 + 5 * 8000 + 500) / 1000);
}

TEST_F(ChatFlowTest, UpstreamFailureBeforeAnyTokenKeepsTheQuestion) {
    Script s;
    s.ok = false;
    s.error_api_code = "upstream_rate_limited";
    s.upstream_code = "Throttling.RateQuota";
    upstream_->scripts.push_back(s);
    Recorder rec;
    ASSERT_OK_AND_ASSIGN(TurnResult r, Send("hello world", rec));
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->api_code, "upstream_rate_limited");
    EXPECT_EQ(r.answer.status, MessageStatus::kError);
    EXPECT_EQ(r.answer.error_code, "upstream_rate_limited");
    EXPECT_EQ(r.answer.content, "");
    auto q = store().Messages().Get(user_.id, r.question.id);
    EXPECT_TRUE(q.ok());
    auto calls = Calls();
    ASSERT_EQ(calls.size(), 1u);  // no title call after a failed answer
    EXPECT_EQ(calls[0].error_code, "Throttling.RateQuota");
    EXPECT_EQ(calls[0].status_code, 502);
    EXPECT_EQ(r.conversation.title, "hello world");  // the fallback
}

TEST_F(ChatFlowTest, BrokenStreamKeepsThePartialText) {
    Script s;
    s.content = {"Par", "tial"};
    s.ok = false;
    s.error_api_code = "upstream_stream_broken";
    upstream_->scripts.push_back(s);
    Recorder rec;
    ASSERT_OK_AND_ASSIGN(TurnResult r, Send("tell me", rec));
    EXPECT_EQ(r.answer.status, MessageStatus::kInterrupted);
    EXPECT_EQ(r.answer.content, "Partial");
    EXPECT_EQ(r.answer.error_code, "upstream_stream_broken");
    EXPECT_GT(r.answer.output_tokens, 0);  // estimated: no usage arrived
}

TEST_F(ChatFlowTest, ClientGoneCancelsAndKeepsWhatCame) {
    upstream_->scripts.push_back({{}, {"one ", "two ", "three"}});
    Recorder rec;
    rec.stop_after = 2;
    ASSERT_OK_AND_ASSIGN(TurnResult r, Send("count", rec));
    EXPECT_TRUE(cancel_.triggered());
    EXPECT_EQ(r.answer.status, MessageStatus::kInterrupted);
    EXPECT_EQ(r.answer.content, "one two ");
    auto calls = Calls();
    ASSERT_GE(calls.size(), 1u);
    EXPECT_EQ(calls[0].status_code, kClientClosedStatus);
}

TEST_F(ChatFlowTest, AWholeAnswerTurnAsksUpstreamForAWholeAnswerAndStoresTheSame) {
    upstream_->scripts.push_back({{}, {"Hello", " there"}});
    upstream_->scripts.push_back({{}, {"Hello", " there"}});
    Recorder streamed, whole;
    ASSERT_OK_AND_ASSIGN(TurnResult a, Send("Q1", streamed));
    ASSERT_OK_AND_ASSIGN(TurnResult b, Send("Q1", whole, nullptr, /*stream=*/false));
    ASSERT_EQ(upstream_->requests.size(), 3u);  // answer, title, answer
    EXPECT_TRUE(upstream_->requests[0].stream);
    EXPECT_FALSE(upstream_->requests[2].stream);
    EXPECT_EQ(whole.deltas, 0);
    // The same answer, tokens and status stored either way.
    ASSERT_OK_AND_ASSIGN(store::Message sa, store().Messages().Get(user_.id, a.answer.id));
    ASSERT_OK_AND_ASSIGN(store::Message sb, store().Messages().Get(user_.id, b.answer.id));
    EXPECT_EQ(sb.content, sa.content);
    EXPECT_EQ(sb.status, sa.status);
    EXPECT_EQ(sb.input_tokens, sa.input_tokens);
    EXPECT_EQ(sb.output_tokens, sa.output_tokens);
    auto all = Calls();
    ASSERT_EQ(all.size(), 3u);  // two answers and the title
    std::vector<store::ApiCall> calls;
    for (const auto& c : all)
        if (c.endpoint == "chat") calls.push_back(c);
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[1].input_tokens, calls[0].input_tokens);
    EXPECT_EQ(calls[1].output_tokens, calls[0].output_tokens);
    EXPECT_EQ(calls[1].cost_micro_cny, calls[0].cost_micro_cny);
}

TEST_F(ChatFlowTest, ThinkingAndStreamOnlyModelsStillStreamUpstream) {
    upstream_->scripts.push_back({{"hm"}, {"A"}});
    upstream_->scripts.push_back({{"hm"}, {"B"}});
    Recorder r1, r2;
    ASSERT_TRUE(Send("Q1", r1, {{"enable_thinking", true}}, /*stream=*/false).ok());
    EXPECT_TRUE(upstream_->requests[0].stream);
    TurnRequest r;
    r.user_id = user_.id;
    r.conversation_id = conv_.id;
    r.content = "Q2";
    r.model = "qwq-plus";
    r.request_id = "rid-2";
    r.stream = false;
    ASSERT_TRUE(Await(chat_->Run(std::move(r), r2, cancel_)).ok());
    EXPECT_TRUE(upstream_->requests.back().stream);
    EXPECT_EQ(upstream_->requests.back().model, "qwq-plus");
}

TEST_F(ChatFlowTest, ConversationDeletedDuringTheCallStillRecordsTheCall) {
    upstream_->scripts.push_back({{}, {"late"}});
    upstream_->during_call = [this] {
        ASSERT_TRUE(store().Conversations().SoftDelete(user_.id, conv_.id).ok());
    };
    Recorder rec;
    ASSERT_OK_AND_ASSIGN(TurnResult r, Send("hello", rec));
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->api_code, "conversation_not_found");
    EXPECT_EQ(r.answer.content, "late");
    EXPECT_EQ(usage_->written(), 1);
    EXPECT_EQ(usage_->failed(), 0);
    auto calls = Calls();
    ASSERT_EQ(calls.size(), 1u);  // the answer's call, written alone; no title
    EXPECT_EQ(calls[0].endpoint, "chat");
    EXPECT_EQ(calls[0].status_code, 200);
    EXPECT_EQ(calls[0].output_tokens, 5);
}

TEST_F(ChatFlowTest, RegenerateKeepsTheOldAnswerAsASibling) {
    upstream_->scripts.push_back({{}, {"first answer"}});
    upstream_->scripts.push_back({{}, {"second answer"}});
    Recorder r1, r2;
    ASSERT_OK_AND_ASSIGN(TurnResult first, Send("Q", r1));
    TurnRequest req;
    req.user_id = user_.id;
    req.conversation_id = conv_.id;
    req.regenerate_id = first.answer.id;
    ASSERT_OK_AND_ASSIGN(TurnResult again, Await(chat_->Run(req, r2, cancel_)));
    EXPECT_EQ(again.question.id, first.question.id);
    EXPECT_EQ(again.answer.parent_id, first.question.id);
    EXPECT_EQ(again.answer.content, "second answer");
    // The context had the question only, not the replaced answer.
    const auto& sent = upstream_->requests.back().messages;
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0]["content"], "Q");
    // Both answers are kept; the list shows the newest one.
    auto all = store().Messages().List(user_.id, conv_.id, {});
    EXPECT_EQ(all->items.size(), 3u);
    auto shown = Await(convs_->Messages(user_.id, conv_.id, {}));
    ASSERT_TRUE(shown.ok());
    ASSERT_EQ(shown->items.size(), 2u);
    EXPECT_EQ(shown->items[1].id, again.answer.id);
    // Regenerating from the question id works too.
    req.regenerate_id = first.question.id;
    Recorder r3;
    EXPECT_TRUE(Await(chat_->Run(req, r3, cancel_)).ok());
}

TEST_F(ChatFlowTest, RefusalsStoreNothing) {
    Recorder rec;
    auto empty = Send("   ", rec);
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().code, core::ErrorCode::kInvalidArgument);
    auto longer = Send(std::string(101, 'x'), rec);
    ASSERT_FALSE(longer.ok());
    EXPECT_EQ(longer.error().api_code, "content_too_long");
    auto params = Send("hi", rec, {{"temperature", 9}});
    ASSERT_FALSE(params.ok());

    TurnRequest foreign;
    foreign.user_id = other_.id;
    foreign.conversation_id = conv_.id;
    foreign.content = "hi";
    auto nf = Await(chat_->Run(foreign, rec, cancel_));
    ASSERT_FALSE(nf.ok());
    EXPECT_EQ(nf.error().code, core::ErrorCode::kNotFound);

    TurnRequest model;
    model.user_id = user_.id;
    model.conversation_id = conv_.id;
    model.content = "hi";
    model.model = "gpt-4";
    auto um = Await(chat_->Run(model, rec, cancel_));
    ASSERT_FALSE(um.ok());
    EXPECT_EQ(um.error().api_code, "unknown_model");

    EXPECT_FALSE(rec.started);
    EXPECT_TRUE(upstream_->requests.empty());
    EXPECT_EQ(upstream_->CountMessages(), 0);
}

TEST_F(ChatFlowTest, OnlyTheLastAnswerCanBeRegenerated) {
    upstream_->scripts.push_back({{}, {"a1"}});
    upstream_->scripts.push_back({{}, {"a2"}});
    Recorder r1, r2, r3;
    ASSERT_OK_AND_ASSIGN(TurnResult t1, Send("q1", r1));
    ASSERT_TRUE(Send("q2", r2).ok());
    TurnRequest req;
    req.user_id = user_.id;
    req.conversation_id = conv_.id;
    req.regenerate_id = t1.answer.id;
    auto r = Await(chat_->Run(req, r3, cancel_));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, core::ErrorCode::kConflict);
    req.regenerate_id = "no-such-message";
    auto nf = Await(chat_->Run(req, r3, cancel_));
    ASSERT_FALSE(nf.ok());
    EXPECT_EQ(nf.error().code, core::ErrorCode::kNotFound);
}

TEST_F(ChatFlowTest, DeleteHidesTheConversationAndForgetsItsHistory) {
    upstream_->scripts.push_back({{}, {"a"}});
    Recorder rec;
    ASSERT_TRUE(Send("secret words", rec).ok());
    ASSERT_TRUE(Await(convs_->Delete(user_.id, conv_.id)).ok());
    EXPECT_FALSE(history_->Get(conv_.id).messages);
    EXPECT_EQ(Await(convs_->Get(user_.id, conv_.id)).error().code, core::ErrorCode::kNotFound);
    store::ConversationQuery q;
    q.q = "secret";
    EXPECT_TRUE(Await(convs_->List(user_.id, q))->items.empty());
    EXPECT_FALSE(Send("again", rec).ok());
}

TEST_F(ChatFlowTest, ExportRendersMarkdown) {
    upstream_->scripts.push_back({{"hmm"}, {"**Bold** answer"}});
    Recorder rec;
    ASSERT_TRUE(Send("Question one", rec, {{"enable_thinking", true}}).ok());
    ASSERT_TRUE(Await(convs_->Update(user_.id, conv_.id,
                                     {std::nullopt, std::nullopt, std::string("Be nice."), true,
                                      std::nullopt}))
                    .ok());
    auto e = Await(convs_->Export(user_.id, conv_.id));
    ASSERT_TRUE(e.ok());
    ASSERT_EQ(e->messages.size(), 2u);
    std::string md = RenderMarkdown(*e);
    EXPECT_EQ(md.rfind("# Trip planning\n", 0), 0u) << md;
    EXPECT_NE(md.find("## System prompt\n\nBe nice."), std::string::npos) << md;
    EXPECT_NE(md.find("## User\n"), std::string::npos);
    EXPECT_NE(md.find("Question one"), std::string::npos);
    EXPECT_NE(md.find("## Assistant (qwen-plus)"), std::string::npos);
    EXPECT_NE(md.find("> **Reasoning**\n>\n> hmm\n"), std::string::npos) << md;
    EXPECT_NE(md.find("**Bold** answer"), std::string::npos);
    EXPECT_LT(md.find("Question one"), md.find("**Bold** answer"));
    EXPECT_FALSE(Await(convs_->Export(other_.id, conv_.id)).ok());
}

// Two hubs over one database, each with its own in-process history cache: hub B below, hub A
// the fixture's. Hub B's database jobs are counted (its own pool).
class ChatTwoHubsTest : public ChatFlowTest {
protected:
    void SetUp() override {
        db_b_.SetObserver([this](double, double) { ++jobs_b_; });
        ChatFlowTest::SetUp();
        history_b_ = std::make_unique<HistoryCache>(cache_b_, 100);
        ChatConfig cfg;
        cfg.max_content_chars = 100;
        chat_b_ = std::make_unique<Chat>(store(), db_b_, *upstream_, catalog_, *usage_,
                                         *history_b_, clock_, cfg);
    }
    void TearDown() override {
        buses_.Drain();
        db_b_.Stop();
        ChatFlowTest::TearDown();
    }
    void ConnectBus() {
        history_->Connect(buses_.a());
        history_b_->Connect(buses_.b());
    }
    core::Result<TurnResult> SendOn(Chat& chat, const std::string& content) {
        upstream_->scripts.push_back({{}, {"A:" + content}});
        TurnRequest r;
        r.user_id = user_.id;
        r.conversation_id = conv_.id;
        r.content = content;
        r.request_id = "rid-" + content;
        Recorder rec;
        return Await(chat.Run(std::move(r), rec, cancel_));
    }
    std::vector<std::string> LastPrompt() {
        std::vector<std::string> out;
        for (const auto& m : upstream_->requests.back().messages)
            out.push_back(m["content"].get<std::string>());
        return out;
    }
    const std::vector<std::string> kAll{"Q1", "A:Q1", "Q2", "A:Q2", "Q3"};

    testing::LinkedBuses buses_;
    async::WorkerPool db_b_{"db-b", 1};
    std::atomic<int> jobs_b_{0};
    cache::LruCache cache_b_{cache::LruOptions{}, clock_};
    std::unique_ptr<HistoryCache> history_b_;
    std::unique_ptr<Chat> chat_b_;
};

TEST_F(ChatTwoHubsTest, AConversationWrittenThroughAIsReadThroughB) {
    ConnectBus();
    ASSERT_TRUE(SendOn(*chat_b_, "Q1").ok());  // B caches the history
    ASSERT_TRUE(SendOn(*chat_, "Q2").ok());    // A writes; B's entry is dropped by the event
    buses_.Drain();
    EXPECT_FALSE(history_b_->Get(conv_.id).messages);
    ASSERT_TRUE(SendOn(*chat_b_, "Q3").ok());
    EXPECT_EQ(LastPrompt(), kAll);
    EXPECT_EQ(history_b_->stale_reloads(), 0);  // the event did it, not the guard
}

TEST_F(ChatTwoHubsTest, AMissedEventIsCaughtByTheConversationRow) {
    // No bus at all (the same as an event lost or still on its way).
    ASSERT_TRUE(SendOn(*chat_b_, "Q1").ok());
    ASSERT_TRUE(SendOn(*chat_, "Q2").ok());
    ASSERT_TRUE(history_b_->Get(conv_.id).messages) << "B still holds the old entry";
    ASSERT_TRUE(SendOn(*chat_b_, "Q3").ok());
    EXPECT_EQ(LastPrompt(), kAll);
    EXPECT_EQ(history_b_->stale_reloads(), 1);
    EXPECT_EQ(history_b_->stale_rows(), 1);  // B's cached row was caught when Q3 was stored
}

TEST_F(ChatTwoHubsTest, TheGuardCostsACachedTurnNoDatabaseRoundTrip) {
    ASSERT_TRUE(SendOn(*chat_b_, "Q1").ok());  // the first turn also names the conversation
    int before = jobs_b_.load();
    ASSERT_TRUE(SendOn(*chat_b_, "Q2").ok());
    const int cached_turn = jobs_b_.load() - before;
    // Append the question (checking the cached conversation row), then ONE write with the
    // answer, its api_calls row and the conversation row; the row and the history come from
    // the cache.
    EXPECT_EQ(cached_turn, 2);
    ASSERT_TRUE(SendOn(*chat_, "Q3").ok());  // written through A, no event
    before = jobs_b_.load();
    ASSERT_TRUE(SendOn(*chat_b_, "Q4").ok());
    // The question's write finds the row changed and writes nothing; the history is read
    // again; the question is written.
    EXPECT_EQ(jobs_b_.load() - before, cached_turn + 2) << "a stale row costs two round trips";
    EXPECT_EQ(history_b_->stale_reloads(), 1);
    EXPECT_EQ(history_b_->stale_rows(), 1);
}

TEST_F(ChatTwoHubsTest, AnEditThroughAnotherHubReachesTheNextTurn) {
    ASSERT_TRUE(SendOn(*chat_b_, "Q1").ok());  // B caches the conversation row
    // Edited through A, with no event, in the millisecond of B's last write (updated_at does
    // not move): the system prompt and the model themselves are checked.
    store::ConversationPatch patch;
    patch.system_prompt = "Answer in French.";
    patch.model = "qwen-max";
    ASSERT_OK(store().Conversations().Update(user_.id, conv_.id, patch));
    ASSERT_TRUE(SendOn(*chat_b_, "Q2").ok());
    const auto& sent = upstream_->requests.back();
    EXPECT_EQ(sent.model, "qwen-max");
    ASSERT_FALSE(sent.messages.empty());
    EXPECT_EQ(sent.messages[0]["role"], "system");
    EXPECT_EQ(sent.messages[0]["content"], "Answer in French.");
    EXPECT_EQ(history_b_->stale_rows(), 1);
    EXPECT_EQ(upstream_->CountMessages(), 4) << "Q2 stored once";
}

TEST_F(ChatTwoHubsTest, ARefusalOnACachedRowIsCheckedAgainstTheDatabase) {
    store::ConversationPatch patch;
    patch.model = "qwen-max";
    ASSERT_OK(store().Conversations().Update(user_.id, conv_.id, patch));
    ASSERT_TRUE(SendOn(*chat_b_, "Q1").ok());  // B caches the row: qwen-max
    patch.model = "qwen-plus";
    ASSERT_OK(store().Conversations().Update(user_.id, conv_.id, patch));  // through A
    // The caller may use qwen-plus only: refused on B's cached row, served on the row as
    // it is.
    upstream_->scripts.push_back({{}, {"A:Q2"}});
    TurnRequest r;
    r.user_id = user_.id;
    r.conversation_id = conv_.id;
    r.content = "Q2";
    r.allowed_models = auth::ModelAllowList({"qwen-plus"});
    Recorder rec;
    ASSERT_OK_AND_ASSIGN(TurnResult t, Await(chat_b_->Run(std::move(r), rec, cancel_)));
    EXPECT_EQ(t.answer.model, "qwen-plus");
    EXPECT_EQ(upstream_->requests.back().model, "qwen-plus");
}

TEST_F(ChatTwoHubsTest, ADeletionThroughAnotherHubIsFoundWhenTheQuestionIsStored) {
    ASSERT_TRUE(SendOn(*chat_b_, "Q1").ok());
    const std::size_t calls = upstream_->requests.size();
    ASSERT_OK(store().Conversations().SoftDelete(user_.id, conv_.id));  // through A, no event
    TurnRequest req;
    req.user_id = user_.id;
    req.conversation_id = conv_.id;
    req.content = "Q2";
    Recorder rec;
    auto r = Await(chat_b_->Run(std::move(req), rec, cancel_));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, core::ErrorCode::kNotFound);
    EXPECT_FALSE(rec.started) << "no question stored";
    EXPECT_EQ(upstream_->requests.size(), calls) << "nothing sent upstream";
    EXPECT_FALSE(history_b_->GetRow(conv_.id, user_.id));
}

}  // namespace
}  // namespace hub::services
