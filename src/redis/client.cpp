#include "redis/client.hpp"

#include <deque>
#include <mutex>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <hiredis/hiredis.h>

namespace hub::redis {

namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using core::Error;
using core::ErrorCode;
using core::Result;

const char* KindName(ErrorKind k) {
    switch (k) {
        case ErrorKind::kTimeout: return "timeout";
        case ErrorKind::kConnect: return "connect";
        case ErrorKind::kReply: return "reply";
    }
    return "reply";
}

namespace {

Error Fail(std::string_view kind, std::string message) {
    return Error::Make(ErrorCode::kUnavailable, "redis_unavailable", std::move(message),
                       std::string(kind));
}

Reply Convert(const redisReply* r) {
    Reply out;
    switch (r->type) {
        case REDIS_REPLY_STRING: out.type = Reply::Type::kString; break;
        case REDIS_REPLY_STATUS: out.type = Reply::Type::kStatus; break;
        case REDIS_REPLY_ERROR: out.type = Reply::Type::kError; break;
        case REDIS_REPLY_INTEGER: out.type = Reply::Type::kInteger; break;
        case REDIS_REPLY_ARRAY: out.type = Reply::Type::kArray; break;
        default: out.type = Reply::Type::kNil; break;
    }
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
        r->type == REDIS_REPLY_ERROR) {
        out.str.assign(r->str, r->len);
    }
    if (r->type == REDIS_REPLY_INTEGER) out.integer = r->integer;
    if (r->type == REDIS_REPLY_ARRAY) {
        out.elements.reserve(r->elements);
        for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
    }
    return out;
}

bool Encode(const std::vector<std::string>& args, std::string* out) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    char* cmd = nullptr;
    int n = redisFormatCommandArgv(&cmd, static_cast<int>(args.size()), argv.data(), lens.data());
    if (n < 0 || cmd == nullptr) return false;
    out->append(cmd, static_cast<std::size_t>(n));
    redisFreeCommand(cmd);
    return true;
}

}  // namespace

struct Client::Impl : std::enable_shared_from_this<Client::Impl> {
    struct Pending {
        std::function<void(Result<Reply>)> done;  // on the strand, once; may be empty
    };

