// libFuzzer target: rpz lists through load_list_text, Matcher::compile and lookup.
#include <cstddef>
#include <cstdint>

#include "list_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  egressguard::domains::fuzz::check_list(data, size, egressguard::domains::ListFormat::Rpz);
  return 0;
}
