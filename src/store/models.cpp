#include "store/models.hpp"

#include <array>
#include <utility>

namespace hub::store {

namespace {

template <class E, std::size_t N>
using Names = std::array<std::pair<E, std::string_view>, N>;

constexpr Names<UserStatus, 2> kUserStatus{{
    {UserStatus::kActive, "active"},
    {UserStatus::kDisabled, "disabled"},
}};
constexpr Names<MessageRole, 3> kMessageRole{{
    {MessageRole::kSystem, "system"},
    {MessageRole::kUser, "user"},
    {MessageRole::kAssistant, "assistant"},
}};
constexpr Names<MessageStatus, 4> kMessageStatus{{
    {MessageStatus::kComplete, "complete"},
    {MessageStatus::kStreaming, "streaming"},
    {MessageStatus::kInterrupted, "interrupted"},
    {MessageStatus::kError, "error"},
}};
constexpr Names<UpstreamKeyStatus, 3> kUpstreamKeyStatus{{
    {UpstreamKeyStatus::kActive, "active"},
    {UpstreamKeyStatus::kRetiring, "retiring"},
    {UpstreamKeyStatus::kDisabled, "disabled"},
}};
constexpr Names<GenerationStatus, 5> kGenerationStatus{{
    {GenerationStatus::kPending, "pending"},
    {GenerationStatus::kRunning, "running"},
    {GenerationStatus::kSucceeded, "succeeded"},
    {GenerationStatus::kFailed, "failed"},
    {GenerationStatus::kCanceled, "canceled"},
}};

template <class E, std::size_t N>
std::string_view NameOf(const Names<E, N>& names, E v) {
    for (const auto& [e, s] : names) {
        if (e == v) return s;
    }
    return {};
}

template <class E, std::size_t N>
std::optional<E> ValueOf(const Names<E, N>& names, std::string_view s) {
    for (const auto& [e, name] : names) {
        if (name == s) return e;
    }
    return std::nullopt;
}

}  // namespace

std::string_view ToString(UserStatus v) { return NameOf(kUserStatus, v); }
std::string_view ToString(MessageRole v) { return NameOf(kMessageRole, v); }
std::string_view ToString(MessageStatus v) { return NameOf(kMessageStatus, v); }
std::string_view ToString(UpstreamKeyStatus v) { return NameOf(kUpstreamKeyStatus, v); }
std::string_view ToString(GenerationStatus v) { return NameOf(kGenerationStatus, v); }

std::optional<UserStatus> ParseUserStatus(std::string_view s) { return ValueOf(kUserStatus, s); }
std::optional<MessageRole> ParseMessageRole(std::string_view s) { return ValueOf(kMessageRole, s); }
std::optional<MessageStatus> ParseMessageStatus(std::string_view s) {
    return ValueOf(kMessageStatus, s);
}
std::optional<UpstreamKeyStatus> ParseUpstreamKeyStatus(std::string_view s) {
    return ValueOf(kUpstreamKeyStatus, s);
}
std::optional<GenerationStatus> ParseGenerationStatus(std::string_view s) {
    return ValueOf(kGenerationStatus, s);
}

}  // namespace hub::store
