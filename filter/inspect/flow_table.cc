#include "filter/inspect/flow_table.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>

namespace egressguard::inspect {
namespace {

std::uint64_t load64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// A 64-bit finaliser (splitmix64 / Murmur3 fmix64 family).
std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

bool endpoint_less(const parse::IpAddress& x, std::uint16_t xp, const parse::IpAddress& y,
                   std::uint16_t yp) noexcept {
  if (x.family != y.family) {
    return x.family < y.family;
  }
  const int c = std::memcmp(x.bytes.data(), y.bytes.data(), x.bytes.size());
  if (c != 0) {
    return c < 0;
  }
  return xp < yp;
}

}  // namespace

FlowKey make_flow_key(const parse::IpAddress& src, std::uint16_t sport, const parse::IpAddress& dst,
                      std::uint16_t dport, std::uint8_t proto, bool& src_is_a) noexcept {
  FlowKey key;
  key.proto = proto;
  src_is_a = !endpoint_less(dst, dport, src, sport);
  if (src_is_a) {
    key.a = src;
    key.port_a = sport;
    key.b = dst;
    key.port_b = dport;
  } else {
    key.a = dst;
    key.port_a = dport;
    key.b = src;
    key.port_b = sport;
  }
  return key;
}

FlowTable::FlowTable(std::uint32_t max_flows, std::uint64_t seed)
    : max_flows_(std::max<std::uint32_t>(max_flows, 1)), seed_(seed) {
  std::uint32_t buckets = 16;
  while (buckets < max_flows_ && buckets < (1U << 31)) {
    buckets <<= 1;
  }
  mask_ = buckets - 1;
  buckets_.assign(buckets, kNoFlow);
  chunks_.reserve((max_flows_ + kChunkSize - 1) / kChunkSize);
}

std::uint32_t FlowTable::hash(const FlowKey& key) const noexcept {
  std::uint64_t h = seed_;
  h = mix(h ^ load64(key.a.bytes.data()));
  h = mix(h ^ load64(key.a.bytes.data() + 8));
  h = mix(h ^ load64(key.b.bytes.data()));
  h = mix(h ^ load64(key.b.bytes.data() + 8));
  h = mix(h ^ (std::uint64_t{key.port_a} << 32 | std::uint64_t{key.port_b} << 16 |
               std::uint64_t{key.proto} << 8 | key.a.family));
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

std::uint32_t FlowTable::find(const FlowKey& key, std::uint32_t hash) const noexcept {
  for (std::uint32_t i = buckets_[hash & mask_]; i != kNoFlow;) {
    const Flow& flow = at(i);
    if (flow.hash == hash && flow.key == key) {
      return i;
    }
    i = flow.hash_next;
  }
  return kNoFlow;
}

bool FlowTable::grow() noexcept {
  if (allocated_ >= max_flows_) {
    return false;
  }
  // Chunk k holds indices [k * kChunkSize, ...); only the last one may be shorter.
  const std::uint32_t count = std::min(kChunkSize, max_flows_ - allocated_);
  std::unique_ptr<Flow[]> chunk(new (std::nothrow) Flow[count]);
  if (!chunk) {
    return false;
  }
  chunks_.push_back(std::move(chunk));  // reserved in the constructor: no reallocation
  for (std::uint32_t i = count; i > 0; --i) {
    const std::uint32_t index = allocated_ + i - 1;
    at(index).hash_next = free_head_;
    free_head_ = index;
  }
  allocated_ += count;
  return true;
}

std::uint32_t FlowTable::insert(const FlowKey& key, std::uint32_t hash) noexcept {
  if (full() || (free_head_ == kNoFlow && !grow())) {
    return kNoFlow;
  }
  const std::uint32_t index = free_head_;
  Flow& flow = at(index);
  free_head_ = flow.hash_next;
  flow = Flow{};
  flow.key = key;
  flow.hash = hash;
  flow.in_use = true;
  std::uint32_t& bucket = buckets_[hash & mask_];
  flow.hash_next = bucket;
  bucket = index;
  lru_push_front(index);
  ++size_;
  return index;
}

void FlowTable::remove(std::uint32_t index) noexcept {
  Flow& flow = at(index);
  assert(flow.in_use);
  std::uint32_t* link = &buckets_[flow.hash & mask_];
  while (*link != index) {
    assert(*link != kNoFlow);
    link = &at(*link).hash_next;
  }
  *link = flow.hash_next;
  lru_unlink(index);
  flow.in_use = false;
  flow.hash_next = free_head_;
  free_head_ = index;
  --size_;
}

void FlowTable::touch(std::uint32_t index) noexcept {
  if (lru_head_ == index) {
    return;
  }
  lru_unlink(index);
  lru_push_front(index);
}

void FlowTable::lru_unlink(std::uint32_t index) noexcept {
  Flow& flow = at(index);
  if (flow.lru_prev != kNoFlow) {
    at(flow.lru_prev).lru_next = flow.lru_next;
  } else {
    lru_head_ = flow.lru_next;
  }
  if (flow.lru_next != kNoFlow) {
    at(flow.lru_next).lru_prev = flow.lru_prev;
  } else {
    lru_tail_ = flow.lru_prev;
  }
  flow.lru_prev = kNoFlow;
  flow.lru_next = kNoFlow;
}

void FlowTable::lru_push_front(std::uint32_t index) noexcept {
  Flow& flow = at(index);
  flow.lru_prev = kNoFlow;
  flow.lru_next = lru_head_;
  if (lru_head_ != kNoFlow) {
    at(lru_head_).lru_prev = index;
  }
  lru_head_ = index;
  if (lru_tail_ == kNoFlow) {
    lru_tail_ = index;
  }
}

std::uint64_t FlowTable::memory_bytes() const noexcept {
  return std::uint64_t{buckets_.size()} * sizeof(std::uint32_t) +
         std::uint64_t{allocated_} * sizeof(Flow);
}

}  // namespace egressguard::inspect
