#pragma once
// DashScopeClient: the Client interface over the pooled HTTP client and the key pool.
// Chat goes through compatible mode; Forward relays native requests as they are.
#include <functional>
#include <memory>
#include <string>

#include "bailian/client.hpp"
#include "bailian/error_policy.hpp"
#include "bailian/key_pool.hpp"
#include "bailian/result_files.hpp"
#include "core/clock.hpp"
#include "http/client.hpp"

namespace hub::bailian {

// Region presets for the base URL (scheme://host only; the client appends the paths).
std::string RegionBaseUrl(std::string_view region);  // cn-beijing | intl | us

struct DashScopeOptions {
    http::Url base;
    RetryPolicy retry;
    std::vector<OriginPattern> result_origins;  // where task result files may come from
};

struct ChatRetryState;  // what a chat keeps between failed attempts (dashscope_client.cpp)

class DashScopeClient final : public Client {
public:
    DashScopeClient(http::HttpClient& http, KeyPool& keys, DashScopeOptions opts,
                    const core::Clock& clock);

    net::awaitable<void> ChatInto(ChatRequest req, EventSink* sink, Cancel& cancel,
                                  ChatOutcome& out) override;
    net::awaitable<RawOutcome> Forward(RawRequest req, RawSink& sink, Cancel& cancel) override;
    net::awaitable<core::Result<FetchedFile>> FetchResult(std::string url, std::size_t max_bytes,
                                                          Cancel& cancel) override;

    // The JSON body sent upstream for a chat request (pure; tested).
    static nlohmann::json CompatibleBody(const ChatRequest& req);
    // The same, moving req's messages and parameters into the body (req.messages and
    // req.parameters are left empty).
    static nlohmann::json TakeCompatibleBody(ChatRequest& req);

private:
    // One chat attempt's request, sent with the lease's key (its own coroutine: the request
    // is not kept in ChatInto's frame).
    net::awaitable<core::Result<std::unique_ptr<http::ClientResponse>>> SendChat(
        const KeyLease& lease, const std::string& body, bool stream, Cancel& cancel);
    // After a failed attempt (retry.failure): completes the lease as the retry policy says;
    // false = no retry, out.error set; true = retry as retry.wait says.
    bool RetryAfterFailure(ChatRetryState& retry, KeyLease& lease, ChatOutcome& out,
                           int attempt, const std::string& request_id);

    http::HttpClient& http_;
    KeyPool& keys_;
    DashScopeOptions opts_;
    const core::Clock& clock_;
};

}  // namespace hub::bailian
