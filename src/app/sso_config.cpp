#include "app/sso_config.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "http/client.hpp"

namespace hub::app {

namespace {

core::Error Bad(const std::string& where, const std::string& problem) {
    return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_config",
                             "config: BAILIAN_HUB_OIDC_PROVIDERS_FILE: " + where + " " + problem);
}

bool IsSlug(const std::string& s) {
    if (s.empty() || s.size() > 32) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    return true;
}

}  // namespace

core::Result<std::vector<services::SsoProviderConfig>> ParseOidcProviders(
    const std::string& json_text, const SecretFileReader& read_secret,
    const std::function<bool(const std::string&)>& known_role) {
    auto doc = nlohmann::json::parse(json_text, nullptr, false);
    if (doc.is_discarded()) return Bad("the file", "is not valid JSON");
    if (!doc.is_array()) return Bad("the file", "must be a JSON array of providers");
    std::vector<services::SsoProviderConfig> out;
    std::set<std::string> ids;
    static const std::set<std::string> kKnown = {
        "id",     "display_name",          "issuer",       "client_id",      "client_secret",
        "client_secret_file", "scopes", "allowed_email_domains", "default_role", "create_accounts"};
    for (std::size_t i = 0; i < doc.size(); ++i) {
        const auto& p = doc[i];
        std::string where = "provider #" + std::to_string(i + 1);
        if (!p.is_object()) return Bad(where, "must be an object");
        auto str = [&](const char* name, bool required,
                       std::string* into) -> std::optional<core::Error> {
            auto it = p.find(name);
            if (it == p.end() || it->is_null()) {
                if (required) return Bad(where, std::string("needs \"") + name + "\"");
                return std::nullopt;
            }
            if (!it->is_string()) return Bad(where, std::string("\"") + name + "\" must be a string");
            *into = it->get<std::string>();
            if (required && into->empty())
                return Bad(where, std::string("\"") + name + "\" must not be empty");
            return std::nullopt;
        };
        services::SsoProviderConfig c;
        if (auto e = str("id", true, &c.id)) return *e;
        if (!IsSlug(c.id)) return Bad(where, "\"id\" must be 1 to 32 of a-z, 0-9 and '-'");
        where = "provider \"" + c.id + "\"";
        for (const auto& [k, v] : p.items())
            if (!kKnown.count(k)) return Bad(where, "has an unknown key \"" + k + "\"");
        if (!ids.insert(c.id).second) return Bad(where, "is listed twice");
        if (auto e = str("display_name", true, &c.display_name)) return *e;
        if (c.display_name.size() > 64) return Bad(where, "\"display_name\" is over 64 bytes");
        if (auto e = str("issuer", true, &c.issuer)) return *e;
        {
            auto scheme = c.issuer.find("://");
            auto slash = scheme == std::string::npos ? std::string::npos
                                                     : c.issuer.find('/', scheme + 3);
            std::string origin = slash == std::string::npos ? c.issuer : c.issuer.substr(0, slash);
            auto base = http::ParseBaseUrl(origin);
            if (!base.ok() || c.issuer.find_first_of("?#") != std::string::npos)
                return Bad(where, "\"issuer\" must be an https:// URL (http:// only on loopback)");
            if (!c.issuer.empty() && c.issuer.back() == '/') c.issuer.pop_back();
        }
        if (auto e = str("client_id", true, &c.client_id)) return *e;
        std::string secret, secret_file;
        if (auto e = str("client_secret", false, &secret)) return *e;
        if (auto e = str("client_secret_file", false, &secret_file)) return *e;
        if (!secret.empty() && !secret_file.empty())
            return Bad(where, "has both \"client_secret\" and \"client_secret_file\"; keep one");
        if (!secret_file.empty()) {
            auto read = read_secret(secret_file);
            if (!read) return Bad(where, "\"client_secret_file\" cannot be read");
            secret = *read;
        }
        if (secret.empty())
            return Bad(where, "needs \"client_secret\" or \"client_secret_file\"");
        c.client_secret = core::Secret<std::string>(secret);
        if (auto e = str("scopes", false, &c.scopes)) return *e;
        if (c.scopes.empty()) c.scopes = "openid email profile";
        if ((" " + c.scopes + " ").find(" openid ") == std::string::npos)
            return Bad(where, "\"scopes\" must include openid");
        if (auto e = str("default_role", false, &c.default_role)) return *e;
        if (c.default_role.empty()) c.default_role = "user";
        if (!known_role(c.default_role))
            return Bad(where, "\"default_role\" names an unknown role \"" + c.default_role + "\"");
        if (auto it = p.find("create_accounts"); it != p.end() && !it->is_null()) {
            if (!it->is_boolean()) return Bad(where, "\"create_accounts\" must be true or false");
            c.create_accounts = it->get<bool>();
        }
        if (auto it = p.find("allowed_email_domains"); it != p.end() && !it->is_null()) {
            if (!it->is_array()) return Bad(where, "\"allowed_email_domains\" must be an array");
            for (const auto& d : *it) {
                if (!d.is_string() || d.get<std::string>().empty() ||
                    d.get<std::string>().find('@') != std::string::npos)
                    return Bad(where, "\"allowed_email_domains\" must hold domain names");
                c.allowed_email_domains.push_back(d.get<std::string>());
            }
        }
        out.push_back(std::move(c));
    }
    return out;
}

core::Result<std::vector<services::SsoProviderConfig>> LoadOidcProviders(
    const std::string& path, const std::function<bool(const std::string&)>& known_role) {
    if (path.empty()) return std::vector<services::SsoProviderConfig>{};
    std::ifstream in(path);
    if (!in) return Bad("the file " + path, "cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    SecretFileReader reader = [](const std::string& p) -> std::optional<std::string> {
        std::ifstream f(p);
        if (!f) return std::nullopt;
        std::string line;
        std::getline(f, line);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        return line;
    };
    return ParseOidcProviders(text.str(), reader, known_role);
}

}  // namespace hub::app
