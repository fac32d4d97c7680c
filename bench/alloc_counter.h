// Counts calls to the global operator new, so a benchmark can report allocs_per_iter
// (CONVENTIONS section 8). Link bench/alloc_counter.cc into the program.
#pragma once

#include <cstdint>

namespace egressguard::bench {

// Allocations made by this process so far (all threads).
std::uint64_t allocation_count() noexcept;
// Bytes asked of operator new so far (all threads).
std::uint64_t allocation_bytes() noexcept;

}  // namespace egressguard::bench
