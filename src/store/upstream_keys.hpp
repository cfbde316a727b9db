#pragma once
// DashScope keys the hub calls upstream with; secrets are stored encrypted.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/models.hpp"

namespace hub::store {

struct UpstreamKeySecret {
    std::string secret_enc;
    std::string last4;
};

struct UpstreamKeyPatch {
    std::optional<std::string> name;
    std::optional<UpstreamKeyStatus> status;
    std::optional<std::int64_t> weight;
    std::optional<std::optional<std::int64_t>> cooldown_until;  // {nullopt} clears it
    std::optional<UpstreamKeySecret> secret;                    // rotation: sets rotated_at
};

class UpstreamKeyStore {
public:
    virtual ~UpstreamKeyStore() = default;

    // kConflict "upstream_key_name_taken" for a duplicate name (case-insensitive).
    virtual core::Result<UpstreamKey> Create(UpstreamKey key) = 0;
    virtual core::Result<UpstreamKey> Get(std::string_view id) = 0;
    virtual core::Result<std::vector<UpstreamKey>> List() = 0;  // oldest first
    virtual core::Result<UpstreamKey> Update(std::string_view id,
                                             const UpstreamKeyPatch& patch) = 0;
    virtual core::Result<void> Delete(std::string_view id) = 0;
};

}  // namespace hub::store
