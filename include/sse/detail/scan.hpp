// SPDX-License-Identifier: MIT
// Byte scans the parser's hot loop needs: the next line end, the next non-ASCII byte.
#ifndef SSE_CLIENT_DETAIL_SCAN_HPP
#define SSE_CLIENT_DETAIL_SCAN_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sse::detail {

inline unsigned count_trailing_zeros(std::uint32_t mask) noexcept {
  return static_cast<unsigned>(__builtin_ctz(mask));
}

/// Index of the first CR or LF in [p + from, p + size), or `size` when there is none.
inline std::size_t find_line_end(const char* p, std::size_t from, std::size_t size) noexcept {
  std::size_t i = from;
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  for (; i + 16 <= size; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
    if (mask != 0) {
      return i + count_trailing_zeros(static_cast<std::uint32_t>(mask));
    }
  }
#endif
  for (; i < size; ++i) {
    if (p[i] == '\n' || p[i] == '\r') {
      return i;
    }
  }
  return size;
}

/// Index of the first byte >= 0x80 in [p + from, p + size), or `size` when all are ASCII.
inline std::size_t find_non_ascii(const char* p, std::size_t from, std::size_t size) noexcept {
  std::size_t i = from;
#if defined(__SSE2__)
  for (; i + 16 <= size; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const int mask = _mm_movemask_epi8(v);
    if (mask != 0) {
      return i + count_trailing_zeros(static_cast<std::uint32_t>(mask));
    }
  }
#else
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, sizeof word);
    if ((word & 0x8080808080808080ULL) != 0) {
      break;
    }
  }
#endif
  for (; i < size; ++i) {
    if (static_cast<unsigned char>(p[i]) >= 0x80) {
      return i;
    }
  }
  return size;
}

} // namespace sse::detail
#endif // SSE_CLIENT_DETAIL_SCAN_HPP
