// SPDX-License-Identifier: MIT
// The byte scan the parser's hot loop needs: each line end or non-ASCII byte of a chunk in turn.
#ifndef SSE_CLIENT_DETAIL_SCAN_HPP
#define SSE_CLIENT_DETAIL_SCAN_HPP

#include <sse/detail/inline.hpp>
#include <sse/detail/isa.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(SSE_CLIENT_SSE2)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif
// x86-64: an AVX2 classifier, chosen at run time when the processor has it (GCC and Clang), so
// that a default build (SSE2 only) gets it too. Defining SSE_CLIENT_NO_AVX2 leaves it out (the
// tests build the single header so, to run the SSE2 paths on an AVX2 machine), and
// SSE_CLIENT_NO_SIMD leaves out SSE2 too (see isa.hpp). Each function below takes the
// translation unit's instruction sets as a template argument (see isa.hpp), defaulted.
#if defined(SSE_CLIENT_AVX2)
#include <immintrin.h>
#endif

namespace sse::detail {

/// Whether the parser must stop at this byte: CR or LF end a line, a byte >= 0x80 starts a
/// sequence the UTF-8 decoder has to check, and NUL makes an `id` line void.
inline bool is_special_byte(char c) noexcept {
  return c == '\n' || c == '\r' || c == '\0' || static_cast<unsigned char>(c) >= 0x80;
}

/// Bit k set: byte k of the `size` <= 64 at `p` is special. The reference the others match.
template <typename Isa = compiled_isa>
inline std::uint64_t special_mask_portable(const char* p, std::size_t size) noexcept {
  std::uint64_t mask = 0;
  for (std::size_t k = 0; k < size; ++k) {
    mask |= static_cast<std::uint64_t>(is_special_byte(p[k])) << k;
  }
  return mask;
}

/// The same for the 64 bytes at `p`, 8 at a time in plain C++ (SIMD within a register): for a
/// processor without SSE2, or with SSE_CLIENT_NO_SIMD.
template <typename Isa = compiled_isa>
inline std::uint64_t special_mask_words(const char* p) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101U;
  constexpr std::uint64_t low7 = ones * 0x7F;
  constexpr std::uint64_t high = ones * 0x80;
  // Bit 7 of each byte set where the byte is 0: the sum sets it for the nonzero low 7 bits and
  // never carries into the next byte (0x7F + 0x7F < 0x100).
  const auto zero_bytes = [](std::uint64_t x) { return ~(((x & low7) + low7) | x) & high; };
  std::uint64_t mask = 0;
  for (unsigned word = 0; word < 8; ++word) {
    // Byte k of the word is p[k], whatever the byte order (compilers make this one load).
    std::uint64_t x = 0;
    for (unsigned k = 0; k < 8; ++k) {
      x |= std::uint64_t{static_cast<unsigned char>(p[word * 8 + k])} << (8 * k);
    }
    // A byte >= 0x80 has bit 7 already.
    const std::uint64_t special =
        (x | zero_bytes(x) | zero_bytes(x ^ (ones * '\n')) | zero_bytes(x ^ (ones * '\r'))) & high;
    // Bit 7 of byte k to bit 56 + k: the multiplier's terms never meet, so nothing carries.
    mask |= ((special * 0x0002040810204081U) >> 56) << (word * 8);
  }
  return mask;
}

#if defined(SSE_CLIENT_SSE2)
/// The same for the 64 bytes at `p`, 16 at a time.
template <typename Isa = compiled_isa>
inline std::uint64_t special_mask_sse2(const char* p) noexcept {
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i nul = _mm_setzero_si128();
  // A lane is special when its top bit is set: compare results are 0xFF, and a byte >= 0x80
  // already has it, so OR-ing the byte in covers the non-ASCII case.
  const auto special = [&](std::size_t at) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
    const __m128i ends = _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr));
    return _mm_or_si128(_mm_or_si128(v, ends), _mm_cmpeq_epi8(v, nul));
  };
  const __m128i s0 = special(0);
  const __m128i s1 = special(16);
  const __m128i s2 = special(32);
  const __m128i s3 = special(48);
  // Long data lines: one test per block while nothing is special.
  if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(s0, s1), _mm_or_si128(s2, s3))) == 0) {
    return 0;
  }
  const auto bits = [](__m128i s) {
    return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(s)));
  };
  return bits(s0) | bits(s1) << 16 | bits(s2) << 32 | bits(s3) << 48;
}
#endif

