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
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
    void Forget(std::string_view conversation_id);

    std::size_t max_messages() const { return max_messages_; }

    // Serialisation (pure; exposed for tests).
    static std::string Encode(const std::vector<store::Message>& messages);
    static std::optional<std::vector<store::Message>> Decode(std::string_view text);
    static std::string EncodeOne(const store::Message& m);  // one line, with '\n'

private:
    static std::string Key(std::string_view conversation_id);
    std::string StaleMarker();

    cache::Cache& cache_;
    std::size_t max_messages_;
    std::atomic<std::uint64_t> stale_seq_{0};
};

}  // namespace hub::services
