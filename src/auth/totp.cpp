#include "auth/totp.hpp"

#include <array>

#include "core/text.hpp"
#include "crypto/crypto.hpp"

namespace hub::auth::totp {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int Base32Value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}

}  // namespace

std::string Base32Encode(std::string_view raw) {
    std::string out;
    out.reserve((raw.size() * 8 + 4) / 5);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (unsigned char c : raw) {
        buffer = (buffer << 8) | c;
        bits += 8;
        while (bits >= 5) {
            out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
    return out;
}

std::optional<std::string> Base32Decode(std::string_view text) {
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    std::size_t symbols = 0;
    bool padding = false;
    for (char c : text) {
        if (c == ' ' || c == '-') continue;
        if (c == '=') {
            padding = true;
            continue;
        }
        if (padding) return std::nullopt;  // data after padding
        int v = Base32Value(c);
        if (v < 0) return std::nullopt;
        ++symbols;
        buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
        bits += 5;
        if (bits >= 8) {
            out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xFF));
            bits -= 8;
        }
    }
    // Lengths that no byte string encodes to (1, 3 or 6 symbols in the last group).
    std::size_t rest = symbols % 8;
    if (rest == 1 || rest == 3 || rest == 6) return std::nullopt;
    return out;
}

std::int64_t StepAt(std::int64_t unix_seconds) {
    if (unix_seconds < 0) return -1 - (-unix_seconds - 1) / kStepSeconds;
    return unix_seconds / kStepSeconds;
}

std::string Hotp(std::string_view key, std::uint64_t counter, int digits) {
    if (digits < 6) digits = 6;
    if (digits > 8) digits = 8;
    std::array<char, 8> msg{};
    for (int i = 7; i >= 0; --i) {
        msg[static_cast<std::size_t>(i)] = static_cast<char>(counter & 0xFF);
        counter >>= 8;
    }
    std::string mac = crypto::HmacSha1(key, std::string_view(msg.data(), msg.size()));
    auto b = [&mac](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(mac[i])); };
    std::size_t offset = b(19) & 0x0F;
    std::uint32_t bin = ((b(offset) & 0x7F) << 24) | (b(offset + 1) << 16) | (b(offset + 2) << 8) |
                        b(offset + 3);
    std::uint32_t mod = 1;
    for (int i = 0; i < digits; ++i) mod *= 10;
    std::string code = std::to_string(bin % mod);
    return std::string(static_cast<std::size_t>(digits) - code.size(), '0') + code;
}

std::string CodeAt(std::string_view key, std::int64_t unix_seconds, int digits) {
    return Hotp(key, static_cast<std::uint64_t>(StepAt(unix_seconds)), digits);
}

bool IsWellFormedCode(std::string_view code) {
    if (code.size() != static_cast<std::size_t>(kDigits)) return false;
    for (char c : code)
        if (c < '0' || c > '9') return false;
    return true;
}

std::optional<std::int64_t> MatchStep(std::string_view key, std::string_view code,
                                      std::int64_t unix_seconds, std::int64_t last_step,
                                      int window) {
    if (!IsWellFormedCode(code)) return std::nullopt;
    std::int64_t now = StepAt(unix_seconds);
    std::optional<std::int64_t> found;
    for (std::int64_t s = now - window; s <= now + window; ++s) {
        if (s < 0) continue;
        bool equal = crypto::ConstantTimeEquals(Hotp(key, static_cast<std::uint64_t>(s)), code);
        // The latest matching step wins (codes of different steps collide one time in 10^6).
        if (equal && s > last_step) found = s;
    }
    return found;
}

std::string OtpauthUri(std::string_view issuer, std::string_view account,
                       std::string_view secret_base32) {
    std::string uri = "otpauth://totp/" + core::PercentEncode(issuer) + ":" + core::PercentEncode(account);
    uri += "?secret=" + std::string(secret_base32);
    uri += "&issuer=" + core::PercentEncode(issuer);
    uri += "&algorithm=SHA1&digits=6&period=30";
    return uri;
}

}  // namespace hub::auth::totp
