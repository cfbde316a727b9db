#pragma once
// JSON <-> values for the API: field readers with clear validation errors, and the public
// shapes of users, sessions and audit entries.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "http/message.hpp"
#include "store/cursor.hpp"
#include "store/models.hpp"

namespace hub::api {

core::Error FieldError(const std::string& field, const std::string& problem);

// Reads an optional string field; error when present with another type.
core::Result<std::optional<std::string>> OptString(const nlohmann::json& body,
                                                   const std::string& field);
core::Result<std::string> ReqString(const nlohmann::json& body, const std::string& field);
// Optional boolean / whole-number fields; error when present with another type.
core::Result<std::optional<bool>> OptBool(const nlohmann::json& body, const std::string& field);
core::Result<std::optional<std::int64_t>> OptInt(const nlohmann::json& body,
                                                 const std::string& field);
core::Result<void> OnlyFields(const nlohmann::json& body, std::initializer_list<const char*> allowed);

// Query helpers: limit (1..200), cursor, and times as epoch ms or ISO-8601.
core::Result<store::PageRequest> PageFromQuery(const http::Request& req);
core::Result<std::optional<std::int64_t>> TimeFromQuery(const http::Request& req,
                                                        const std::string& name);
// The same parsing for a value from elsewhere (e.g. a JSON body field named `name`).
core::Result<std::optional<std::int64_t>> ParseTime(const std::string& name,
                                                    const std::string& text);

std::string Iso(std::int64_t ms);
nlohmann::json UserJson(const store::User& u);
nlohmann::json SessionJson(const store::Session& s, const std::string& current_session);
nlohmann::json AuditJson(const store::AuditEntry& e);

template <class T, class F>
nlohmann::json PageJson(const store::Page<T>& page, F&& to_json) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& it : page.items) items.push_back(to_json(it));
    return {{"items", items},
            {"next_cursor", page.next_cursor ? nlohmann::json(*page.next_cursor)
                                             : nlohmann::json(nullptr)}};
}

}  // namespace hub::api
