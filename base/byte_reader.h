// ByteReader: bounds-checked big-endian reads over a ByteSpan. The first failed read sticks:
// later reads return 0 or an empty span, so a parser checks ok() once per group of fields
// instead of computing offsets by hand.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/byte_span.h"

namespace egressguard {

class ByteReader {
 public:
  constexpr ByteReader() noexcept = default;
  constexpr explicit ByteReader(ByteSpan data) noexcept : data_(data) {}

  constexpr bool ok() const noexcept { return ok_; }
  constexpr std::size_t remaining() const noexcept { return ok_ ? data_.size() - pos_ : 0; }
  constexpr bool empty() const noexcept { return remaining() == 0; }
  constexpr std::size_t position() const noexcept { return pos_; }
  // The bytes not read yet (empty after a failure).
  constexpr ByteSpan rest() const noexcept { return ok_ ? data_.subspan(pos_) : ByteSpan{}; }
  constexpr ByteSpan whole() const noexcept { return data_; }

  constexpr std::uint8_t u8() noexcept {
    if (!need(1)) {
      return 0;
    }
    return data_[pos_++];
  }
  constexpr std::uint16_t u16() noexcept {
    if (!need(2)) {
      return 0;
    }
    auto v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  constexpr std::uint32_t u24() noexcept {
    if (!need(3)) {
      return 0;
    }
    std::uint32_t v = (std::uint32_t{data_[pos_]} << 16) | (std::uint32_t{data_[pos_ + 1]} << 8) |
                      std::uint32_t{data_[pos_ + 2]};
    pos_ += 3;
    return v;
  }
  constexpr std::uint32_t u32() noexcept {
    if (!need(4)) {
      return 0;
    }
    std::uint32_t v = (std::uint32_t{data_[pos_]} << 24) | (std::uint32_t{data_[pos_ + 1]} << 16) |
                      (std::uint32_t{data_[pos_ + 2]} << 8) | std::uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return v;
  }
  constexpr std::uint64_t u64() noexcept {
    std::uint64_t hi = u32();
    std::uint64_t lo = u32();
    return (hi << 32) | lo;
  }
  // QUIC variable-length integer (RFC 9000 section 16).
  constexpr std::uint64_t varint() noexcept {
    if (!need(1)) {
      return 0;
    }
    const std::size_t len = std::size_t{1} << (data_[pos_] >> 6);
    if (!need(len)) {
      return 0;
    }
    std::uint64_t v = data_[pos_] & 0x3fU;
    for (std::size_t i = 1; i < len; ++i) {
      v = (v << 8) | data_[pos_ + i];
    }
    pos_ += len;
    return v;
  }
  // The next n bytes as a view; empty and failed when fewer remain.
  constexpr ByteSpan take(std::size_t n) noexcept {
    if (!need(n)) {
      return {};
    }
    ByteSpan out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  constexpr void skip(std::size_t n) noexcept { static_cast<void>(take(n)); }
  // Marks the reader failed, e.g. when a field's value is invalid.
  constexpr void set_failed() noexcept { ok_ = false; }

 private:
  constexpr bool need(std::size_t n) noexcept {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }

  ByteSpan data_{};
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace egressguard
