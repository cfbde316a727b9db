#include "services/history.hpp"

#include <nlohmann/json.hpp>

#include "cache/topics.hpp"
#include "core/id.hpp"

namespace hub::services {

namespace {
constexpr std::string_view kHeader = "hist1\n";
constexpr std::string_view kStalePrefix = "!stale:";
}  // namespace

HistoryCache::HistoryCache(cache::Cache& cache, std::size_t max_messages)
    : cache_(cache), max_messages_(std::max<std::size_t>(1, max_messages)) {}

std::string HistoryCache::Key(std::string_view conversation_id) const {
    std::uint64_t g = generation_.load();
    if (g == 0) return "hist:" + std::string(conversation_id);
    return "hist:" + std::to_string(g) + ":" + std::string(conversation_id);
}

void HistoryCache::Connect(cache::Bus& bus) {
    bus_ = &bus;
    bus.Subscribe([this](const cache::BusEvent& e) { Apply(e); });
}

void HistoryCache::Publish(std::string_view conversation_id) {
    if (bus_ == nullptr) return;
    bus_->Publish(cache::BusEvent{cache::topic::kHistoryChanged, std::string(conversation_id)});
}

void HistoryCache::Apply(const cache::BusEvent& e) {
    if (e.topic == cache::topic::kHistoryChanged && !e.payload.empty()) {
        cache_.Erase(Key(e.payload));
    } else if (e.topic == cache::kBusResynced) {
        ++generation_;
    }
}

bool HistoryCache::IsCurrent(const std::vector<store::Message>& cached,
                             const store::Conversation& conversation) {
    std::int64_t newest = cached.empty() ? conversation.created_at : cached.back().created_at;
    return newest >= conversation.updated_at;
}

std::string HistoryCache::StaleMarker() {
    // Unique per write, across processes too (for a shared cache).
    return std::string(kStalePrefix) + core::NewId() + ":" + std::to_string(++stale_seq_);
}

std::string HistoryCache::EncodeOne(const store::Message& m) {
    nlohmann::json j = {
        {"i", m.id},    {"r", std::string(store::ToString(m.role))},   {"c", m.content},
        {"m", m.model}, {"s", std::string(store::ToString(m.status))}, {"t", m.created_at}};
    if (m.parent_id) j["p"] = *m.parent_id;
    if (!m.error_code.empty()) j["e"] = m.error_code;
    if (m.input_tokens) j["in"] = m.input_tokens;
    if (m.output_tokens) j["out"] = m.output_tokens;
    if (!m.attachments.empty()) j["a"] = m.attachments;
    // dump() escapes control characters, so one message is one line.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string HistoryCache::Encode(const std::vector<store::Message>& messages) {
    std::string out(kHeader);
    for (const auto& m : messages) out += EncodeOne(m);
    return out;
}

std::optional<std::vector<store::Message>> HistoryCache::Decode(std::string_view text) {
    if (text.substr(0, kHeader.size()) != kHeader) return std::nullopt;
    text.remove_prefix(kHeader.size());
    std::vector<store::Message> out;
    try {
        while (!text.empty()) {
            auto nl = text.find('\n');
            if (nl == std::string_view::npos) return std::nullopt;
            auto j = nlohmann::json::parse(text.substr(0, nl));
            text.remove_prefix(nl + 1);
            store::Message m;
            m.id = j.at("i").get<std::string>();
            auto role = store::ParseMessageRole(j.at("r").get<std::string>());
            auto status = store::ParseMessageStatus(j.at("s").get<std::string>());
            if (!role || !status) return std::nullopt;
            m.role = *role;
            m.status = *status;
            m.content = j.at("c").get<std::string>();
            m.model = j.value("m", "");
            m.created_at = j.at("t").get<std::int64_t>();
            if (j.contains("p")) m.parent_id = j["p"].get<std::string>();
            m.error_code = j.value("e", "");
            m.input_tokens = j.value("in", std::int64_t{0});
            m.output_tokens = j.value("out", std::int64_t{0});
            if (j.contains("a")) m.attachments = j["a"].get<std::vector<std::string>>();
            out.push_back(std::move(m));
        }
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
    return out;
}

HistoryCache::Lookup HistoryCache::Get(std::string_view conversation_id) {
    Lookup l;
    l.seen = cache_.Get(Key(conversation_id));
    if (l.seen) {
        l.messages = Decode(*l.seen);
        if (l.messages) {
            for (auto& m : *l.messages) m.conversation_id = std::string(conversation_id);
        }
    }
    return l;
}

void HistoryCache::Install(std::string_view conversation_id,
                           const std::vector<store::Message>& messages,
                           const std::optional<std::string>& seen) {
    std::vector<store::Message> tail = messages;
    if (tail.size() > max_messages_)
        tail.erase(tail.begin(), tail.end() - static_cast<std::ptrdiff_t>(max_messages_));
    std::string encoded = Encode(tail);
    cache_.Update(Key(conversation_id), [&](std::optional<std::string>& value) {
        if (value == seen) value = std::move(encoded);  // nobody wrote since we looked
    });
}

void HistoryCache::Append(std::string_view conversation_id, const store::Message& message) {
    std::string line = EncodeOne(message);
    std::string marker = StaleMarker();
    std::size_t max = max_messages_;
    cache_.Update(Key(conversation_id), [&](std::optional<std::string>& value) {
        if (!value || value->substr(0, kHeader.size()) != kHeader) {
            value = std::move(marker);  // a load running now must not install an older history
            return;
        }
        *value += line;
        // Trim the oldest lines beyond the bound.
        std::size_t lines = 0;
        for (char c : *value) lines += c == '\n';
        std::size_t messages = lines - 1;  // the header line
        if (messages > max) {
            std::size_t drop = messages - max;
            std::size_t pos = kHeader.size();
            while (drop-- > 0) pos = value->find('\n', pos) + 1;
            value->erase(kHeader.size(), pos - kHeader.size());
        }
    });
    Publish(conversation_id);
}

void HistoryCache::Forget(std::string_view conversation_id) {
    cache_.Erase(Key(conversation_id));
    Publish(conversation_id);
}

}  // namespace hub::services
