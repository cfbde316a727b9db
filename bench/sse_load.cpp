// bench-sse-load: a small load generator for long-lived SSE answers (bench/run.sh, row 3).
//
//   bench-sse-load --port 8080 --path /v1/chat/completions --header 'Authorization: Bearer bh-…'
//                  --body '{"model":"qwen-plus","stream":true,…}' --streams 5000 --ramp 1000
//
// Opens --streams connections at --ramp new connections per second, sends one POST on each,
// reads the chunked SSE answer until `data: [DONE]` and the end of the body, and prints one
// summary as key=value lines: completed, errors by kind, bytes, time to first byte, duration.
// A stream counts as completed only when it saw `data: [DONE]` and the body ended cleanly.
//
//   bench-sse-load --wait-http 127.0.0.1:8080/healthz --timeout-s 10
//
// polls GET until it answers 200 (every millisecond): how start-up time is measured.
//
// One io thread: the generator should take as little of the machine as it can.
#include <utility>  // before Asio: g++ 12 coroutine support needs it first

#include <boost/asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/resource.h>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::string path = "/v1/chat/completions";
    std::vector<std::string> headers;
    std::string body;
    int streams = 1;
    double ramp = 1000;       // new connections per second
    double timeout_s = 180;   // per stream, from connect to the end of the body
    double progress_s = 10;   // progress line on stderr every this many seconds (0 = never)
    std::string wait_url;     // --wait-http host:port/path
};

struct Stats {
    int started = 0;
    int active = 0;
    int peak_active = 0;
    int completed = 0;
    int err_connect = 0;
    int err_write = 0;
    int err_status = 0;     // answer other than 200 text/event-stream
    int err_closed = 0;     // connection closed or reset before the end
    int err_timeout = 0;
    int err_no_done = 0;    // body ended without data: [DONE]
    // 503 + Retry-After: the hub's overload cap refused the stream. Not an error when it is
    // fast: the point of the cap is that a refusal costs the client one round trip.
    int refused = 0;
    std::vector<double> refused_ms;  // connect -> end of the 503
    std::uint64_t bytes = 0;
    std::uint64_t events = 0;        // SSE events received (each ends with a blank line)
    std::vector<double> ttfb_ms;     // request written -> first body byte
    std::vector<double> duration_s;  // connect -> end of body (completed streams)
    int first_status = 0;            // first non-200 status seen, for the report
    std::string first_error_body;
};

double Pct(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

double Since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

bool IEqualsPrefix(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(s[i])) !=
            std::tolower(static_cast<unsigned char>(prefix[i])))
            return false;
    }
    return true;
}

// Incremental parser of one HTTP/1.1 response with a chunked (or close-delimited) body.
// Body bytes go to the SSE scan, which only looks for the `data: [DONE]` line.
class ResponseReader {
public:
    enum class State { kHead, kChunkSize, kChunkData, kChunkDataEnd, kTrailer, kRawBody, kDone };

    // Returns false on a protocol error.
    bool Feed(const char* p, std::size_t n, bool* got_body_bytes) {
        *got_body_bytes = false;
        std::size_t i = 0;
        while (i < n && state_ != State::kDone) {
            switch (state_) {
            case State::kHead: {
                head_.append(p + i, n - i);
                i = n;
                auto end = head_.find("\r\n\r\n");
                if (end == std::string::npos) {
                    if (head_.size() > 64 * 1024) return false;
                    break;
                }
                std::string rest = head_.substr(end + 4);
                head_.resize(end + 2);
                if (!ParseHead()) return false;
                state_ = chunked_ ? State::kChunkSize : State::kRawBody;
                if (!rest.empty()) {
                    bool got = false;
                    if (!Feed(rest.data(), rest.size(), &got)) return false;
                    *got_body_bytes = *got_body_bytes || got;
                }
                return true;
            }
            case State::kChunkSize:
            case State::kTrailer: {
                const char* nl = static_cast<const char*>(std::memchr(p + i, '\n', n - i));
                std::size_t take = nl ? static_cast<std::size_t>(nl - (p + i)) + 1 : n - i;
                line_.append(p + i, take);
                i += take;
                if (!nl) {
                    if (line_.size() > 1024) return false;
                    break;
                }
                if (state_ == State::kTrailer) {
                    if (line_ == "\r\n" || line_ == "\n") state_ = State::kDone;
                    line_.clear();
                    break;
                }
                char* endp = nullptr;
                unsigned long long size = std::strtoull(line_.c_str(), &endp, 16);
                if (endp == line_.c_str()) return false;
                line_.clear();
                if (size == 0) {
                    state_ = State::kTrailer;
                } else {
                    remaining_ = size;
                    state_ = State::kChunkData;
                }
                break;
            }
            case State::kChunkData: {
                std::size_t take = static_cast<std::size_t>(
                    std::min<unsigned long long>(remaining_, n - i));
                Body(p + i, take);
                *got_body_bytes = true;
                i += take;
                remaining_ -= take;
                if (remaining_ == 0) state_ = State::kChunkDataEnd;
                break;
            }
            case State::kChunkDataEnd: {
                // The CRLF after a chunk's data.
                char ch = p[i++];
                if (ch == '\n') state_ = State::kChunkSize;
                else if (ch != '\r') return false;
                break;
            }
            case State::kRawBody:
                Body(p + i, n - i);
                *got_body_bytes = true;
                i = n;
                break;
            case State::kDone:
                break;
            }
        }
        return true;
    }

