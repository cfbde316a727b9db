#pragma once
// Expected failures as values: Result<T> carries either a T or an Error.
// Error::public_message may reach a client; Error::detail goes to logs only.
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace hub::core {

enum class ErrorCode {
    kInvalidArgument,      // 400 validation_failed (or a specific code)
    kInvalidJson,          // 400 invalid_json
    kUnauthenticated,      // 401
    kForbidden,            // 403
    kNotFound,             // 404
    kMethodNotAllowed,     // 405
    kConflict,             // 409
    kPayloadTooLarge,      // 413
    kUnsupportedMediaType, // 415
    kUnprocessable,        // 422
    kRateLimited,          // 429
    kInternal,             // 500
    kUpstream,             // 502
    kUnavailable,          // 503
    kUpstreamTimeout,      // 504
};

struct Error {
    ErrorCode code = ErrorCode::kInternal;
    std::string api_code;        // snake_case code for the envelope; empty = default for `code`
    std::string public_message;  // safe to show to a client
    std::string detail;          // log-only
    std::int64_t retry_after_s = 0;  // > 0: the client may retry after this many seconds

    static Error Make(ErrorCode c, std::string api_code, std::string msg, std::string detail = {}) {
        return Error{c, std::move(api_code), std::move(msg), std::move(detail)};
    }
};

template <class T>
class [[nodiscard]] Result {
public:
    // Default: an internal error (needed by co_spawn for awaitable results; never meaningful).
    Result() : v_(Error{}) {}
    Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    T& operator*() & { return std::get<0>(v_); }
    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return error_; }

private:
    Error error_;
    bool ok_ = true;
};

inline Result<void> Ok() { return {}; }

}  // namespace hub::core
