#include "services/history.hpp"

#include "cache/topics.hpp"
#include "core/id.hpp"

namespace hub::services {

namespace {
// A cached history: this header, then one record per message, oldest first. A record is its
// length (4 bytes) and then its fields, a string as its length (4 bytes) and its bytes, a
// number as 8 bytes, all little-endian. Reading one back is a few copies, with no parsing: a
// chat turn reads its whole history on every turn. A value in any other shape (an older
// encoding, a stale marker, damage) reads as a miss.
constexpr std::string_view kHeader = "hist2\n";
// A cached conversation row: this header, then its fields as the Put functions write them.
constexpr std::string_view kRowHeader = "conv1\n";
constexpr std::string_view kStalePrefix = "!stale:";

// `v` as `bytes` little-endian bytes at `at` (which must exist), or appended (npos).
void PutFixed(std::string& out, std::uint64_t v, int bytes, std::size_t at = std::string::npos) {
    char b[8];
    for (int i = 0; i < bytes; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    if (at == std::string::npos) out.append(b, static_cast<std::size_t>(bytes));
    else out.replace(at, static_cast<std::size_t>(bytes), b, static_cast<std::size_t>(bytes));
}
void PutU32(std::string& out, std::uint32_t v) { PutFixed(out, v, 4); }
void PutI64(std::string& out, std::int64_t v) { PutFixed(out, static_cast<std::uint64_t>(v), 8); }

void PutStr(std::string& out, std::string_view v) {
    PutU32(out, static_cast<std::uint32_t>(v.size()));
    out.append(v);
}

// Reads what the Put functions wrote; any short or malformed read makes ok false for good.
struct Reader {
    std::string_view in;
    bool ok = true;

    std::uint64_t Fixed(int bytes) {
        if (!ok || in.size() < static_cast<std::size_t>(bytes)) {
            ok = false;
            return 0;
        }
        std::uint64_t v = 0;
        for (int i = 0; i < bytes; ++i)
            v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
        in.remove_prefix(static_cast<std::size_t>(bytes));
        return v;
    }
    std::uint32_t U32() { return static_cast<std::uint32_t>(Fixed(4)); }
    std::int64_t I64() { return static_cast<std::int64_t>(Fixed(8)); }
    std::string_view Str() {
        std::uint32_t n = U32();
        if (!ok || in.size() < n) {
            ok = false;
            return {};
        }
        std::string_view v = in.substr(0, n);
        in.remove_prefix(n);
        return v;
    }
};

// The records of a history value (after its header): how many there are, and how many bytes
// the first `n` of them take. A damaged tail is not counted (the value reads as a miss anyway).
std::size_t CountRecords(std::string_view records) {
    Reader r{records};
    std::size_t n = 0;
    while (!r.in.empty() && (r.Str(), r.ok)) ++n;
    return n;
}

std::size_t BytesOfFirst(std::string_view records, std::size_t n) {
    Reader r{records};
    for (std::size_t i = 0; i < n && r.ok; ++i) r.Str();
    return records.size() - r.in.size();
}
}  // namespace

HistoryCache::HistoryCache(cache::Cache& cache, std::size_t max_messages)
    : cache_(cache), max_messages_(std::max<std::size_t>(1, max_messages)) {}

std::string HistoryCache::Key(std::string_view conversation_id, std::string_view kind) const {
    std::uint64_t g = generation_.load();
    std::string key(kind);
    if (g != 0) key.append(std::to_string(g)).push_back(':');
    key.append(conversation_id);
    return key;
}

std::string HistoryCache::RowKey(std::string_view conversation_id) const {
    return Key(conversation_id, "conv:");
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
        cache_.Erase(RowKey(e.payload));
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
    std::string record(4, '\0');  // its length, filled in at the end
    record.reserve(68 + m.id.size() + m.content.size() + m.model.size());
    PutStr(record, m.id);
    PutStr(record, store::ToString(m.role));
    PutStr(record, store::ToString(m.status));
    PutStr(record, m.content);
    PutStr(record, m.model);
    PutI64(record, m.created_at);
    PutI64(record, m.parent_id ? 1 : 0);
    PutStr(record, m.parent_id ? std::string_view(*m.parent_id) : std::string_view());
    PutStr(record, m.error_code);
    PutI64(record, m.input_tokens);
    PutI64(record, m.output_tokens);
    PutU32(record, static_cast<std::uint32_t>(m.attachments.size()));
    for (const auto& a : m.attachments) PutStr(record, a);
    PutFixed(record, record.size() - 4, 4, 0);
    return record;
}

std::string HistoryCache::Encode(const std::vector<store::Message>& messages) {
    std::string out(kHeader);
    for (const auto& m : messages) out += EncodeOne(m);
    return out;
}

std::optional<std::vector<store::Message>> HistoryCache::Decode(std::string_view text) {
    if (text.substr(0, kHeader.size()) != kHeader) return std::nullopt;
    Reader records{text.substr(kHeader.size())};
    std::vector<store::Message> out;
    while (!records.in.empty()) {
        Reader r{records.Str()};
        if (!records.ok) return std::nullopt;
        store::Message m;
        m.id = r.Str();
        auto role = store::ParseMessageRole(r.Str());
        auto status = store::ParseMessageStatus(r.Str());
        m.content = r.Str();
        m.model = r.Str();
        m.created_at = r.I64();
        bool has_parent = r.I64() != 0;
        std::string_view parent = r.Str();
        if (has_parent) m.parent_id = std::string(parent);
        m.error_code = r.Str();
        m.input_tokens = r.I64();
        m.output_tokens = r.I64();
        std::uint32_t attachments = r.U32();
        // Each attachment takes at least its 4-byte length: a count the record cannot hold
        // is damage, not a reason to reserve.
        if (!r.ok || attachments > r.in.size() / 4) return std::nullopt;
        m.attachments.reserve(attachments);
        for (std::uint32_t i = 0; i < attachments; ++i) m.attachments.emplace_back(r.Str());
        if (!r.ok || !r.in.empty() || !role || !status) return std::nullopt;
        m.role = *role;
        m.status = *status;
        out.push_back(std::move(m));
    }
    return out;
}

std::string HistoryCache::EncodeRow(const store::Conversation& row) {
    std::string out(kRowHeader);
    PutStr(out, row.id);
    PutStr(out, row.user_id);
    PutStr(out, row.title);
    PutStr(out, row.model);
    PutStr(out, row.system_prompt);
    PutI64(out, row.pinned ? 1 : 0);
    PutI64(out, row.archived ? 1 : 0);
    PutI64(out, row.created_at);
    PutI64(out, row.updated_at);
    return out;
}

std::optional<store::Conversation> HistoryCache::DecodeRow(std::string_view text) {
    if (text.substr(0, kRowHeader.size()) != kRowHeader) return std::nullopt;
    Reader r{text.substr(kRowHeader.size())};
    store::Conversation row;
    row.id = r.Str();
    row.user_id = r.Str();
    row.title = r.Str();
    row.model = r.Str();
    row.system_prompt = r.Str();
    row.pinned = r.I64() != 0;
    row.archived = r.I64() != 0;
    row.created_at = r.I64();
    row.updated_at = r.I64();
    if (!r.ok || !r.in.empty()) return std::nullopt;
    return row;
}

std::optional<store::Conversation> HistoryCache::GetRow(std::string_view conversation_id,
                                                        std::string_view user_id) {
    auto value = cache_.Get(RowKey(conversation_id));
    if (!value) return std::nullopt;
    auto row = DecodeRow(*value);
    if (!row || row->id != conversation_id || row->user_id != user_id) return std::nullopt;
    return row;
}

void HistoryCache::PutRow(const store::Conversation& row) {
    if (row.deleted_at) return ForgetRow(row.id);
    cache_.Put(RowKey(row.id), EncodeRow(row));
}

void HistoryCache::ForgetRow(std::string_view conversation_id) {
    cache_.Erase(RowKey(conversation_id));
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
    std::string record = EncodeOne(message);
    std::string marker = StaleMarker();
    std::size_t max = max_messages_;
    cache_.Update(Key(conversation_id), [&](std::optional<std::string>& value) {
        if (!value || value->substr(0, kHeader.size()) != kHeader) {
            value = std::move(marker);  // a load running now must not install an older history
            return;
        }
        *value += record;
        // Trim the oldest records beyond the bound.
        std::string_view records = std::string_view(*value).substr(kHeader.size());
        std::size_t messages = CountRecords(records);
        if (messages > max) value->erase(kHeader.size(), BytesOfFirst(records, messages - max));
    });
    Publish(conversation_id);
}

void HistoryCache::Forget(std::string_view conversation_id) {
    cache_.Erase(Key(conversation_id));
    cache_.Erase(RowKey(conversation_id));
    Publish(conversation_id);
}

}  // namespace hub::services
