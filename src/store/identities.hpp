#pragma once
// Single sign-on (OpenID Connect): the identities linked to accounts, the sign-ins in flight
// (state rows) and the short single-use tickets a finished sign-in hands to the web app.
// Secrets (state, tickets) are stored as SHA-256 hex only.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace hub::store {

struct UserIdentity {
    std::string id;
    std::string user_id;
    std::string provider;  // the configured provider's slug
    std::string subject;   // the provider's `sub`
    std::string email;     // as the provider said at link time
    std::int64_t created_at = 0;
    std::optional<std::int64_t> last_login_at;
};

struct OidcState {
    std::string state_hash;
    std::string provider;
    std::string nonce;
    std::string code_verifier;
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
    std::optional<std::int64_t> used_at;
};

enum class SsoTicketKind { kTicket, kLink };

struct SsoTicket {
    std::string token_hash;
    SsoTicketKind kind = SsoTicketKind::kTicket;
    std::string user_id;
    std::string provider;
    std::string subject;
    std::string email;
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
    std::optional<std::int64_t> used_at;
};

class IdentityStore {
public:
    virtual ~IdentityStore() = default;

    // kConflict "identity_taken" when (provider, subject) is linked already.
    virtual core::Result<UserIdentity> Create(UserIdentity identity) = 0;
    virtual core::Result<UserIdentity> FindBySubject(std::string_view provider,
                                                     std::string_view subject) = 0;
    virtual core::Result<std::vector<UserIdentity>> ListByUser(std::string_view user_id) = 0;
    virtual core::Result<void> TouchLogin(std::string_view id, std::int64_t at_ms) = 0;
    // Deletes one of the user's identities; kNotFound when missing or another user's.
    // kConflict "last_sign_in_method" when `refuse_if_last` and it is the user's last
    // identity (checked in the same transaction as the delete).
    virtual core::Result<void> Delete(std::string_view user_id, std::string_view id,
                                      bool refuse_if_last) = 0;

    virtual core::Result<void> CreateState(OidcState state) = 0;
    // Marks the state used and returns it as it was before (used_at empty when this call
    // consumed it). kNotFound when no such state exists. A used or expired row is returned as
    // it is, for the caller to refuse with the right reason.
    virtual core::Result<OidcState> ConsumeState(std::string_view state_hash,
                                                 std::int64_t now_ms) = 0;

    virtual core::Result<void> CreateTicket(SsoTicket ticket) = 0;
    // Like ConsumeState, for tickets of `kind`.
    virtual core::Result<SsoTicket> ConsumeTicket(std::string_view token_hash, SsoTicketKind kind,
                                                  std::int64_t now_ms) = 0;
    // Housekeeping: removes states and tickets that expired before `before_ms`.
    virtual core::Result<std::int64_t> DeleteExpired(std::int64_t before_ms) = 0;
};

}  // namespace hub::store
