// Pictures in chat: attachment validation, image-token estimates, which pictures go into the
// context (history trimming) and how they are inlined.
#include <gtest/gtest.h>

#include "services/chat.hpp"
#include "services/uploads.hpp"

namespace hub::services {
namespace {

using store::Message;
using store::MessageRole;

Message User(std::string id, std::string text, std::vector<std::string> images = {}) {
    Message m;
    m.id = std::move(id);
    m.role = MessageRole::kUser;
    m.content = std::move(text);
    m.attachments = std::move(images);
    return m;
}

Message Answer(std::string id, std::string text, std::string parent) {
    Message m;
    m.id = std::move(id);
    m.role = MessageRole::kAssistant;
    m.content = std::move(text);
    m.parent_id = std::move(parent);
    return m;
}

// Every image_url URL of the built context, in order.
std::vector<std::string> Urls(const nlohmann::json& messages) {
    std::vector<std::string> out;
    for (const auto& m : messages) {
        if (!m["content"].is_array()) continue;
        for (const auto& p : m["content"]) {
            if (p.value("type", "") == "image_url") out.push_back(p["image_url"]["url"]);
        }
    }
    return out;
}

TEST(Attachments, ParseIds) {
    EXPECT_TRUE(ParseAttachmentIds(nullptr, 4)->empty());
    auto ok = ParseAttachmentIds(nlohmann::json::array({"a", "b"}), 4);
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->size(), 2u);
    auto many = ParseAttachmentIds(nlohmann::json::array({"a", "b", "c"}), 2);
    ASSERT_FALSE(many.ok());
    EXPECT_EQ(many.error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_EQ(many.error().public_message.rfind("attachments", 0), 0u);
    EXPECT_FALSE(ParseAttachmentIds("a", 4).ok());
    EXPECT_FALSE(ParseAttachmentIds(nlohmann::json::array({1}), 4).ok());
    EXPECT_FALSE(ParseAttachmentIds(nlohmann::json::array({""}), 4).ok());
    EXPECT_FALSE(ParseAttachmentIds(nlohmann::json::array({"a", "a"}), 4).ok());
}

TEST(Attachments, ImageTokensFollowPatches) {
    EXPECT_EQ(EstimateImageTokens(28, 28), 3);
    EXPECT_EQ(EstimateImageTokens(29, 28), 4);
    EXPECT_EQ(EstimateImageTokens(1120, 896), 40 * 32 + 2);
}

TEST(VisionContext, QuestionPicturesComeFirstAsParts) {
    auto c = BuildContext("", {}, "What is this?", 100'000, {"img1", "img2"}, {8, 100});
    ASSERT_TRUE(c.ok());
    const auto& q = c->messages.back();
    ASSERT_TRUE(q["content"].is_array());
    ASSERT_EQ(q["content"].size(), 3u);
    EXPECT_EQ(q["content"][0]["type"], "image_url");
    EXPECT_EQ(q["content"][0]["image_url"]["url"], "hub-upload:img1");
    EXPECT_EQ(q["content"][2]["type"], "text");
    EXPECT_EQ(q["content"][2]["text"], "What is this?");
    EXPECT_EQ(c->image_ids, (std::vector<std::string>{"img1", "img2"}));
    EXPECT_GE(c->estimated_tokens, 200);
    // Pictures only: no text part.
    auto only = BuildContext("", {}, "", 100'000, {"img1"}, {8, 100});
    ASSERT_TRUE(only.ok());
    EXPECT_EQ(only->messages.back()["content"].size(), 1u);
}

TEST(VisionContext, OldestHistoryPicturesAreDroppedFirstTextKept) {
    std::vector<Message> h = {User("u1", "first", {"old1", "old2"}), Answer("a1", "one", "u1"),
                              User("u2", "second", {"new1"}), Answer("a2", "two", "u2")};
    // Room for 3 pictures: the question's, new1 and old2 (newest first).
    auto c = BuildContext("", h, "third", 100'000, {"q1"}, {3, 100});
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(Urls(c->messages), (std::vector<std::string>{"hub-upload:old2", "hub-upload:new1",
                                                            "hub-upload:q1"}));
    EXPECT_EQ(c->images_dropped, 1u);
    EXPECT_EQ(c->history_used, 4u);  // every text stays
    EXPECT_EQ(c->messages[0]["content"][1]["text"], "first");
}

TEST(VisionContext, TokenBudgetAlsoLimitsPictures) {
    std::vector<Message> h = {User("u1", "first", {"old1"}), Answer("a1", "one", "u1")};
    // The question alone costs 1 + 4 + 100, the history text 6 + 5: no room for old1.
    auto c = BuildContext("", h, "q", 105 + 11 + 50, {"q1"}, {8, 100});
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(Urls(c->messages), (std::vector<std::string>{"hub-upload:q1"}));
    EXPECT_EQ(c->images_dropped, 1u);
    EXPECT_EQ(c->messages[0]["content"], "first");
}

TEST(VisionContext, TextOnlyModelKeepsHistoryTextOnly) {
    std::vector<Message> h = {User("u1", "", {"old1"}), Answer("a1", "a cat", "u1")};
    auto c = BuildContext("", h, "and now?", 100'000, {}, {});
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(Urls(c->messages).empty());
    EXPECT_EQ(c->messages[0]["content"], "[image]");
    EXPECT_EQ(c->messages[1]["content"], "a cat");
    EXPECT_TRUE(c->messages.back()["content"].is_string());
}

TEST(VisionContext, InlineImagesReplacesPlaceholders) {
    auto c = BuildContext("", {}, "q", 100'000, {"a", "gone"}, {8, 10});
    ASSERT_TRUE(c.ok());
    std::size_t missing =
        InlineImages(c->messages, {{"a", "data:image/png;base64,AAAA"}});
    EXPECT_EQ(missing, 1u);
    EXPECT_EQ(Urls(c->messages), (std::vector<std::string>{"data:image/png;base64,AAAA"}));
    // Client content that merely looks like parts is left alone.
    nlohmann::json other = nlohmann::json::array(
        {{{"role", "user"},
          {"content", {{{"type", "image_url"}, {"image_url", {{"url", "https://x/y.png"}}}}}}}});
    EXPECT_EQ(InlineImages(other, {}), 0u);
    EXPECT_EQ(Urls(other), (std::vector<std::string>{"https://x/y.png"}));
}

}  // namespace
}  // namespace hub::services
