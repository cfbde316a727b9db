#pragma once
// Method + path-pattern router. Patterns are literal segments and {name} parameters,
// e.g. "/api/v1/conversations/{id}/messages". A trailing "/*" matches any rest.
#include <memory>
#include <string>
#include <vector>

#include "http/message.hpp"

namespace hub::http {

class Router {
public:
    void Add(std::string method, std::string pattern, Handler handler);

    enum class Outcome { kMatched, kNotFound, kMethodNotAllowed };
    struct Match {
        Outcome outcome = Outcome::kNotFound;
        const Handler* handler = nullptr;
        std::string pattern;
        std::map<std::string, std::string> params;
        std::vector<std::string> allow;  // for 405, sorted and unique
    };
    Match Find(std::string_view method, std::string_view path) const;

    // The registered routes in registration order, as (method, pattern): what the server
    // answers, for `bailian-hub routes` and the test that holds docs/openapi.yaml to it.
    struct Entry {
        std::string method;
        std::string pattern;
    };
    std::vector<Entry> Table() const;

    // Fallback for paths no route matches (e.g. static files / SPA): GET and HEAD only, or
    // every method (a listener that answers everything the same way).
    void SetFallback(Handler handler, bool any_method = false) {
        fallback_ = std::move(handler);
        fallback_any_method_ = any_method;
    }
    const Handler* fallback() const { return fallback_ ? &fallback_ : nullptr; }
    bool fallback_any_method() const { return fallback_any_method_; }

private:
    struct Route {
        std::string method;
        std::string pattern;
        std::vector<std::string> segments;  // "{x}" = parameter, "*" = rest
        Handler handler;
    };
    static bool MatchSegments(const Route& r, const std::vector<std::string_view>& parts,
                              std::map<std::string, std::string>* params);
    std::vector<Route> routes_;
    Handler fallback_;
    bool fallback_any_method_ = false;
};

}  // namespace hub::http
