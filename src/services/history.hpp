#pragma once
// The recent history of each conversation, kept in the cache so that sending a message does
// not re-read the whole conversation from the database.
//
// An entry holds the latest `max_messages` messages of a conversation (without reasoning text,
// which never goes back upstream). Writers append to it after their database commit; a reader
// that missed loads from the database and installs what it read only if no writer touched the
// entry meanwhile (compare-and-set through Cache::Update). A writer that finds no entry leaves
// a unique "stale" marker, so a load that raced with it cannot install an older history.
// Callers check the conversation's owner in the database first: the cache is keyed by
// conversation id only.
//
// Across hubs (each with its own in-process cache): every Append and Forget is published, and
// another hub's event drops the entry here (Connect). Events are not kept, so a late or missed
// one must not matter: IsCurrent compares an entry with the conversation row the turn reads
// anyway (updated_at is raised to each new message's created_at, and created_at strictly
// increases within a conversation), and a stale entry is reloaded. kBusResynced starts a new
// generation of keys: every entry cached before it is left to age out unread.
//
// Beside each history, the conversation's row as this hub's last turn wrote it (PutRow), so
// that the next question in it needs no database read before it is stored. A cached row is
// never trusted: the question is stored only if the row in the database still has the cached
// model, system prompt and updated_at (MessageStore::AppendQuestion), and the turn is prepared
// again from the database otherwise, or when it would be refused (the refusal may come from a
// stale row). Events only keep such retries rare.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/bus.hpp"
#include "cache/cache.hpp"
#include "store/models.hpp"

namespace hub::services {

class HistoryCache {
public:
    HistoryCache(cache::Cache& cache, std::size_t max_messages);

    struct Lookup {
        std::optional<std::vector<store::Message>> messages;  // nullopt = miss
        std::optional<std::string> seen;                      // what the slot held (for Install)
    };
    Lookup Get(std::string_view conversation_id);
    // Installs `messages` (chronological, as loaded) unless the slot changed since `seen`.
    void Install(std::string_view conversation_id, const std::vector<store::Message>& messages,
                 const std::optional<std::string>& seen);
    // After a message was committed: appended to the cached history (trimmed to the bound).
    void Append(std::string_view conversation_id, const store::Message& message);
    void Forget(std::string_view conversation_id);  // the history and the row

    // The cached row of a conversation of `user_id` (nullopt: none, or another user's).
    std::optional<store::Conversation> GetRow(std::string_view conversation_id,
                                              std::string_view user_id);
    void PutRow(const store::Conversation& row);
    void ForgetRow(std::string_view conversation_id);  // here only (an edit through this hub)

    // Publishes Append/Forget to the other hubs and drops what they publish. Once at start-up,
    // before the bus starts.
    void Connect(cache::Bus& bus);
    void Apply(const cache::BusEvent& event);  // the bus handler (public for tests)

    // Whether a cached history can stand for the conversation as read from the database now:
    // no message newer than its newest one (for an empty history: none since the conversation
    // was created). An edit of the conversation (rename, pin, archive, model) raises updated_at
    // too: the next turn reloads once, and its own messages make the entry current again (the
    // automatic title does not raise it).
    static bool IsCurrent(const std::vector<store::Message>& cached,
                          const store::Conversation& conversation);
    // Entries found stale by IsCurrent and reloaded (the chat turn counts them; /metrics).
    std::int64_t stale_reloads() const { return stale_reloads_.load(); }
    void CountStaleReload() { ++stale_reloads_; }
    // Cached rows that AppendQuestion found changed (the turn was prepared again; /metrics).
    std::int64_t stale_rows() const { return stale_rows_.load(); }
    void CountStaleRow() { ++stale_rows_; }

    std::size_t max_messages() const { return max_messages_; }

    // Serialisation (pure; exposed for tests).
    static std::string Encode(const std::vector<store::Message>& messages);
    static std::optional<std::vector<store::Message>> Decode(std::string_view text);
    static std::string EncodeOne(const store::Message& m);  // one record
    static std::string EncodeRow(const store::Conversation& row);
    static std::optional<store::Conversation> DecodeRow(std::string_view text);

private:
    std::string Key(std::string_view conversation_id, std::string_view kind = "hist:") const;
    std::string RowKey(std::string_view conversation_id) const;
    std::string StaleMarker();
    void Publish(std::string_view conversation_id);

    cache::Cache& cache_;
    std::size_t max_messages_;
    std::atomic<std::uint64_t> stale_seq_{0};
    std::atomic<std::uint64_t> generation_{0};  // raised on kBusResynced
    std::atomic<std::int64_t> stale_reloads_{0};
    std::atomic<std::int64_t> stale_rows_{0};
    cache::Bus* bus_ = nullptr;
};

}  // namespace hub::services
