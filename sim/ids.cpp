#include "ids.hpp"

#include <random>

namespace hub::sim {

std::uint64_t Hash64(std::string_view s, std::uint64_t seed) {
    std::uint64_t h = seed;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::uint64_t Rng::Next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::string FormatUuid(std::uint64_t hi, std::uint64_t lo) {
    static const char* kHex = "0123456789abcdef";
    std::string s;
    s.reserve(36);
    for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) s.push_back('-');
        std::uint64_t w = i < 16 ? hi : lo;
        int shift = 60 - 4 * (i % 16);
        s.push_back(kHex[(w >> shift) & 0xf]);
    }
    return s;
}

std::string NewUuid() {
    thread_local std::mt19937_64 rng([] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }());
    return FormatUuid(rng(), rng());
}

std::string ToolCallId(std::uint64_t seed) {
    Rng r(seed);
    std::string hex = FormatUuid(r.Next(), r.Next());
    std::string out = "call_";
    for (char c : hex) {
        if (c != '-' && out.size() < 27) out.push_back(c);
    }
    return out;
}

}  // namespace hub::sim
