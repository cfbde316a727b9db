#include "api/relay.hpp"

namespace hub::api {

namespace {

bool SkipRelayedHeader(std::string_view name) {
    // The hub writes its own framing and request id.
    return http::IEquals(name, "x-request-id") || http::IEquals(name, "content-length") ||
           http::IEquals(name, "transfer-encoding") || http::IEquals(name, "connection");
}

bool IsEventStream(std::string_view content_type) {
    constexpr std::string_view kSse = "text/event-stream";
    return content_type.size() >= kSse.size() &&
           http::IEquals(content_type.substr(0, kSse.size()), kSse);
}

}  // namespace

net::awaitable<bool> RelaySink::OnHead(int status,
                                       std::vector<std::pair<std::string, std::string>> headers) {
    status_ = status;
    for (auto& [k, v] : headers) {
        if (SkipRelayedHeader(k)) continue;
        if (http::IEquals(k, "content-type") && IsEventStream(v)) streaming_ = true;
        headers_.Set(std::move(k), std::move(v));
    }
    if (!streaming_) co_return true;
    headers_.Set("Cache-Control", "no-cache");
    headers_.Set("X-Accel-Buffering", "no");
    co_return co_await stream_.Begin(status, headers_);
}

net::awaitable<bool> RelaySink::OnBody(std::string bytes) {
    if (streaming_) co_return co_await stream_.Write(std::move(bytes));
    body_.append(bytes);
    co_return true;
}

http::Response RelaySink::TakeResponse() {
    http::Response r;
    r.status = status_;
    r.headers = std::move(headers_);
    if (!r.headers.Has("Content-Type")) r.headers.Set("Content-Type", "application/json");
    r.body = std::move(body_);
    return r;
}

}  // namespace hub::api
