#include "api/dto.hpp"

#include <charconv>
#include <ctime>

#include "core/clock.hpp"

namespace hub::api {

using core::Error;
using core::ErrorCode;

Error FieldError(const std::string& field, const std::string& problem) {
    return Error::Make(ErrorCode::kInvalidArgument, "validation_failed", field + " " + problem);
}

core::Result<std::optional<std::string>> OptString(const nlohmann::json& body,
                                                   const std::string& field) {
    auto it = body.find(field);
    if (it == body.end() || it->is_null()) return std::optional<std::string>{};
    if (!it->is_string()) return FieldError(field, "must be a string.");
    return std::optional<std::string>(it->get<std::string>());
}

core::Result<std::string> ReqString(const nlohmann::json& body, const std::string& field) {
    auto v = OptString(body, field);
    if (!v.ok()) return v.error();
    if (!v.value()) return FieldError(field, "is required.");
    return std::move(*v.value());
}

core::Result<std::optional<bool>> OptBool(const nlohmann::json& body, const std::string& field) {
    auto it = body.find(field);
    if (it == body.end() || it->is_null()) return std::optional<bool>{};
    if (!it->is_boolean()) return FieldError(field, "must be true or false.");
    return std::optional<bool>(it->get<bool>());
}

core::Result<std::optional<std::int64_t>> OptInt(const nlohmann::json& body,
                                                 const std::string& field) {
    auto it = body.find(field);
    if (it == body.end() || it->is_null()) return std::optional<std::int64_t>{};
    if (!it->is_number_integer()) return FieldError(field, "must be a whole number.");
    return std::optional<std::int64_t>(it->get<std::int64_t>());
}

core::Result<void> OnlyFields(const nlohmann::json& body,
                              std::initializer_list<const char*> allowed) {
    for (auto it = body.begin(); it != body.end(); ++it) {
        bool known = false;
        for (const char* a : allowed) known = known || it.key() == a;
        if (!known) return FieldError(it.key(), "is not a known field here.");
    }
    return core::Ok();
}

core::Result<store::PageRequest> PageFromQuery(const http::Request& req) {
    store::PageRequest p;
    if (auto l = req.Query("limit")) {
        int n = 0;
        auto [ptr, ec] = std::from_chars(l->data(), l->data() + l->size(), n);
        if (ec != std::errc() || ptr != l->data() + l->size() || n < 1 || n > 200)
            return FieldError("limit", "must be a whole number from 1 to 200.");
        p.limit = n;
    }
    if (auto c = req.Query("cursor")) p.cursor = *c;
    return p;
}

core::Result<std::optional<std::int64_t>> TimeFromQuery(const http::Request& req,
                                                        const std::string& name) {
    auto v = req.Query(name);
    if (!v || v->empty()) return std::optional<std::int64_t>{};
    return ParseTime(name, *v);
}

core::Result<std::optional<std::int64_t>> ParseTime(const std::string& name,
                                                    const std::string& text) {
    const std::string* v = &text;
    std::int64_t ms = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), ms);
    if (ec == std::errc() && ptr == v->data() + v->size()) return std::optional<std::int64_t>(ms);
    std::tm tm{};
    const char* end = strptime(v->c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) {
        tm = {};
        end = strptime(v->c_str(), "%Y-%m-%d", &tm);
    }
    if (!end) return FieldError(name, "must be epoch milliseconds or an ISO-8601 date/time.");
    std::string rest(end);
    if (!rest.empty() && rest.front() == '.') {  // fractional seconds
        std::size_t i = 1;
        while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
        rest = rest.substr(i);
    }
    if (!rest.empty() && rest != "Z")
        return FieldError(name, "must be in UTC (end with Z) or be epoch milliseconds.");
    return std::optional<std::int64_t>(static_cast<std::int64_t>(timegm(&tm)) * 1000);
}

std::string Iso(std::int64_t ms) { return core::FormatIsoMs(ms); }

nlohmann::json UserJson(const store::User& u) {
    nlohmann::json settings = nlohmann::json::object();
    try {
        settings = nlohmann::json::parse(u.settings);
    } catch (...) {
    }
    auto opt = [](const std::optional<std::int64_t>& v) {
        return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    };
    auto cny = [](const std::optional<std::int64_t>& micro) {
        return micro ? nlohmann::json(static_cast<double>(*micro) / 1e6) : nlohmann::json(nullptr);
    };
    nlohmann::json quota = {{"daily_tokens", opt(u.quota.daily_tokens)},
                            {"monthly_tokens", opt(u.quota.monthly_tokens)},
                            {"rpm", opt(u.quota.rpm)},
                            {"tpm", opt(u.quota.tpm)},
                            {"daily_cost_cny", cny(u.quota.daily_cost_micro_cny)},
                            {"monthly_cost_cny", cny(u.quota.monthly_cost_micro_cny)}};
    return {{"id", u.id},
            {"username", u.username},
            {"email", u.email},
            {"display_name", u.display_name},
            {"role", u.role},
            {"status", std::string(store::ToString(u.status))},
            {"settings", settings},
            {"mfa_enabled", u.mfa_secret_enc.has_value()},
            {"quota", quota},
            {"created_at", Iso(u.created_at)},
            {"updated_at", Iso(u.updated_at)}};
}

nlohmann::json SessionJson(const store::Session& s, const std::string& current) {
    return {{"id", s.id},
            {"user_agent", s.user_agent},
            {"ip", s.ip},
            {"created_at", Iso(s.created_at)},
            {"last_used_at", s.last_used_at ? nlohmann::json(Iso(*s.last_used_at)) : nullptr},
            {"expires_at", Iso(s.expires_at)},
            {"current", s.id == current}};
}

nlohmann::json AuditJson(const store::AuditEntry& e) {
    nlohmann::json detail = nlohmann::json::object();
    try {
        detail = nlohmann::json::parse(e.detail);
    } catch (...) {
    }
    return {{"id", e.id},
            {"actor_user_id", e.actor_user_id ? nlohmann::json(*e.actor_user_id) : nullptr},
            {"action", e.action},
            {"target", e.target},
            {"ip", e.ip},
            {"request_id", e.request_id},
            {"detail", detail},
            {"created_at", Iso(e.created_at)}};
}

}  // namespace hub::api
