#pragma once
// The single-sign-on providers file (BAILIAN_HUB_OIDC_PROVIDERS_FILE): a JSON array of
// {id, display_name, issuer, client_id, client_secret | client_secret_file, scopes?,
// allowed_email_domains?, default_role?, create_accounts?}. Validated at start: a bad file is
// a configuration error naming the provider and the problem (never the secret).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "services/sso.hpp"

namespace hub::app {

// Reads a secret file's content (first line, trailing newline removed); nullopt = unreadable.
using SecretFileReader = std::function<std::optional<std::string>(const std::string& path)>;

// `known_role(name)` says whether default_role exists.
core::Result<std::vector<services::SsoProviderConfig>> ParseOidcProviders(
    const std::string& json_text, const SecretFileReader& read_secret,
    const std::function<bool(const std::string&)>& known_role);

// Reads `path` and parses it; an empty path gives no providers.
core::Result<std::vector<services::SsoProviderConfig>> LoadOidcProviders(
    const std::string& path, const std::function<bool(const std::string&)>& known_role);

}  // namespace hub::app