#if defined(SSE_CLIENT_AVX2)
/// The same for the 64 bytes at `p`, 32 at a time, with one table lookup per 32 in place of
/// three comparisons: a byte below 0x80 is CR, LF or NUL exactly when it equals the table's
/// entry for its low four bits (an entry no other byte has, 0xFF, for the other 13). A byte
/// >= 0x80 looks up 0 and is caught by its own top bit, as in SSE2.
template <typename Isa = compiled_isa>
SSE_CLIENT_AVX2_TARGET inline std::uint64_t special_mask_avx2(const char* p) noexcept {
  constexpr char none = static_cast<char>(0xFF);
  const __m256i ends = _mm256_setr_epi8(               //
      '\0', none, none, none, none, none, none, none,  //
      none, none, '\n', none, none, '\r', none, none,  //
      '\0', none, none, none, none, none, none, none,  //
      none, none, '\n', none, none, '\r', none, none); //
  const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
  const __m256i s0 = _mm256_or_si256(v0, _mm256_cmpeq_epi8(_mm256_shuffle_epi8(ends, v0), v0));
  const __m256i s1 = _mm256_or_si256(v1, _mm256_cmpeq_epi8(_mm256_shuffle_epi8(ends, v1), v1));
  const auto low = static_cast<std::uint32_t>(_mm256_movemask_epi8(s0));
  const auto high = static_cast<std::uint32_t>(_mm256_movemask_epi8(s1));
  return static_cast<std::uint64_t>(low) | static_cast<std::uint64_t>(high) << 32;
}
#endif

/// The special bytes of the 64 bytes at `p`, with the AVX2 classifier or without: inline, for
/// code compiled for AVX2 as a whole when `Avx2`.
template <typename Isa, bool Avx2>
SSE_CLIENT_ALWAYS_INLINE std::uint64_t special_mask(const char* p) noexcept {
#if defined(SSE_CLIENT_AVX2)
  if constexpr (Avx2) {
    return special_mask_avx2<Isa>(p);
  }
#endif
#if defined(SSE_CLIENT_SSE2)
  return special_mask_sse2<Isa>(p);
#else
  return special_mask_words<Isa>(p);
#endif
}

/// Yields the special bytes (CR, LF, NUL, >= 0x80) of one chunk in order. A 64-byte block is
/// classified once into a bit mask, so a chunk of short lines costs one pass over its bytes
/// rather than one search per line; a block with nothing special costs one branch.
template <typename Isa = compiled_isa>
class special_scanner {
public:
  /// `avx2`: classify with AVX2 (only where has_avx2(); tests force either way).
  special_scanner(const char* p, std::size_t size, bool avx2 = has_avx2<Isa>()) noexcept
      : p_(p), size_(size), avx2_(avx2) {}

  /// Index of the first special byte not yet consumed, or the chunk's size when there is none.
  std::size_t next() noexcept {
    if (mask_ == 0 && !find_block()) {
      return size_;
    }
    return block_ + count_trailing_zeros<Isa>(mask_);
  }

  /// Consumes the special byte next() returned.
  void pop() noexcept { mask_ &= mask_ - 1; }

  /// Consumes the bytes before `from`, which lies past the byte next() returned last.
  void skip_to(std::size_t from) noexcept {
    if (from - block_ < next_block_ - block_) {
      mask_ &= ~std::uint64_t{0} << (from - block_); // inside the block held
    } else {
      block_ = next_block_ = from; // no block held: the next one starts there
      mask_ = 0;
    }
  }

private:
  static constexpr std::size_t block_size = 64;
  // Input not yet in cache (a large buffer rather than a fresh socket read) streams in faster
  // when asked for ahead.
  static constexpr std::size_t prefetch_distance = 1024;

  // Classifies blocks from next_block_ on until one has a special byte; false at the end. The
  // position is kept in a local while blocks come back empty, as they do inside long lines.
  bool find_block() noexcept {
    for (std::size_t from = next_block_; from < size_; from += block_size) {
      const std::uint64_t mask = size_ - from >= block_size
                                     ? block_mask(p_ + from, from + prefetch_distance < size_)
                                     : tail_mask(p_ + from, size_ - from);
      if (mask != 0) {
        block_ = from;
        next_block_ = from + block_size;
        mask_ = mask;
        return true;
      }
    }
    block_ = next_block_ = size_;
    return false;
  }

  std::uint64_t block_mask(const char* p, [[maybe_unused]] bool prefetch) const noexcept {
#if defined(SSE_CLIENT_SSE2)
    if (prefetch) {
      _mm_prefetch(p + prefetch_distance, _MM_HINT_T0);
    }
#endif
    return classify(p);
  }

  std::uint64_t classify(const char* p) const noexcept {
#if defined(SSE_CLIENT_AVX2)
    if (avx2_) {
      return special_mask_avx2<Isa>(p);
    }
#endif
    return special_mask<Isa, false>(p);
  }

  // The last `size` < 64 bytes of the chunk, classified without reading past them.
  std::uint64_t tail_mask(const char* p, std::size_t size) const noexcept {
    char padded[block_size];
    std::memset(padded, 'a', block_size); // an ordinary byte
    std::memcpy(padded, p, size);
    return classify(padded);
  }

  const char* p_;
  std::size_t size_;
  bool avx2_;
  // The block held is [block_, next_block_): 64 bytes, or none when the two are equal.
  std::size_t block_ = 0;
  std::size_t next_block_ = 0;
  std::uint64_t mask_ = 0; // the special bytes of the block held not yet consumed
};

} // namespace sse::detail
#endif // SSE_CLIENT_DETAIL_SCAN_HPP
