// SPDX-License-Identifier: MIT
// The byte scan the parser's hot loop needs: the next line end or non-ASCII byte.
#ifndef SSE_CLIENT_DETAIL_SCAN_HPP
#define SSE_CLIENT_DETAIL_SCAN_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

namespace sse::detail {

inline unsigned count_trailing_zeros(std::uint32_t mask) noexcept {
  return static_cast<unsigned>(__builtin_ctz(mask));
}

/// Whether the parser must stop at this byte: CR or LF end a line, a byte >= 0x80 starts a
/// sequence the UTF-8 decoder has to check.
inline bool is_special_byte(char c) noexcept {
  return c == '\n' || c == '\r' || static_cast<unsigned char>(c) >= 0x80;
}

/// Index of the first CR, LF or byte >= 0x80 in [p + from, p + size), or `size` when there is
/// none. One pass finds both line ends and UTF-8 to validate, so the bytes are read once.
inline std::size_t find_special(const char* p, std::size_t from, std::size_t size) noexcept {
  std::size_t i = from;
#if defined(__SSE2__)
  constexpr std::size_t prefetch_distance = 1024;
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  // A lane is special when its top bit is set: compare results are 0xFF, and a byte >= 0x80
  // already has it, so OR-ing the byte in covers the non-ASCII case.
  const auto special = [&](std::size_t at) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
    return _mm_or_si128(v, _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
  };
  // 64 bytes a step while nothing is special: one branch per cache line keeps long data lines
  // near memory speed; the 16-byte loop below then finds the exact position.
  for (; i + 64 <= size; i += 64) {
    // Input not yet in cache (a large buffer rather than a fresh socket read) streams in
    // faster when asked for ahead.
    if (i + prefetch_distance < size) {
      _mm_prefetch(p + i + prefetch_distance, _MM_HINT_T0);
    }
    const __m128i any = _mm_or_si128(_mm_or_si128(special(i), special(i + 16)),
                                     _mm_or_si128(special(i + 32), special(i + 48)));
    if (_mm_movemask_epi8(any) != 0) {
      break;
    }
  }
  for (; i + 16 <= size; i += 16) {
    const int mask = _mm_movemask_epi8(special(i));
    if (mask != 0) {
      return i + count_trailing_zeros(static_cast<std::uint32_t>(mask));
    }
  }
#else
  // Eight bytes a step: a word has a zero byte iff (w - 0x01..) & ~w & 0x80.. is not zero.
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  const auto has_zero = [](std::uint64_t w) { return (w - ones) & ~w & highs; };
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, sizeof word);
    if ((has_zero(word ^ (ones * '\n')) | has_zero(word ^ (ones * '\r')) | (word & highs)) != 0) {
      break;
    }
  }
#endif
  for (; i < size; ++i) {
    if (is_special_byte(p[i])) {
      return i;
    }
  }
  return size;
}

} // namespace sse::detail
#endif // SSE_CLIENT_DETAIL_SCAN_HPP
