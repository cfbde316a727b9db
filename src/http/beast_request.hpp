#pragma once
// Private to http/: a request Beast has parsed, as the hub's own Request. Shared by the server
// (which reads from a socket) and ParseRequest (which reads from memory) so both hand the
// router exactly the same fields. Beast stays out of every header outside http/'s sources.
#include <boost/beast/http.hpp>

#include <string>
#include <utility>

#include "http/message.hpp"

namespace hub::http::detail {

// Method, target, path, query, headers and body; remote_ip and request_id are the caller's.
inline Request FromBeast(boost::beast::http::request<boost::beast::http::string_body>&& msg) {
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    for (const auto& f : msg) req.headers.Add(std::string(f.name_string()), std::string(f.value()));
    req.body = std::move(msg.body());
    return req;
}

}  // namespace hub::http::detail
