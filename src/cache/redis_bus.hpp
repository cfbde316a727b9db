#pragma once
// RedisBus: cache::Bus between hubs over Redis pub/sub. Every event goes out on one channel
// (`bailian-hub:bus`) as {sender, topic, payload}; a hub drops its own. An event published with
// `keep_for` is also written as a key (bh:kept:<topic>:<payload>, PX keep_for), and after every
// (re)connect of the subscriber the kept keys are read back (SCAN) and handed to the handlers,
// then kBusResynced. Publishing never blocks: while Redis is down a plain event is dropped and
// a kept one waits (bounded) to be written when the connection is back.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "async/asio.hpp"
#include "cache/bus.hpp"

namespace hub::redis {
class Client;
}

namespace hub::cache {

struct RedisBusOptions {
    std::string instance_id;  // core::InstanceId(): this hub's events are not delivered to it
    std::string channel = "bailian-hub:bus";
    std::string prefix = "bh:";          // kept keys: <prefix>kept:<topic>:<payload>
    std::size_t max_unsent_kept = 10000;  // kept events waiting for Redis (oldest dropped)
};

struct BusStats {
    std::uint64_t published = 0;
    std::uint64_t dropped = 0;  // plain events published while Redis was down
    std::uint64_t received = 0;
    std::uint64_t replayed = 0;
    std::uint64_t resyncs = 0;
};

class RedisBus final : public Bus {
public:
    // `commands` sends PUBLISH/SET/SCAN; `subscriber` must be a client made with
    // ClientOptions::subscribe = {options.channel}. Both outlive the bus.
    RedisBus(net::io_context& io, redis::Client& commands, redis::Client& subscriber,
             RedisBusOptions options);
    ~RedisBus() override;

    void Publish(const BusEvent& event, std::chrono::milliseconds keep_for) override;
    void Subscribe(Handler handler) override;
    void Start();  // after the Subscribe calls; then start the clients
    void Stop();

    BusStats stats() const;

    // The message on the channel: "<len>:<sender><len>:<topic><payload>".
    static std::string Encode(const std::string& sender, const BusEvent& event);
    static bool Decode(const std::string& message, std::string* sender, BusEvent* event);

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace hub::cache
