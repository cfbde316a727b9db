#pragma once
// Relaying a raw upstream answer to our client (DashScope pass-through, OpenAI n > 1):
// text/event-stream answers are streamed as they arrive; anything else is collected and
// answered in one piece once the upstream call is over (so Server-Timing can be added).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bailian/client.hpp"
#include "http/message.hpp"

namespace hub::api {

class RelaySink final : public bailian::RawSink {
public:
    explicit RelaySink(http::ResponseStream& stream) : stream_(stream) {}

    net::awaitable<bool> OnHead(int status,
                                std::vector<std::pair<std::string, std::string>> headers) override;
    net::awaitable<bool> OnBody(std::string bytes) override;

    bool streaming() const { return streaming_; }
    bool got_head() const { return status_ != 0; }
    http::Response TakeResponse();

private:
    http::ResponseStream& stream_;
    int status_ = 0;
    bool streaming_ = false;
    http::Headers headers_;
    std::string body_;
};

// Forgets the client-gone callback when a handler ends (it points into the handler's frame).
struct GoneHookReset {
    http::ResponseStream& stream;
    ~GoneHookReset() {
        stream.OnClientGone(nullptr);
    }
};

}  // namespace hub::api
