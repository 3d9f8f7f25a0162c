// SPDX-License-Identifier: MIT
// The file of the mixed program compiled for x86-64-v3 (AVX2, BMI2): its inline functions are
// AVX2 code, and it is linked first, so that the linker keeps its copy of any inline function
// the two files share.
#include <sse/sse.hpp>

#include <cstddef>
#include <string_view>

extern "C" std::size_t sse_isa_avx2_feed(sse::parser& p, std::string_view bytes) {
  const std::error_code failure = p.feed(bytes);
  p.reset();
  return failure ? 0 : bytes.size();
}
