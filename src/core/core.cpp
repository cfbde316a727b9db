#include <pthread.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>

#include "core/clock.hpp"
#include "core/id.hpp"
#include "core/text.hpp"

namespace hub::core {

std::string PercentEncode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        if (plain) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

bool IEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    auto lower = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c | 0x20 : c; };
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(static_cast<unsigned char>(a[i])) != lower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

std::string AsciiLower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::size_t Utf8SequenceLength(std::string_view s) {
    if (s.empty()) return 0;
    const auto c = static_cast<unsigned char>(s[0]);
    if (c < 0x80) return 1;
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;  // no overlongs
        if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;  // no overlongs
        if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
        return 0;  // continuation byte, overlong lead (C0/C1) or F5..FF
    }
    if (s.size() < len) return 0;
    const auto c1 = static_cast<unsigned char>(s[1]);
    if (c1 < lo || c1 > hi) return 0;
    for (std::size_t k = 2; k < len; ++k) {
        const auto ck = static_cast<unsigned char>(s[k]);
        if (ck < 0x80 || ck > 0xBF) return 0;
    }
    return len;
}

bool PercentDecodeStrict(std::string_view in, std::string* out) {
    out->clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out->push_back(in[i]);
            continue;
        }
        if (i + 2 >= in.size()) return false;
        int hi = HexValue(in[i + 1]);
        int lo = HexValue(in[i + 2]);
        if (hi < 0 || lo < 0) return false;
        out->push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return true;
}

bool ParseIntIn(std::string_view s, long long lo, long long hi, long long* out) {
    if (s.empty()) return false;
    long long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return false;
    *out = v;
    return true;
}

std::string FormatIsoMs(std::int64_t epoch_ms) {
    std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(epoch_ms % 1000));
    return buf;
}

namespace {
// Ids are handed to clients and must not be predictable, so their random bits come from the
// kernel's CSPRNG: the outputs of a seeded PRNG such as mt19937_64 are linear in its state,
// which a few hundred observed ids would reveal, and with it every id made after them.
void KernelRandom(unsigned char* out, std::size_t n) {
    while (n > 0) {
        ssize_t got = ::getrandom(out, n, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("getrandom failed");
        }
        out += got;
        n -= static_cast<std::size_t>(got);
    }
}

// A request makes three ids (its request id, its api_calls row, its completion id), so the
// kernel's bytes are fetched a block at a time per thread, one system call per ~25 ids rather
// than one per id. Every byte is handed out once and wiped as it goes. A forked child starts
// with an empty block, so a child and its parent never hand out the same bytes.
std::atomic<std::uint64_t> fork_generation{0};

struct RandomBlock {
    std::array<unsigned char, 256> bytes{};
    std::size_t used = bytes.size();
    std::uint64_t generation = 0;
};

void FillRandom(unsigned char* out, std::size_t n) {
    [[maybe_unused]] static const bool at_fork = [] {
        ::pthread_atfork(nullptr, nullptr,
                         [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });
        return true;
    }();
    thread_local RandomBlock block;
    const std::uint64_t generation = fork_generation.load(std::memory_order_relaxed);
    if (block.generation != generation) {
        std::memset(block.bytes.data(), 0, block.bytes.size());
        block.used = block.bytes.size();
        block.generation = generation;
    }
    while (n > 0) {
        if (block.used == block.bytes.size()) {
            KernelRandom(block.bytes.data(), block.bytes.size());
            block.used = 0;
        }
        const std::size_t take = std::min(n, block.bytes.size() - block.used);
        std::memcpy(out, block.bytes.data() + block.used, take);
        std::memset(block.bytes.data() + block.used, 0, take);
        block.used += take;
        out += take;
        n -= take;
    }
}
}  // namespace

std::string NewIdAt(std::int64_t ms) {
    std::array<unsigned char, 16> b{};
    for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>((ms >> (8 * (5 - i))) & 0xff);
    FillRandom(b.data() + 6, b.size() - 6);
    b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0f));  // version 7
    b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3f));  // variant 10
    static const char* hex = "0123456789abcdef";
    std::string s;
    s.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
        s.push_back(hex[b[i] >> 4]);
        s.push_back(hex[b[i] & 0xf]);
    }
    return s;
}

std::string NewId() {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    return NewIdAt(ms);
}

const std::string& InstanceId() {
    static const std::string id = [] {
        char host[256] = {};
        if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "hub");
        // The random part: the low bits of a fresh UUIDv7 (random by construction).
        std::string uuid = NewId();
        return std::string(host) + "-" + std::to_string(getpid()) + "-" + uuid.substr(28);
    }();
    return id;
}

bool IsValidId(std::string_view s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

bool IsValidRequestId(std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok) return false;
    }
    return true;
}

}  // namespace hub::core
