// Result<T, E>: a value or an error, with std::expected's names so that it can become an alias
// under C++23 (see CONVENTIONS section 10 for why we do not use <expected> yet).
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace egressguard {

// The error side of a Result, as std::unexpected.
template <typename E>
class Unexpected {
 public:
  explicit Unexpected(E error) : error_(std::move(error)) {}
  E& error() & noexcept { return error_; }
  E&& error() && noexcept { return std::move(error_); }
  const E& error() const& noexcept { return error_; }

 private:
  E error_;
};

// Shorthand: `return fail(TlsParseError::Truncated);`.
template <typename E>
Unexpected<std::decay_t<E>> fail(E&& error) {
  return Unexpected<std::decay_t<E>>(std::forward<E>(error));
}

template <typename T, typename E>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = E;

  // NOLINTNEXTLINE(google-explicit-constructor): implicit like std::expected.
  Result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)
      : data_(std::in_place_index<0>, std::move(value)) {}
  template <typename G>
  // NOLINTNEXTLINE(google-explicit-constructor): implicit like std::expected.
  Result(Unexpected<G> error) : data_(std::in_place_index<1>, std::move(error).error()) {}

  bool has_value() const noexcept { return data_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& operator*() & noexcept {
    assert(has_value());
    return *std::get_if<0>(&data_);
  }
  const T& operator*() const& noexcept {
    assert(has_value());
    return *std::get_if<0>(&data_);
  }
  T&& operator*() && noexcept {
    assert(has_value());
    return std::move(*std::get_if<0>(&data_));
  }
  T* operator->() noexcept { return &**this; }
  const T* operator->() const noexcept { return &**this; }
  T& value() & noexcept { return **this; }
  const T& value() const& noexcept { return **this; }

  E& error() & noexcept {
    assert(!has_value());
    return *std::get_if<1>(&data_);
  }
  const E& error() const& noexcept {
    assert(!has_value());
    return *std::get_if<1>(&data_);
  }
  E&& error() && noexcept {
    assert(!has_value());
    return std::move(*std::get_if<1>(&data_));
  }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? **this : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, E> data_;
};

// Result<void, E>: success carries nothing.
template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Result() noexcept = default;
  template <typename G>
  // NOLINTNEXTLINE(google-explicit-constructor): implicit like std::expected.
  Result(Unexpected<G> error) : error_(std::move(error).error()), ok_(false) {}

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const E& error() const& noexcept {
    assert(!ok_);
    return error_;
  }

 private:
  E error_{};
  bool ok_ = true;
};

}  // namespace egressguard