    State state() const { return state_; }
    int status() const { return status_; }
    bool event_stream() const { return event_stream_; }
    bool saw_done() const { return saw_done_; }
    const std::string& error_body() const { return error_body_; }

private:
    bool ParseHead() {
        // "HTTP/1.1 200 OK\r\n" then fields.
        if (head_.size() < 12 || head_.compare(0, 5, "HTTP/") != 0) return false;
        status_ = std::atoi(head_.c_str() + 9);
        std::size_t pos = head_.find("\r\n") + 2;
        while (pos < head_.size()) {
            auto eol = head_.find("\r\n", pos);
            if (eol == std::string::npos) break;
            std::string_view line(head_.data() + pos, eol - pos);
            if (IEqualsPrefix(line, "transfer-encoding:") &&
                line.find("chunked") != std::string_view::npos)
                chunked_ = true;
            if (IEqualsPrefix(line, "content-type:") &&
                line.find("text/event-stream") != std::string_view::npos)
                event_stream_ = true;
            pos = eol + 2;
        }
        return true;
    }

    void Body(const char* p, std::size_t n) {
        if (status_ != 200 && error_body_.size() < 300)
            error_body_.append(p, std::min<std::size_t>(n, 300 - error_body_.size()));
        CountEvents(p, n);
        if (saw_done_) return;
        // Look for the line across piece boundaries: keep the last few bytes.
        static constexpr std::string_view kDone = "data: [DONE]";
        std::string window = tail_;
        window.append(p, n);
        if (window.find(kDone) != std::string::npos) saw_done_ = true;
        tail_ = window.size() > kDone.size() ? window.substr(window.size() - kDone.size()) : window;
    }

    // Events end with "\n\n"; the pair may straddle two pieces.
    void CountEvents(const char* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            const bool nl = p[i] == '\n';
            if (nl && prev_newline_) ++events_;
            prev_newline_ = nl;
        }
    }

public:
    // SSE events seen since the last call.
    std::uint64_t TakeEvents() { return std::exchange(events_, 0); }

private:
    std::uint64_t events_ = 0;
    bool prev_newline_ = false;
    State state_ = State::kHead;
    std::string head_;
    std::string line_;
    std::string tail_;
    std::string error_body_;
    unsigned long long remaining_ = 0;
    int status_ = 0;
    bool chunked_ = false;
    bool event_stream_ = false;
    bool saw_done_ = false;
};

// Closes the socket when the stream's deadline passes.
void ArmDeadline(net::steady_timer& timer, std::shared_ptr<tcp::socket> sock,
                 std::shared_ptr<bool> timed_out) {
    timer.async_wait([sock, timed_out](const error_code& ec) {
        if (ec) return;
        *timed_out = true;
        error_code ignore;
        sock->close(ignore);
    });
}

