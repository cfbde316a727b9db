#include "auth/session_tokens.hpp"

#include <algorithm>
#include <mutex>

#include "cache/topics.hpp"
#include "crypto/crypto.hpp"

namespace hub::auth {
namespace {

constexpr std::uint64_t kPurgeEvery = 256;  // inserts between opportunistic purges

bool IsBase64UrlChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

}  // namespace

RefreshToken NewRefreshToken() {
    RefreshToken out;
    std::string token = crypto::RandomToken(kRefreshTokenBytes);
    out.hash = HashRefreshToken(token);
    out.token = core::Secret<std::string>(std::move(token));
    return out;
}

std::string HashRefreshToken(std::string_view token) { return crypto::Sha256Hex(token); }

bool IsWellFormedRefreshToken(std::string_view token) {
    return token.size() == kRefreshTokenLength &&
           std::all_of(token.begin(), token.end(), IsBase64UrlChar);
}

bool RefreshTokenMatches(std::string_view token, std::string_view stored_hash) {
    return crypto::ConstantTimeEquals(HashRefreshToken(token), stored_hash);
}

RevocationCache::RevocationCache(const core::Clock& clock, std::chrono::seconds entry_ttl)
    : clock_(clock),
      entry_ttl_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(entry_ttl).count()) {}

void RevocationCache::Put(Map& map, std::string_view key) {
    std::int64_t now = clock_.NowMs();
    std::unique_lock lock(mu_);
    std::int64_t& expires = map[std::string(key)];
    expires = std::max(expires, now + entry_ttl_ms_);  // never shorten an entry
    if (++inserts_ % kPurgeEvery == 0) PurgeLocked(now);
}

void RevocationCache::Connect(cache::Bus& bus) {
    bus_ = &bus;
    bus.Subscribe([this](const cache::BusEvent& e) { Apply(e); });
}

void RevocationCache::Publish(const char* topic, std::string_view id) {
    if (bus_ == nullptr) return;
    cache::BusEvent e{topic, std::string(id)};
    bus_->Publish(e, std::chrono::milliseconds(entry_ttl_ms_));
}

void RevocationCache::Apply(const cache::BusEvent& e) {
    // Every event here is kept, so kBusResynced needs nothing: the missed ones were replayed.
    if (e.payload.empty()) return;
    if (e.topic == cache::topic::kSessionRevoked) {
        Put(sessions_, e.payload);
    } else if (e.topic == cache::topic::kUserDisabled) {
        Put(disabled_users_, e.payload);
    } else if (e.topic == cache::topic::kUserEnabled) {
        std::unique_lock lock(mu_);
        disabled_users_.erase(e.payload);
    } else if (e.topic == cache::topic::kUserChanged) {
        Put(changed_users_, e.payload);
    }
}

void RevocationCache::RevokeSession(std::string_view session_id) {
    Put(sessions_, session_id);
    Publish(cache::topic::kSessionRevoked, session_id);
}

void RevocationCache::DisableUser(std::string_view user_id) {
    Put(disabled_users_, user_id);
    Publish(cache::topic::kUserDisabled, user_id);
}

void RevocationCache::EnableUser(std::string_view user_id) {
    {
        std::unique_lock lock(mu_);
        disabled_users_.erase(std::string(user_id));
    }
    Publish(cache::topic::kUserEnabled, user_id);
}

void RevocationCache::NoteUserChanged(std::string_view user_id) {
    Put(changed_users_, user_id);
    Publish(cache::topic::kUserChanged, user_id);
}

bool RevocationCache::ChangedSince(std::string_view user_id, std::int64_t since_ms) const {
    std::int64_t now = clock_.NowMs();
    std::shared_lock lock(mu_);
    auto it = changed_users_.find(std::string(user_id));
    return it != changed_users_.end() && it->second > now &&
           it->second - entry_ttl_ms_ >= since_ms;
}

bool RevocationCache::Live(const Map& map, std::string_view key, std::int64_t now_ms) {
    auto it = map.find(std::string(key));
    return it != map.end() && it->second > now_ms;
}

bool RevocationCache::IsSessionRevoked(std::string_view session_id) const {
    std::int64_t now = clock_.NowMs();
    std::shared_lock lock(mu_);
    return Live(sessions_, session_id, now);
}

bool RevocationCache::IsUserDisabled(std::string_view user_id) const {
    std::int64_t now = clock_.NowMs();
    std::shared_lock lock(mu_);
    return Live(disabled_users_, user_id, now);
}

bool RevocationCache::IsAllowed(std::string_view user_id, std::string_view session_id) const {
    std::int64_t now = clock_.NowMs();
    std::shared_lock lock(mu_);
    if (!session_id.empty() && Live(sessions_, session_id, now)) return false;
    return !Live(disabled_users_, user_id, now);
}

std::size_t RevocationCache::PurgeLocked(std::int64_t now_ms) {
    std::size_t removed = 0;
    for (Map* map : {&sessions_, &disabled_users_, &changed_users_}) {
        removed += std::erase_if(*map, [now_ms](const auto& kv) { return kv.second <= now_ms; });
    }
    return removed;
}

std::size_t RevocationCache::Purge() {
    std::int64_t now = clock_.NowMs();
    std::unique_lock lock(mu_);
    return PurgeLocked(now);
}

std::size_t RevocationCache::size() const {
    std::shared_lock lock(mu_);
    return sessions_.size() + disabled_users_.size() + changed_users_.size();
}

}  // namespace hub::auth
