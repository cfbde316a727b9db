#include "auth/password.hpp"

#include <crypt.h>
#include <string.h>  // explicit_bzero

#include <algorithm>
#include <memory>
#include <utility>

#include "core/text.hpp"
#include "crypto/crypto.hpp"

namespace hub::auth {
namespace {

constexpr std::string_view kBcryptPrefix = "$2b$";
constexpr std::size_t kBcryptHashLength = 60;

core::Error WeakPassword(std::string message, std::string detail = {}) {
    return core::Error::Make(core::ErrorCode::kInvalidArgument, "weak_password", std::move(message),
                             std::move(detail));
}

// crypt_data is ~32 KiB: keep it off the (possibly small) worker stack, and wipe it after use
// because it holds state derived from the password.
struct CryptScratch {
    CryptScratch() : data(std::make_unique<crypt_data>()) {}  // value-initialised = zeroed
    ~CryptScratch() { explicit_bzero(data.get(), sizeof(crypt_data)); }
    CryptScratch(const CryptScratch&) = delete;
    CryptScratch& operator=(const CryptScratch&) = delete;
    std::unique_ptr<crypt_data> data;
};

bool IsRepresentable(std::string_view password) {
    return password.size() <= kMaxPasswordBytes && password.find('\0') == std::string_view::npos;
}

// One bcrypt run of `password` with the salt and cost taken from `setting`. Empty on failure.
std::string RunBcrypt(std::string_view password, const std::string& setting) {
    std::string phrase(password);  // NUL-terminated copy for libxcrypt
    CryptScratch scratch;
    const char* out = crypt_rn(phrase.c_str(), setting.c_str(), scratch.data.get(),
                               static_cast<int>(sizeof(crypt_data)));
    std::string result = out != nullptr && out[0] != '*' ? std::string(out) : std::string();
    explicit_bzero(phrase.data(), phrase.size());
    return result;
}

bool IsBcryptHashShape(std::string_view hash) {
    return hash.size() == kBcryptHashLength && BcryptCost(hash) >= 4;
}

std::string MakeSetting(int cost) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    // A null random-bytes argument makes libxcrypt read the OS CSPRNG itself.
    if (crypt_gensalt_rn(kBcryptPrefix.data(), static_cast<unsigned long>(cost), nullptr, 0,
                         setting, static_cast<int>(sizeof setting)) == nullptr) {
        return {};
    }
    return setting;
}

}  // namespace

core::Result<PasswordHasher> PasswordHasher::Create(int cost) {
    if (cost < kMinBcryptCost || cost > kMaxBcryptCost) {
        return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_config",
                                 "bcrypt cost must be between 10 and 31",
                                 "bcrypt cost " + std::to_string(cost) + " rejected");
    }
    std::string setting = MakeSetting(cost);
    if (setting.empty() || setting.size() >= kBcryptHashLength) {
        return core::Error::Make(core::ErrorCode::kInternal, "", "internal error",
                                 "crypt_gensalt_rn failed");
    }
    // The dummy "hash" is the setting (prefix, cost, a fresh salt) followed by random
    // characters of bcrypt's alphabet: verifying against it costs one bcrypt run at `cost`
    // like a real hash, and nothing can match it. Nothing is hashed here, so start-up does not
    // pay a bcrypt run (~190 ms at cost 12).
    static constexpr std::string_view kAlphabet =
        "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string dummy = setting;
    for (unsigned char byte : crypto::RandomBytes(kBcryptHashLength - setting.size())) {
        dummy += kAlphabet[byte % kAlphabet.size()];
    }
    return PasswordHasher(cost, std::move(dummy));
}

core::Result<std::string> PasswordHasher::Hash(std::string_view password) const {
    if (password.size() > kMaxPasswordBytes) {
        return WeakPassword("password must be at most 72 bytes long");
    }
    if (password.find('\0') != std::string_view::npos) {
        return WeakPassword("password must not contain NUL characters");
    }
    std::string setting = MakeSetting(cost_);
    if (setting.empty()) {
        return core::Error::Make(core::ErrorCode::kInternal, "", "internal error",
                                 "crypt_gensalt_rn failed");
    }
    std::string hash = RunBcrypt(password, setting);
    if (hash.empty()) {
        return core::Error::Make(core::ErrorCode::kInternal, "", "internal error",
                                 "crypt_rn failed");
    }
    return hash;
}

bool PasswordHasher::Verify(std::string_view password, std::string_view hash) const {
    if (!IsBcryptHashShape(hash) || !IsRepresentable(password)) {
        (void)VerifyAgainstDummy(password);  // same cost whatever the input
        return false;
    }
    std::string computed = RunBcrypt(password, std::string(hash));
    return !computed.empty() && crypto::ConstantTimeEquals(computed, hash);
}

