#pragma once
// Identifiers and deterministic hashing for the simulator.
#include <cstdint>
#include <string>
#include <string_view>

namespace hub::sim {

// FNV-1a 64-bit; stable across runs and platforms (content is derived from it).
std::uint64_t Hash64(std::string_view s, std::uint64_t seed = 0xcbf29ce484222325ULL);

// splitmix64: a tiny deterministic generator seeded from a hash.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : s_(seed) {}
    std::uint64_t Next();
    // Uniform-ish in [0, n); n > 0.
    std::uint64_t Below(std::uint64_t n) { return Next() % n; }

private:
    std::uint64_t s_;
};

// Random ids shaped like DashScope's: 8-4-4-4-12 lowercase hex (request ids, task ids).
std::string NewUuid();
// Formats 16 bytes from two words as 8-4-4-4-12 (used by NewUuid and in tests).
std::string FormatUuid(std::uint64_t hi, std::uint64_t lo);
// "call_" + 22 hex digits derived from seed, like "call_cec4c19d27624537b583af".
std::string ToolCallId(std::uint64_t seed);

}  // namespace hub::sim
