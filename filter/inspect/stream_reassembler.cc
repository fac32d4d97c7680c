#include "filter/inspect/stream_reassembler.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>

namespace egressguard::inspect {
namespace {

// Buffers are allocated this many bytes at a time (rounded to whole buffers).
constexpr std::uint64_t kChunkBytes = std::uint64_t{1} << 20;

}  // namespace

ReassemblyPool::ReassemblyPool(std::uint32_t buffer_bytes, std::uint64_t memory_limit)
    : buffer_bytes_(std::max<std::uint32_t>(buffer_bytes, 1)) {
  const std::uint64_t block = block_bytes();
  capacity_ = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(memory_limit / block, std::uint64_t{kNoBuffer} - 1));
  chunk_buffers_ = static_cast<std::uint32_t>(std::max<std::uint64_t>(1, kChunkBytes / block));
  free_.reserve(capacity_);
}

std::uint8_t* ReassemblyPool::data(std::uint32_t id) const noexcept {
  return chunks_[id / chunk_buffers_].get() +
         static_cast<std::size_t>(id % chunk_buffers_) * buffer_bytes_;
}

bool ReassemblyPool::grow() noexcept {
  if (allocated_ >= capacity_) {
    return false;
  }
  const std::uint32_t count = std::min(chunk_buffers_, capacity_ - allocated_);
  try {
    // A whole chunk even when the last one is partial, so that data() stays a division.
    std::unique_ptr<std::uint8_t[]> chunk(
        new (std::nothrow) std::uint8_t[std::size_t{chunk_buffers_} * buffer_bytes_]);
    if (!chunk) {
      return false;
    }
    chunks_.push_back(std::move(chunk));
    states_.resize(std::size_t{allocated_} + count);
  } catch (const std::bad_alloc&) {
    return false;
  }
  // Hand out low ids first.
  for (std::uint32_t i = count; i > 0; --i) {
    free_.push_back(allocated_ + i - 1);
  }
  allocated_ += count;
  return true;
}

std::uint32_t ReassemblyPool::acquire() noexcept {
  if (free_.empty() && !grow()) {
    return kNoBuffer;
  }
  const std::uint32_t id = free_.back();
  free_.pop_back();
  states_[id] = ReassemblyState{};
  ++in_use_;
  return id;
}

void ReassemblyPool::release(std::uint32_t id) noexcept {
  assert(id < allocated_);
  assert(in_use_ > 0);
  --in_use_;
  free_.push_back(id);  // never reallocates: reserved to capacity_
}

ByteSpan ReassemblyPool::contiguous(std::uint32_t id) const noexcept {
  const ReassemblyState& s = states_[id];
  if (s.range_count == 0 || s.ranges[0].begin != 0) {
    return {};
  }
  return {data(id), s.ranges[0].end};
}

bool ReassemblyPool::has_hole(std::uint32_t id) const noexcept {
  const ReassemblyState& s = states_[id];
  return s.range_count > 1 || (s.range_count == 1 && s.ranges[0].begin != 0);
}

bool ReassemblyPool::full(std::uint32_t id) const noexcept {
  return contiguous(id).size() == buffer_bytes_;
}

WriteOutcome ReassemblyPool::write(std::uint32_t id, std::uint32_t offset,
                                   ByteSpan bytes) noexcept {
  WriteOutcome out;
  ReassemblyState& s = states_[id];
  // Signed distance from the window start, wrap-aware like TCP sequence numbers.
  std::int64_t start = static_cast<std::int32_t>(offset - s.base);
  if (start < 0) {
    const auto skip = static_cast<std::size_t>(
        std::min<std::int64_t>(-start, static_cast<std::int64_t>(bytes.size())));
    bytes = bytes.subspan(skip);
    start = 0;
    if (bytes.empty()) {
      out.duplicate = true;
      return out;
    }
    out.overlap = true;  // part of it was consumed already
  }
  if (bytes.empty()) {
    return out;
  }
  if (start >= buffer_bytes_) {
    out.truncated = true;
    return out;
  }
  const auto b = static_cast<std::uint32_t>(start);
  std::uint32_t e = b;
  if (bytes.size() > buffer_bytes_ - b) {
    out.truncated = true;
    e = buffer_bytes_;
  } else {
    e = b + static_cast<std::uint32_t>(bytes.size());
  }

  // Ranges that intersect or touch [b, e) merge with it.
  std::size_t first = 0;
  while (first < s.range_count && s.ranges[first].end < b) {
    ++first;
  }
  std::size_t last = first;  // one past the last touching range
  while (last < s.range_count && s.ranges[last].begin <= e) {
    ++last;
  }
  const std::size_t new_count = s.range_count - (last - first) + 1;
  if (new_count > kMaxPendingRanges) {
    out.refused = true;
    return out;
  }
  const std::uint32_t in_order_end =
      (s.range_count > 0 && s.ranges[0].begin == 0) ? s.ranges[0].end : 0;
  out.out_of_order = b > in_order_end;

  std::uint8_t* buf = data(id);
  const std::uint8_t* src = bytes.data();
  std::uint32_t pos = b;
  bool overlapped = out.overlap;
  for (std::size_t i = first; i < last; ++i) {
    const ByteRange r = s.ranges[i];
    const std::uint32_t ov_b = std::max(r.begin, b);
    const std::uint32_t ov_e = std::min(r.end, e);
    if (ov_b >= ov_e) {
      continue;  // only adjacent
    }
    if (ov_b > pos) {
      std::memcpy(buf + pos, src + (pos - b), ov_b - pos);
      out.added = true;
    }
    overlapped = true;
    if (std::memcmp(buf + ov_b, src + (ov_b - b), ov_e - ov_b) != 0) {
      out.conflict = true;  // first wins: keep what is stored
    }
    pos = ov_e;
  }
  if (pos < e) {
    std::memcpy(buf + pos, src + (pos - b), e - pos);
    out.added = true;
  }
  out.duplicate = !out.added;
  out.overlap = out.conflict || (overlapped && out.added);

  ByteRange merged{b, e};
  if (first < last) {
    merged.begin = std::min(merged.begin, s.ranges[first].begin);
    merged.end = std::max(merged.end, s.ranges[last - 1].end);
  }
  // Replace ranges [first, last) by `merged`.
  const std::size_t removed = last - first;
  if (removed == 0) {
    for (std::size_t i = s.range_count; i > first; --i) {
      s.ranges[i] = s.ranges[i - 1];
    }
  } else if (removed > 1) {
    for (std::size_t i = last; i < s.range_count; ++i) {
      s.ranges[i - removed + 1] = s.ranges[i];
    }
  }
  s.ranges[first] = merged;
  s.range_count = static_cast<std::uint8_t>(new_count);
  if (out.added) {
    ++s.writes;
  }
  return out;
}

void ReassemblyPool::consume(std::uint32_t id, std::uint32_t n) noexcept {
  ReassemblyState& s = states_[id];
  assert(n <= contiguous(id).size());
  if (n == 0) {
    return;
  }
  const std::uint32_t used_end = s.ranges[s.range_count - 1].end;
  std::uint8_t* buf = data(id);
  std::memmove(buf, buf + n, used_end - n);
  s.base += n;
  std::size_t out = 0;
  for (std::size_t i = 0; i < s.range_count; ++i) {
    ByteRange r = s.ranges[i];
    r.begin = r.begin > n ? r.begin - n : 0;
    r.end -= n;
    if (r.end > r.begin) {
      s.ranges[out++] = r;
    }
  }
  s.range_count = static_cast<std::uint8_t>(out);
}

}  // namespace egressguard::inspect