bool PasswordHasher::VerifyAgainstDummy(std::string_view password) const {
    // Representable or not, spend the bcrypt run (truncate to what bcrypt would read).
    std::string_view usable = password.substr(0, std::min(password.size(), kMaxPasswordBytes));
    usable = usable.substr(0, usable.find('\0'));
    std::string computed = RunBcrypt(usable, dummy_hash_);
    (void)crypto::ConstantTimeEquals(computed, dummy_hash_);
    return false;
}

bool PasswordHasher::NeedsRehash(std::string_view hash) const {
    return !IsBcryptHashShape(hash) || hash.substr(0, 4) != kBcryptPrefix ||
           BcryptCost(hash) != cost_;
}

int BcryptCost(std::string_view hash) {
    // "$2?$NN$" with ? in {a, b, y} and NN two decimal digits.
    if (hash.size() < 7 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') {
        return -1;
    }
    if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return -1;
    if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') return -1;
    int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    return cost >= 4 && cost <= 31 ? cost : -1;
}

bool IsValidUtf8(std::string_view text) {
    while (!text.empty()) {
        const std::size_t len = core::Utf8SequenceLength(text);
        if (len == 0) return false;
        text.remove_prefix(len);
    }
    return true;
}

std::size_t Utf8Length(std::string_view text) {
    std::size_t count = 0;
    for (char ch : text) {
        if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++count;
    }
    return count;
}

core::Result<void> CheckPasswordPolicy(std::string_view password, std::string_view username,
                                       std::string_view email) {
    if (!IsValidUtf8(password)) {
        return WeakPassword("password must be valid UTF-8 text");
    }
    if (password.find('\0') != std::string_view::npos) {
        return WeakPassword("password must not contain NUL characters");
    }
    if (Utf8Length(password) < kMinPasswordChars) {
        return WeakPassword("password must be at least 8 characters long");
    }
    if (password.size() > kMaxPasswordBytes) {
        return WeakPassword(
            "password must be at most 72 bytes long (non-ASCII characters take 2 to 4 bytes)");
    }
    std::string lower = AsciiLower(password);
    if (!username.empty() && lower == AsciiLower(username)) {
        return WeakPassword("password must not be the same as the username");
    }
    if (!email.empty()) {
        std::string lower_email = AsciiLower(email);
        auto at = lower_email.rfind('@');
        std::string_view local;
        if (at != std::string::npos) local = std::string_view(lower_email).substr(0, at);
        if (lower == lower_email || (!local.empty() && lower == local)) {
            return WeakPassword("password must not be the same as the email address");
        }
    }
    if (IsCommonPassword(password)) {
        return WeakPassword("this password is too common; choose a less predictable one");
    }
    return core::Ok();
}

core::Result<void> ValidateUsername(std::string_view username) {
    auto invalid = [] {
        return core::Error::Make(
            core::ErrorCode::kInvalidArgument, "invalid_username",
            "username must be 3 to 32 characters of letters, digits, '_', '.' or '-'");
    };
    if (username.size() < kMinUsernameLength || username.size() > kMaxUsernameLength) {
        return invalid();
    }
    for (char c : username) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok) return invalid();
    }
    return core::Ok();
}

core::Result<void> ValidateEmail(std::string_view email) {
    auto invalid = [] {
        return core::Error::Make(core::ErrorCode::kInvalidArgument, "invalid_email",
                                 "email address is not valid");
    };
    if (email.empty() || email.size() > kMaxEmailLength) return invalid();
    auto at = email.find('@');
    if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) {
        return invalid();
    }
    std::string_view local = email.substr(0, at);
    std::string_view domain = email.substr(at + 1);

    if (local.empty() || local.size() > 64) return invalid();
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
        return invalid();
    }
    constexpr std::string_view kLocalSpecials = "!#$%&'*+/=?^_`{|}~.-";
    for (char c : local) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  kLocalSpecials.find(c) != std::string_view::npos;
        if (!ok) return invalid();
    }

    if (domain.empty() || domain.size() > 253) return invalid();
    std::size_t labels = 0;
    std::string_view last_label;
    std::size_t start = 0;
    while (true) {
        std::size_t dot = domain.find('.', start);
        std::string_view label = domain.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty() || label.size() > 63) return invalid();
        if (label.front() == '-' || label.back() == '-') return invalid();
        for (char c : label) {
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-';
            if (!ok) return invalid();
        }
        ++labels;
        last_label = label;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (labels < 2 || last_label.size() < 2) return invalid();
    bool all_digits = true;
    for (char c : last_label) all_digits = all_digits && c >= '0' && c <= '9';
    if (all_digits) return invalid();
    return core::Ok();
}

}  // namespace hub::auth
