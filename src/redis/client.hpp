#pragma once
// An async Redis client on the io threads: hiredis parses replies and encodes commands, Asio
// moves the bytes (a TCP socket, or TLS for rediss://), so nothing blocks an io thread.
//
// - Pipelined: many commands in flight on one connection, replies matched in order.
// - Every awaited command has a deadline (the caller's, else ClientOptions::timeout); past it
//   the caller gets a timeout error and decides without Redis. The late reply is still read
//   and dropped, so the connection stays in step.
// - Connects in the background: AUTH and SELECT first, then reconnects with backoff after any
//   failure. While it is down, commands fail at once (kind "connect").
// - Subscriber mode (ClientOptions::subscribe): a connection that only SUBSCRIBEs, re-subscribes
//   after each reconnect and hands every message to on_message.
// Thread-safe: any io thread may call it; its own state lives on a strand.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "async/asio.hpp"
#include "core/result.hpp"
#include "redis/url.hpp"

namespace hub::redis {

struct Reply {
    enum class Type { kString, kStatus, kInteger, kArray, kNil, kError };
    Type type = Type::kNil;
    std::string str;  // string, status, error
    long long integer = 0;
    std::vector<Reply> elements;
    bool is_error() const { return type == Type::kError; }
};

// Why a command failed, for bailian_hub_redis_errors_total{kind}.
enum class ErrorKind { kTimeout, kConnect, kReply };
const char* KindName(ErrorKind k);

struct ClientOptions {
    Url url;
    std::chrono::milliseconds timeout{50};           // an awaited command's default deadline
    std::chrono::milliseconds connect_timeout{2000};  // connect + TLS + AUTH + SELECT
    std::chrono::milliseconds backoff_min{100};
    std::chrono::milliseconds backoff_max{2000};
    std::vector<std::string> subscribe;  // non-empty: a subscriber connection for these channels
};

struct ClientStats {
    bool up = false;
    std::string last_error;  // never holds the password
    std::uint64_t commands = 0;
    std::uint64_t connects = 0;  // successful (re)connections
    std::uint64_t errors_timeout = 0;
    std::uint64_t errors_connect = 0;
    std::uint64_t errors_reply = 0;
};

class Client {
public:
    using MessageHandler = std::function<void(const std::string& channel, const std::string& payload)>;
    using StateHandler = std::function<void(bool up)>;

    Client(net::io_context& io, ClientOptions options);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Before Start: called on the client's strand after each (re)connect (true) and each loss
    // of the connection (false), in the order added; messages of a subscriber connection.
    void OnState(StateHandler handler);  // adds one
    void OnMessage(MessageHandler handler);

    void Start();  // connects in the background; idempotent
    void Stop();   // closes; pending callers get errors; no reconnect

    // One command; its reply (a Redis error reply is a Reply of type kError, not a failure).
    // Fails with detail "timeout" / "connect" after the deadline or while disconnected.
    // timeout 0 = the default.
    net::awaitable<core::Result<Reply>> Command(std::vector<std::string> args,
                                                std::chrono::milliseconds timeout =
                                                    std::chrono::milliseconds::zero());

    // Fire and forget (PUBLISH, SET): queued, never waits; dropped while disconnected.
    // `on_reply` (optional) runs on the client's strand with the reply.
    void Send(std::vector<std::string> args, std::function<void(const Reply&)> on_reply = {});

    bool up() const;
    ClientStats stats() const;
    std::string redacted_url() const { return options_.url.Redacted(); }
    const ClientOptions& options() const { return options_; }

    // Counted by the callers that decide what a failure is (a reply error, a timeout).
    void CountError(ErrorKind kind);

    // Start-up: one connection attempt (connect, TLS, AUTH, SELECT, PING) on a private
    // io_context, on the calling (non-io) thread. The error says what failed, never the password.
    static core::Result<void> CheckReachable(const ClientOptions& options);

    struct Impl;

private:
    ClientOptions options_;
    std::shared_ptr<Impl> impl_;
};

}  // namespace hub::redis
