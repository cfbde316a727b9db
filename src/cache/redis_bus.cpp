#include "cache/redis_bus.hpp"

#include <charconv>
#include <deque>
#include <mutex>
#include <vector>

#include "async/asio.hpp"
#include "redis/client.hpp"

namespace hub::cache {

namespace {

void PutField(std::string& out, const std::string& s) {
    out += std::to_string(s.size());
    out += ':';
    out += s;
}

bool TakeField(std::string_view& in, std::string* out) {
    auto colon = in.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 9) return false;
    std::size_t n = 0;
    auto [p, ec] = std::from_chars(in.data(), in.data() + colon, n);
    if (ec != std::errc() || p != in.data() + colon || in.size() - colon - 1 < n) return false;
    out->assign(in.substr(colon + 1, n));
    in.remove_prefix(colon + 1 + n);
    return true;
}

}  // namespace

std::string RedisBus::Encode(const std::string& sender, const BusEvent& event) {
    std::string out;
    out.reserve(sender.size() + event.topic.size() + event.payload.size() + 8);
    PutField(out, sender);
    PutField(out, event.topic);
    out += event.payload;
    return out;
}

bool RedisBus::Decode(const std::string& message, std::string* sender, BusEvent* event) {
    std::string_view in = message;
    if (!TakeField(in, sender) || !TakeField(in, &event->topic) || event->topic.empty()) return false;
    event->payload.assign(in);
    return true;
}

struct RedisBus::Impl : std::enable_shared_from_this<RedisBus::Impl> {
    Impl(net::io_context& i, redis::Client& c, redis::Client& s, RedisBusOptions o)
        : io(i), commands(c), subscriber(s), options(std::move(o)) {}

    net::io_context& io;
    redis::Client& commands;
    redis::Client& subscriber;
    RedisBusOptions options;
    std::atomic<bool> stopped{false};
    std::atomic<std::uint64_t> published{0}, dropped{0}, received{0}, replayed{0}, resyncs{0};

    mutable std::mutex mu;  // handlers, unsent
    std::vector<Handler> handlers;
    struct Unsent {
        BusEvent event;
        std::chrono::steady_clock::time_point until;
    };
    std::deque<Unsent> unsent;

    std::string KeptKey(const BusEvent& e) const {
        return options.prefix + "kept:" + e.topic + ":" + e.payload;
    }

    void Deliver(const BusEvent& e) {
        std::vector<Handler> hs;
        {
            std::lock_guard lock(mu);
            hs = handlers;
        }
        for (auto& h : hs) h(e);
    }

    void SendNow(const BusEvent& e, std::chrono::milliseconds keep_for) {
        std::string msg = Encode(options.instance_id, e);
        if (keep_for.count() > 0) {
            commands.Send({"SET", KeptKey(e), msg, "PX", std::to_string(keep_for.count())});
        }
        commands.Send({"PUBLISH", options.channel, std::move(msg)});
        published.fetch_add(1);
    }

    // Kept events published while Redis was down, written now that it is back.
    void Flush() {
        std::deque<Unsent> pending;
        {
            std::lock_guard lock(mu);
            pending.swap(unsent);
        }
        auto now = std::chrono::steady_clock::now();
        for (auto& u : pending) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(u.until - now);
            if (left.count() > 0) SendNow(u.event, left);
        }
    }

    void OnMessage(const std::string& payload) {
        std::string sender;
        BusEvent e;
        if (!Decode(payload, &sender, &e) || sender == options.instance_id) return;
        received.fetch_add(1);
        Deliver(e);
    }

    // After the subscriber (re)connected: what was kept, then kBusResynced.
    static net::awaitable<void> Replay(std::shared_ptr<Impl> self) {
        // The command connection may still be coming back; wait for it a little.
        net::steady_timer timer(co_await net::this_coro::executor);
        for (int i = 0; i < 100 && !self->commands.up() && !self->stopped; ++i) {
            timer.expires_after(std::chrono::milliseconds(100));
            boost::system::error_code ec;
            co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
        }
        std::string cursor = "0";
        const std::string pattern = self->options.prefix + "kept:*";
        const auto timeout = std::chrono::milliseconds(2000);
        int rounds = 0;
        do {
            std::vector<std::string> scan{"SCAN", cursor, "MATCH", pattern, "COUNT", "500"};
            auto r = co_await self->commands.Command(std::move(scan), timeout);
            if (!r.ok() || r->type != redis::Reply::Type::kArray || r->elements.size() != 2) break;
            cursor = r->elements[0].str;
            const auto& keys = r->elements[1].elements;
            if (!keys.empty()) {
                std::vector<std::string> mget{"MGET"};
                for (const auto& k : keys) mget.push_back(k.str);
                auto values = co_await self->commands.Command(std::move(mget), timeout);
                if (values.ok() && values->type == redis::Reply::Type::kArray) {
                    for (const auto& v : values->elements) {
                        if (v.type != redis::Reply::Type::kString) continue;
                        std::string sender;
                        BusEvent e;
                        if (!Decode(v.str, &sender, &e) || sender == self->options.instance_id)
                            continue;
                        self->replayed.fetch_add(1);
                        self->Deliver(e);
                    }
                }
            }
        } while (cursor != "0" && ++rounds < 100000 && !self->stopped);
        self->resyncs.fetch_add(1);
        self->Deliver(BusEvent{kBusResynced, ""});
    }
};

RedisBus::RedisBus(net::io_context& io, redis::Client& commands, redis::Client& subscriber,
                   RedisBusOptions options)
    : impl_(std::make_shared<Impl>(io, commands, subscriber, std::move(options))) {}

RedisBus::~RedisBus() { Stop(); }

void RedisBus::Subscribe(Handler handler) {
    std::lock_guard lock(impl_->mu);
    impl_->handlers.push_back(std::move(handler));
}

void RedisBus::Start() {
    std::weak_ptr<Impl> weak = impl_;
    impl_->subscriber.OnMessage([weak](const std::string&, const std::string& payload) {
        if (auto self = weak.lock()) self->OnMessage(payload);
    });
    impl_->subscriber.OnState([weak](bool up) {
        auto self = weak.lock();
        if (!self || !up || self->stopped) return;
        // Called on the subscriber's strand: the replay runs beside it, on the io threads.
        net::co_spawn(self->io.get_executor(), Impl::Replay(self), [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    });
    impl_->commands.OnState([weak](bool up) {
        if (auto self = weak.lock(); self && up) self->Flush();
    });
}

void RedisBus::Stop() { impl_->stopped = true; }

void RedisBus::Publish(const BusEvent& event, std::chrono::milliseconds keep_for) {
    if (impl_->stopped) return;
    if (impl_->commands.up()) {
        impl_->SendNow(event, keep_for);
        return;
    }
    if (keep_for.count() <= 0) {
        impl_->dropped.fetch_add(1);
        return;
    }
    std::lock_guard lock(impl_->mu);
    if (impl_->unsent.size() >= impl_->options.max_unsent_kept) {
        impl_->unsent.pop_front();
        impl_->dropped.fetch_add(1);
    }
    impl_->unsent.push_back({event, std::chrono::steady_clock::now() + keep_for});
}

BusStats RedisBus::stats() const {
    return {impl_->published.load(), impl_->dropped.load(), impl_->received.load(),
            impl_->replayed.load(), impl_->resyncs.load()};
}

}  // namespace hub::cache