net::awaitable<void> OneStream(const Options& o, Stats& st, tcp::endpoint ep, std::string request) {
    auto ex = co_await net::this_coro::executor;
    auto sock = std::make_shared<tcp::socket>(ex);
    auto timed_out = std::make_shared<bool>(false);
    net::steady_timer deadline(ex);
    deadline.expires_after(std::chrono::milliseconds(static_cast<long>(o.timeout_s * 1000)));
    ArmDeadline(deadline, sock, timed_out);
    ++st.active;
    st.peak_active = std::max(st.peak_active, st.active);
    struct Leave {
        Stats& st;
        net::steady_timer& t;
        ~Leave() {
            --st.active;
            t.cancel();
        }
    } leave{st, deadline};

    const auto t0 = Clock::now();
    error_code ec;
    co_await sock->async_connect(ep, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
        if (*timed_out) ++st.err_timeout;
        else ++st.err_connect;
        co_return;
    }
    sock->set_option(tcp::no_delay(true), ec);
    co_await net::async_write(*sock, net::buffer(request), net::redirect_error(net::use_awaitable, ec));
    if (ec) {
        if (*timed_out) ++st.err_timeout;
        else ++st.err_write;
        co_return;
    }
    const auto sent = Clock::now();
    bool first_byte = false;
    ResponseReader rr;
    char buf[4096];
    for (;;) {
        std::size_t n = co_await sock->async_read_some(net::buffer(buf),
                                                       net::redirect_error(net::use_awaitable, ec));
        if (n > 0) {
            st.bytes += n;
            bool body_bytes = false;
            if (!rr.Feed(buf, n, &body_bytes)) {
                ++st.err_closed;
                co_return;
            }
            st.events += rr.TakeEvents();
            if (body_bytes && !first_byte && rr.status() == 200) {
                first_byte = true;
                st.ttfb_ms.push_back(
                    std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
            }
            if (rr.state() == ResponseReader::State::kDone) break;
        }
        if (ec) break;
    }
    const bool clean_end = rr.state() == ResponseReader::State::kDone ||
                           (ec == net::error::eof && rr.state() == ResponseReader::State::kRawBody);
    if (rr.status() == 503 && !*timed_out) {
        ++st.refused;
        st.refused_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        co_return;
    }
    if (rr.status() != 200 || (rr.state() != ResponseReader::State::kHead && !rr.event_stream())) {
        if (rr.status() != 0) {
            ++st.err_status;
            if (st.first_status == 0) {
                st.first_status = rr.status();
                st.first_error_body = rr.error_body();
            }
            co_return;
        }
    }
    if (*timed_out) {
        ++st.err_timeout;
    } else if (!clean_end) {
        ++st.err_closed;
    } else if (!rr.saw_done()) {
        ++st.err_no_done;
    } else {
        ++st.completed;
        st.duration_s.push_back(Since(t0));
    }
    error_code ignore;
    sock->shutdown(tcp::socket::shutdown_both, ignore);
    sock->close(ignore);
}

void Progress(const Stats& st, double elapsed) {
    std::fprintf(stderr,
                 "[%6.1fs] started %d active %d completed %d errors %d (connect %d, status %d, "
                 "closed %d, timeout %d)\n",
                 elapsed, st.started, st.active, st.completed,
                 st.err_connect + st.err_write + st.err_status + st.err_closed + st.err_timeout +
                     st.err_no_done,
                 st.err_connect, st.err_status, st.err_closed, st.err_timeout);
}

net::awaitable<void> Launcher(const Options& o, Stats& st, tcp::endpoint ep, std::string request,
                              bool* launched_all) {
    auto ex = co_await net::this_coro::executor;
    net::steady_timer tick(ex);
    const auto start = Clock::now();
    double last_progress = 0;
    while (st.started < o.streams) {
        double elapsed = Since(start);
        int due = std::min(o.streams, static_cast<int>(o.ramp * elapsed) + 1);
        while (st.started < due) {
            ++st.started;
            net::co_spawn(ex, OneStream(o, st, ep, request), net::detached);
        }
        if (o.progress_s > 0 && elapsed - last_progress >= o.progress_s) {
            last_progress = elapsed;
            Progress(st, elapsed);
        }
        tick.expires_after(std::chrono::milliseconds(5));
        error_code ec;
        co_await tick.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    *launched_all = true;
    while (st.active > 0) {
        double elapsed = Since(start);
        if (o.progress_s > 0 && elapsed - last_progress >= o.progress_s) {
            last_progress = elapsed;
            Progress(st, elapsed);
        }
        tick.expires_after(std::chrono::milliseconds(50));
        error_code ec;
        co_await tick.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
}

std::string BuildRequest(const Options& o) {
    std::string r = "POST " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" +
                    std::to_string(o.port) +
                    "\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n"
                    "Connection: close\r\n";  // one stream per connection; a refusal ends too
    for (const auto& h : o.headers) r += h + "\r\n";
    r += "Content-Length: " + std::to_string(o.body.size()) + "\r\n\r\n" + o.body;
    return r;
}

int RunStreams(const Options& o) {
    net::io_context io(1);
    error_code ec;
    tcp::endpoint ep(net::ip::make_address(o.host, ec), o.port);
    if (ec) {
        std::cerr << "bench-sse-load: bad --host " << o.host << "\n";
        return 2;
    }
    Stats st;
    st.ttfb_ms.reserve(static_cast<std::size_t>(o.streams));
    st.duration_s.reserve(static_cast<std::size_t>(o.streams));
    bool launched_all = false;
    const auto start = Clock::now();
    net::co_spawn(io, Launcher(o, st, ep, BuildRequest(o), &launched_all), net::detached);
    io.run();
    double wall = Since(start);
    int errors = st.err_connect + st.err_write + st.err_status + st.err_closed + st.err_timeout +
                 st.err_no_done;
    std::printf("streams=%d\ncompleted=%d\nerrors=%d\nerr_connect=%d\nerr_write=%d\n"
                "err_status=%d\nerr_closed=%d\nerr_timeout=%d\nerr_no_done=%d\npeak_active=%d\n"
                "bytes=%llu\nevents=%llu\nttfb_p50_ms=%.1f\nttfb_p99_ms=%.1f\nttfb_max_ms=%.1f\n"
                "duration_p50_s=%.2f\nduration_p99_s=%.2f\nduration_max_s=%.2f\nwall_s=%.2f\n"
                "refused=%d\nrefused_p50_ms=%.1f\nrefused_p99_ms=%.1f\n",
                o.streams, st.completed, errors, st.err_connect, st.err_write, st.err_status,
                st.err_closed, st.err_timeout, st.err_no_done, st.peak_active,
                static_cast<unsigned long long>(st.bytes),
                static_cast<unsigned long long>(st.events), Pct(st.ttfb_ms, 50), Pct(st.ttfb_ms, 99),
                Pct(st.ttfb_ms, 100), Pct(st.duration_s, 50), Pct(st.duration_s, 99),
                Pct(st.duration_s, 100), wall, st.refused, Pct(st.refused_ms, 50),
                Pct(st.refused_ms, 99));
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("cpu_user_s=%.2f\ncpu_sys_s=%.2f\n",
                static_cast<double>(ru.ru_utime.tv_sec) + ru.ru_utime.tv_usec / 1e6,
                static_cast<double>(ru.ru_stime.tv_sec) + ru.ru_stime.tv_usec / 1e6);
    if (st.first_status != 0) {
        std::string b = st.first_error_body;
        std::replace(b.begin(), b.end(), '\n', ' ');
        std::printf("first_error_status=%d\nfirst_error_body=%s\n", st.first_status, b.c_str());
    }
    return 0;
}

// --wait-http HOST:PORT/PATH: GET until 200, a new connection each millisecond.
int WaitHttp(const Options& o) {
    std::string url = o.wait_url;
    auto slash = url.find('/');
    std::string hostport = url.substr(0, slash);
    std::string path = slash == std::string::npos ? "/" : url.substr(slash);
    auto colon = hostport.rfind(':');
    if (colon == std::string::npos) {
        std::cerr << "bench-sse-load: --wait-http needs HOST:PORT/PATH\n";
        return 2;
    }
    net::io_context io(1);
    error_code ec;
    tcp::endpoint ep(net::ip::make_address(hostport.substr(0, colon), ec),
                     static_cast<std::uint16_t>(std::atoi(hostport.c_str() + colon + 1)));
    if (ec) return 2;
    const std::string req =
        "GET " + path + " HTTP/1.1\r\nHost: " + hostport + "\r\nConnection: close\r\n\r\n";
    const auto start = Clock::now();
    while (Since(start) < o.timeout_s) {
        tcp::socket s(io);
        s.connect(ep, ec);
        if (!ec) {
            net::write(s, net::buffer(req), ec);
            char buf[64];
            std::size_t n = ec ? 0 : s.read_some(net::buffer(buf), ec);
            if (n >= 12 && std::string_view(buf, 12) == "HTTP/1.1 200") return 0;
        }
        error_code ignore;
        s.close(ignore);
        struct timespec ts {0, 1'000'000};
        nanosleep(&ts, nullptr);
    }
    std::cerr << "bench-sse-load: " << o.wait_url << " did not answer 200 within " << o.timeout_s
              << " s\n";
    return 1;
}

void Usage() {
    std::cerr << "usage: bench-sse-load --port P [--host 127.0.0.1] [--path /v1/chat/completions]\n"
                 "         [--header 'Name: value']... --body JSON --streams N [--ramp PER_SECOND]\n"
                 "         [--timeout-s S] [--progress-s S]\n"
                 "       bench-sse-load --wait-http HOST:PORT/PATH [--timeout-s S]\n";
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    bool timeout_given = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                Usage();
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--host") o.host = next();
        else if (a == "--port") o.port = static_cast<std::uint16_t>(std::atoi(next().c_str()));
        else if (a == "--path") o.path = next();
        else if (a == "--header") o.headers.push_back(next());
        else if (a == "--body") o.body = next();
        else if (a == "--streams") o.streams = std::atoi(next().c_str());
        else if (a == "--ramp") o.ramp = std::atof(next().c_str());
        else if (a == "--timeout-s") {
            o.timeout_s = std::atof(next().c_str());
            timeout_given = true;
        } else if (a == "--progress-s") o.progress_s = std::atof(next().c_str());
        else if (a == "--wait-http") o.wait_url = next();
        else {
            Usage();
            return 2;
        }
    }
    if (!o.wait_url.empty()) {
        if (!timeout_given) o.timeout_s = 30;
        return WaitHttp(o);
    }
    if (o.port == 0 || o.body.empty() || o.streams < 1 || o.ramp <= 0) {
        Usage();
        return 2;
    }
    return RunStreams(o);
}
