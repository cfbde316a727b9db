#pragma once
// The JWT signing key ring, shared by every hub of one database (migration 0014): one row
// holding the ring sealed under the master key (this layer never sees a private key), and a
// version that grows with every rotation so hubs notice a new ring with one small read.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace hub::store {

struct SealedKeyRing {
    std::string sealed;  // crypto::AeadEncrypt envelope of the ring's JSON
    std::int64_t version = 0;
    std::int64_t updated_at = 0;
};

class SigningKeyStore {
public:
    virtual ~SigningKeyStore() = default;

    // nullopt while no ring is stored.
    virtual core::Result<std::optional<SealedKeyRing>> Get() = 0;
    // The stored version alone (0 while none is stored): the cheap "did it change" check.
    virtual core::Result<std::int64_t> Version() = 0;
    // Stores the first ring as version 1: false, writing nothing, when one is stored already
    // (another hub was first; read theirs).
    virtual core::Result<bool> CreateFirst(std::string_view sealed, std::int64_t now_ms) = 0;
    // Replaces the ring when the stored version is still `expected_version` (a rotation); the
    // version grows by one. False, writing nothing, when another rotation came first.
    virtual core::Result<bool> Replace(std::string_view sealed, std::int64_t expected_version,
                                       std::int64_t now_ms) = 0;
};

}  // namespace hub::store