    Impl(net::io_context& io, ClientOptions o)
        : options(std::move(o)), strand(net::make_strand(io)), backoff_timer(strand),
          deadline(strand), tls_ctx(ssl::context::tls_client) {
        reader = redisReaderCreate();
        if (options.url.tls) {
            tls_ctx.set_verify_mode(ssl::verify_peer);
            if (options.url.tls_ca.empty()) {
                tls_ctx.set_default_verify_paths();
            } else {
                boost::system::error_code ec;
                tls_ctx.load_verify_file(options.url.tls_ca, ec);
                if (ec) ca_error = "cannot read the TLS CA file " + options.url.tls_ca;
            }
            tls_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                ssl::context::no_tlsv1_1);
        }
    }
    ~Impl() {
        if (reader) redisReaderFree(reader);
    }

    ClientOptions options;
    net::strand<net::io_context::executor_type> strand;
    net::steady_timer backoff_timer;
    net::steady_timer deadline;
    ssl::context tls_ctx;
    std::string ca_error;
    redisReader* reader = nullptr;

    // On the strand.
    std::unique_ptr<tcp::socket> plain;
    std::unique_ptr<ssl::stream<tcp::socket>> tls;
    bool connected = false;
    bool stopped = false;
    bool started = false;
    bool writing = false;
    std::string out;
    std::deque<Pending> pending;

    // Any thread.
    std::atomic<bool> up{false};
    std::atomic<std::uint64_t> commands{0}, connects{0}, e_timeout{0}, e_connect{0}, e_reply{0};
    mutable std::mutex mu;  // last_error, handlers
    std::string last_error;
    std::vector<StateHandler> on_state;
    MessageHandler on_message;

    void SetError(std::string e) {
        std::lock_guard lock(mu);
        last_error = std::move(e);
    }
    void NotifyState(bool is_up) {
        std::lock_guard lock(mu);
        for (auto& h : on_state) h(is_up);
    }

    void CloseSocket() {
        boost::system::error_code ec;
        if (tls) tls->next_layer().close(ec);
        if (plain) plain->close(ec);
    }

    net::awaitable<std::size_t> ReadSome(char* buf, std::size_t n, boost::system::error_code& ec) {
        if (tls) {
            co_return co_await tls->async_read_some(net::buffer(buf, n),
                                                    net::redirect_error(net::use_awaitable, ec));
        }
        co_return co_await plain->async_read_some(net::buffer(buf, n),
                                                  net::redirect_error(net::use_awaitable, ec));
    }
    net::awaitable<void> WriteAll(const std::string& data, boost::system::error_code& ec) {
        if (tls) {
            co_await net::async_write(*tls, net::buffer(data),
                                      net::redirect_error(net::use_awaitable, ec));
        } else {
            co_await net::async_write(*plain, net::buffer(data),
                                      net::redirect_error(net::use_awaitable, ec));
        }
    }

    // Reads until `want` replies arrived (the handshake); false with `why` on any failure.
    net::awaitable<bool> ReadReplies(std::size_t want, std::vector<Reply>& got, std::string& why) {
        char buf[4096];
        while (got.size() < want) {
            void* r = nullptr;
            if (redisReaderGetReply(reader, &r) != REDIS_OK) {
                why = "protocol error in a reply";
                co_return false;
            }
            if (r) {
                got.push_back(Convert(static_cast<redisReply*>(r)));
                freeReplyObject(r);
                continue;
            }
            boost::system::error_code ec;
            std::size_t n = co_await ReadSome(buf, sizeof buf, ec);
            if (ec) {
                why = "connection closed during the handshake (" + ec.message() + ")";
                co_return false;
            }
            redisReaderFeed(reader, buf, n);
        }
        co_return true;
    }

    // Connect, TLS, AUTH, SELECT (and SUBSCRIBE), within connect_timeout.
    net::awaitable<Result<void>> ConnectOnce() {
        const Url& u = options.url;
        if (!ca_error.empty()) co_return Fail("connect", ca_error);
        if (reader) redisReaderFree(reader);
        reader = redisReaderCreate();
        plain.reset();
        tls.reset();
        auto fired = std::make_shared<bool>(false);
        deadline.expires_after(options.connect_timeout);
        deadline.async_wait([self = shared_from_this(), fired](boost::system::error_code ec) {
            if (ec) return;
            *fired = true;
            self->CloseSocket();
        });
        const bool& timed_out = *fired;
        struct CancelOnExit {
            net::steady_timer& t;
            ~CancelOnExit() { t.cancel(); }
        } cancel_guard{deadline};

        boost::system::error_code ec;
        tcp::resolver resolver(strand);
        auto endpoints = co_await resolver.async_resolve(
            u.host, std::to_string(u.port), net::redirect_error(net::use_awaitable, ec));
        if (ec) co_return Fail("connect", "cannot resolve " + u.host + ": " + ec.message());
        if (timed_out) co_return Fail("connect", "connect timed out");
        if (u.tls) {
            tls = std::make_unique<ssl::stream<tcp::socket>>(strand, tls_ctx);
            co_await net::async_connect(tls->next_layer(), endpoints,
                                        net::redirect_error(net::use_awaitable, ec));
        } else {
            plain = std::make_unique<tcp::socket>(strand);
            co_await net::async_connect(*plain, endpoints,
                                        net::redirect_error(net::use_awaitable, ec));
        }
        if (timed_out) co_return Fail("connect", "connect timed out");
        if (ec) {
            co_return Fail("connect", "cannot connect to " + u.host + ":" +
                                          std::to_string(u.port) + ": " + ec.message());
        }
        if (u.tls) {
            SSL_set_tlsext_host_name(tls->native_handle(), u.host.c_str());
            tls->set_verify_callback(ssl::host_name_verification(u.host));
            co_await tls->async_handshake(ssl::stream_base::client,
                                          net::redirect_error(net::use_awaitable, ec));
            if (timed_out) co_return Fail("connect", "TLS handshake timed out");
            if (ec) co_return Fail("connect", "TLS handshake failed: " + ec.message());
        }
        std::string hs;
        std::size_t want = 0;
        if (!u.password.empty()) {
            std::vector<std::string> auth{"AUTH"};
            if (!u.user.empty()) auth.push_back(u.user);
            auth.push_back(u.password);
            Encode(auth, &hs);
            ++want;
        }
        if (u.db != 0) {
            Encode({"SELECT", std::to_string(u.db)}, &hs);
            ++want;
        }
        Encode({"PING"}, &hs);
        ++want;
        for (const auto& ch : options.subscribe) {
            Encode({"SUBSCRIBE", ch}, &hs);
            ++want;
        }
        co_await WriteAll(hs, ec);
        if (ec) {
            co_return Fail("connect", timed_out ? "handshake timed out"
                                                : "cannot write the handshake: " + ec.message());
        }
        std::vector<Reply> got;
        std::string why;
        bool ok = co_await ReadReplies(want, got, why);
        if (!ok) co_return Fail("connect", timed_out ? "handshake timed out" : why);
        std::size_t i = 0;
        if (!u.password.empty()) {
            if (got[i].is_error()) co_return Fail("connect", "Redis refused AUTH: " + got[i].str);
            ++i;
        }
        for (; i < got.size(); ++i) {
            if (got[i].is_error()) co_return Fail("connect", "Redis refused the handshake: " + got[i].str);
        }
        co_return core::Ok();
    }

    void FailAll(const std::string& why) {
        std::deque<Pending> failed;
        failed.swap(pending);
        out.clear();
        for (auto& p : failed) {
            if (p.done) p.done(Fail("connect", why));
        }
    }

    void Dispatch(Reply r) {
        if (!options.subscribe.empty()) {
            if (r.type == Reply::Type::kArray && r.elements.size() == 3 &&
                r.elements[0].str == "message") {
                std::lock_guard lock(mu);
                if (on_message) on_message(r.elements[1].str, r.elements[2].str);
            }
            return;
        }
        if (pending.empty()) return;  // cannot happen while in step
        Pending p = std::move(pending.front());
        pending.pop_front();
        if (p.done) p.done(std::move(r));
    }

    net::awaitable<void> ReadLoop() {
        std::vector<char> buf(16 * 1024);
        for (;;) {
            boost::system::error_code ec;
            std::size_t n = co_await ReadSome(buf.data(), buf.size(), ec);
            if (ec) {
                SetError(stopped ? "stopped" : "connection lost: " + ec.message());
                co_return;
            }
            if (redisReaderFeed(reader, buf.data(), n) != REDIS_OK) {
                SetError("protocol error");
                co_return;
            }
            for (;;) {
                void* raw = nullptr;
                if (redisReaderGetReply(reader, &raw) != REDIS_OK) {
                    SetError("protocol error in a reply");
                    co_return;
                }
                if (!raw) break;
                Reply r = Convert(static_cast<redisReply*>(raw));
                freeReplyObject(raw);
                Dispatch(std::move(r));
            }
        }
    }

    static net::awaitable<void> Writer(std::shared_ptr<Impl> self) {
        while (!self->out.empty() && self->connected) {
            std::string buf;
            buf.swap(self->out);
            boost::system::error_code ec;
            co_await self->WriteAll(buf, ec);
            if (ec) {
                self->CloseSocket();  // the read loop ends and fails what is pending
                break;
            }
        }
        self->writing = false;
    }

    void Kick() {
        if (writing || out.empty() || !connected) return;
        writing = true;
        net::co_spawn(strand, Writer(shared_from_this()), [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    }

    // On the strand. False when disconnected (nothing queued).
    bool Enqueue(const std::vector<std::string>& args, Pending p) {
        if (!connected || stopped) return false;
        if (!Encode(args, &out)) return false;
        pending.push_back(std::move(p));
        commands.fetch_add(1, std::memory_order_relaxed);
        Kick();
        return true;
    }

    static net::awaitable<void> Run(std::shared_ptr<Impl> self) {
        auto backoff = self->options.backoff_min;
        while (!self->stopped) {
            auto r = co_await self->ConnectOnce();
            if (self->stopped) break;
            if (r.ok()) {
                self->connected = true;
                self->up = true;
                self->connects.fetch_add(1);
                self->SetError("");
                backoff = self->options.backoff_min;
                self->NotifyState(true);
                co_await self->ReadLoop();
                self->connected = false;
                self->up = false;
                self->CloseSocket();
                self->FailAll("connection lost");
                self->NotifyState(false);
            } else {
                self->e_connect.fetch_add(1);
                self->SetError(r.error().public_message);
                self->CloseSocket();
            }
            if (self->stopped) break;
            self->backoff_timer.expires_after(backoff);
            boost::system::error_code ec;
            co_await self->backoff_timer.async_wait(net::redirect_error(net::use_awaitable, ec));
            backoff = std::min(self->options.backoff_max, backoff * 2);
        }
    }

    // An awaited command, run on the strand.
    static net::awaitable<Result<Reply>> Exec(std::shared_ptr<Impl> self,
                                              std::vector<std::string> args,
                                              std::chrono::milliseconds timeout) {
        if (!self->connected) {
            self->e_connect.fetch_add(1);
            co_return Fail("connect", "Redis is not connected");
        }
        struct Waiter {
            std::optional<Result<Reply>> result;
            net::steady_timer* timer = nullptr;
        };
        auto w = std::make_shared<Waiter>();
        net::steady_timer timer(self->strand);
        w->timer = &timer;
        timer.expires_after(timeout);
        Pending p{[w](Result<Reply> r) {
            if (!w->timer || w->result) return;  // the caller gave up: dropped
            w->result = std::move(r);
            w->timer->cancel();
        }};
        if (!self->Enqueue(args, std::move(p))) {
            self->e_connect.fetch_add(1);
            co_return Fail("connect", "Redis is not connected");
        }
        boost::system::error_code ec;
        co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        w->timer = nullptr;
        if (w->result) {
            if (!w->result->ok()) self->e_connect.fetch_add(1);
            co_return std::move(*w->result);
        }
        self->e_timeout.fetch_add(1);
        co_return Fail("timeout", "Redis did not answer within " +
                                      std::to_string(timeout.count()) + " ms");
    }
};

Client::Client(net::io_context& io, ClientOptions options)
    : options_(std::move(options)), impl_(std::make_shared<Impl>(io, options_)) {}

Client::~Client() { Stop(); }

void Client::OnState(StateHandler handler) {
    std::lock_guard lock(impl_->mu);
    impl_->on_state.push_back(std::move(handler));
}

void Client::OnMessage(MessageHandler handler) {
    std::lock_guard lock(impl_->mu);
    impl_->on_message = std::move(handler);
}

void Client::Start() {
    net::post(impl_->strand, [self = impl_]() {
        if (self->started || self->stopped) return;
        self->started = true;
        net::co_spawn(self->strand, Impl::Run(self), [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    });
}

void Client::Stop() {
    {
        std::lock_guard lock(impl_->mu);
        impl_->on_state.clear();
        impl_->on_message = nullptr;
    }
    net::post(impl_->strand, [self = impl_]() {
        self->stopped = true;
        self->connected = false;
        self->up = false;
        self->backoff_timer.cancel();
        self->CloseSocket();
    });
}

net::awaitable<Result<Reply>> Client::Command(std::vector<std::string> args,
                                              std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0) timeout = options_.timeout;
    auto self = impl_;
    co_return co_await net::co_spawn(impl_->strand, Impl::Exec(self, std::move(args), timeout),
                                     net::use_awaitable);
}

void Client::Send(std::vector<std::string> args, std::function<void(const Reply&)> on_reply) {
    net::post(impl_->strand, [self = impl_, args = std::move(args),
                              on_reply = std::move(on_reply)]() mutable {
        Impl::Pending p;
        if (on_reply) {
            p.done = [on_reply = std::move(on_reply)](Result<Reply> r) {
                if (r.ok()) on_reply(r.value());
            };
        }
        if (!self->Enqueue(args, std::move(p))) self->e_connect.fetch_add(1);
    });
}

bool Client::up() const { return impl_->up.load(); }

ClientStats Client::stats() const {
    ClientStats s;
    s.up = impl_->up.load();
    {
        std::lock_guard lock(impl_->mu);
        s.last_error = impl_->last_error;
    }
    s.commands = impl_->commands.load();
    s.connects = impl_->connects.load();
    s.errors_timeout = impl_->e_timeout.load();
    s.errors_connect = impl_->e_connect.load();
    s.errors_reply = impl_->e_reply.load();
    return s;
}

void Client::CountError(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kTimeout: impl_->e_timeout.fetch_add(1); break;
        case ErrorKind::kConnect: impl_->e_connect.fetch_add(1); break;
        case ErrorKind::kReply: impl_->e_reply.fetch_add(1); break;
    }
}

Result<void> Client::CheckReachable(const ClientOptions& options) {
    net::io_context io;
    auto impl = std::make_shared<Impl>(io, options);
    std::optional<Result<void>> result;
    net::co_spawn(impl->strand, impl->ConnectOnce(),
                  [&result, impl](std::exception_ptr e, Result<void> r) {
                      if (e) {
                          result = Fail("connect", "unexpected error while connecting");
                      } else {
                          result = std::move(r);
                      }
                      impl->CloseSocket();
                  });
    io.run_for(options.connect_timeout + std::chrono::seconds(1));
    if (!result) return Fail("connect", "connect timed out");
    return std::move(*result);
}

}  // namespace hub::redis
