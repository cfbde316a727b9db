#pragma once
// Secret<T>: holds a secret value; it can be read on purpose, never printed by accident.
#include <ostream>
#include <string>
#include <utility>

namespace hub::core {

template <class T = std::string>
class Secret {
public:
    Secret() = default;
    explicit Secret(T v) : v_(std::move(v)) {}
    const T& Reveal() const { return v_; }
    bool empty() const { return v_.empty(); }
    friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "***"; }

private:
    T v_{};
};

}  // namespace hub::core
