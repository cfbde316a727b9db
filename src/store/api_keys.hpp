#pragma once
// Platform API keys issued to users for external clients (only hashes are stored).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/models.hpp"

namespace hub::store {

class ApiKeyStore {
public:
    virtual ~ApiKeyStore() = default;

    virtual core::Result<ApiKey> Create(ApiKey key) = 0;
    // Authentication lookup; returns revoked and expired keys too (check IsUsable).
    virtual core::Result<ApiKey> GetByHash(std::string_view key_hash) = 0;
    virtual core::Result<ApiKey> Get(std::string_view user_id, std::string_view id) = 0;
    virtual core::Result<std::vector<ApiKey>> ListByUser(std::string_view user_id,
                                                         bool include_revoked) = 0;
    // kNotFound when it is not the user's key; idempotent.
    virtual core::Result<void> Revoke(std::string_view user_id, std::string_view id) = 0;
    // Sets the key's own rate limits (nullopt clears one); kNotFound when it is not the
    // user's key.
    virtual core::Result<ApiKey> SetLimits(std::string_view user_id, std::string_view id,
                                           std::optional<std::int64_t> rpm,
                                           std::optional<std::int64_t> tpm) = 0;
    virtual core::Result<void> Touch(std::string_view id, std::int64_t at_ms) = 0;
};

}  // namespace hub::store
