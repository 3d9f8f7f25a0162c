// SPDX-License-Identifier: MIT
// What the compiler and the processor offer the parser: which SIMD classifiers are built, the
// instruction set a translation unit is compiled for (as a type, so that code built for one
// never shares a symbol with code built for another), bit scans and the AVX2 check.
#ifndef SSE_CLIENT_DETAIL_ISA_HPP
#define SSE_CLIENT_DETAIL_ISA_HPP

#include <sse/detail/inline.hpp>

#include <cstdint>

#if defined(_MSC_VER) && !defined(__clang__) && (defined(_M_X64) || defined(_M_ARM64))
#include <intrin.h>
#endif

// SSE_CLIENT_NO_SIMD: plain C++ everywhere, as on a processor without SSE2 (the tests build the
// parser so, to run the portable path on x86). SSE_CLIENT_NO_AVX2: SSE2 but not AVX2.
//
// SSE_CLIENT_SSE2: the SSE2 classifier is built (x86-64, or x86 with SSE2 enabled).
#if !defined(SSE_CLIENT_NO_SIMD) &&                                                                \
    (defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2))
#define SSE_CLIENT_SSE2 1
#endif
// SSE_CLIENT_AVX2: the AVX2 classifier is built, either because the translation unit is
// compiled for AVX2 as a whole, or for a choice at run time (SSE_CLIENT_AVX2_AT_RUN_TIME: x86-64
// with GCC or Clang, whose target attribute compiles one function for AVX2; MSVC has no such
// attribute, so there AVX2 takes /arch:AVX2).
#if defined(SSE_CLIENT_SSE2) && !defined(SSE_CLIENT_NO_AVX2)
#if defined(__AVX2__)
#define SSE_CLIENT_AVX2 1
#elif defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(_MSC_VER)
#define SSE_CLIENT_AVX2 1
#define SSE_CLIENT_AVX2_AT_RUN_TIME 1
#endif
#endif
// For a function compiled for AVX2 as a whole, and BMI1, which every AVX2 processor has.
#if defined(SSE_CLIENT_AVX2_AT_RUN_TIME)
#define SSE_CLIENT_AVX2_TARGET __attribute__((target("avx2,bmi")))
#else
#define SSE_CLIENT_AVX2_TARGET
#endif

// SSE_CLIENT_ISA_FEATURES: one bit per instruction set extension the compiler may use anywhere in
// this translation unit (it says so by these macros), and one per parser path chosen by macro.
// Two translation units of one program may be compiled with different flags; each inline
// function of the parser's path takes isa<SSE_CLIENT_ISA_FEATURES> as a template argument, so
// each gets copies of its own, and the linker, which keeps one copy of an inline function, can
// never hand code built for AVX2 to a caller built for the baseline.
#define SSE_CLIENT_ISA_BIT(macro_defined, bit) ((macro_defined) ? (1UL << (bit)) : 0UL)
#if defined(__SSE3__)
#define SSE_CLIENT_ISA_SSE3 1
#else
#define SSE_CLIENT_ISA_SSE3 0
#endif
#if defined(__SSSE3__)
#define SSE_CLIENT_ISA_SSSE3 1
#else
#define SSE_CLIENT_ISA_SSSE3 0
#endif
#if defined(__SSE4_1__)
#define SSE_CLIENT_ISA_SSE4_1 1
#else
#define SSE_CLIENT_ISA_SSE4_1 0
#endif
#if defined(__SSE4_2__)
#define SSE_CLIENT_ISA_SSE4_2 1
#else
#define SSE_CLIENT_ISA_SSE4_2 0
#endif
#if defined(__AVX__)
#define SSE_CLIENT_ISA_AVX 1
#else
#define SSE_CLIENT_ISA_AVX 0
#endif
#if defined(__AVX2__)
#define SSE_CLIENT_ISA_AVX2 1
#else
#define SSE_CLIENT_ISA_AVX2 0
#endif
#if defined(__BMI__) || defined(__BMI2__) || defined(__LZCNT__) || defined(__POPCNT__)
#define SSE_CLIENT_ISA_BITS 1
#else
#define SSE_CLIENT_ISA_BITS 0
#endif
#if defined(__AVX512F__)
#define SSE_CLIENT_ISA_AVX512 1
#else
#define SSE_CLIENT_ISA_AVX512 0
#endif
#if defined(__ARM_FEATURE_SVE)
#define SSE_CLIENT_ISA_SVE 1
#else
#define SSE_CLIENT_ISA_SVE 0
#endif
#if defined(SSE_CLIENT_SSE2)
#define SSE_CLIENT_ISA_PATH_SSE2 1
#else
#define SSE_CLIENT_ISA_PATH_SSE2 0
#endif
#if defined(SSE_CLIENT_AVX2)
#define SSE_CLIENT_ISA_PATH_AVX2 1
#else
#define SSE_CLIENT_ISA_PATH_AVX2 0
#endif
#define SSE_CLIENT_ISA_FEATURES                                                                    \
  (SSE_CLIENT_ISA_BIT(SSE_CLIENT_ISA_SSE3, 0) | SSE_CLIENT_ISA_BIT(SSE_CLIENT_ISA_SSSE3, 1) |      \
   SSE_CLIENT_ISA_BIT(SSE_CLIENT_ISA_SSE4_1, 2) | SSE_CLIENT_ISA_BIT(SSE_CLIENT_ISA_SSE4_2, 3) |   \
   SSE_CLIENT_ISA_BIT(SSE_CLIENT_ISA_AVX, 4) | SSE_CLIENT_ISA_BIT(SSE_CLIENT_ISA_AVX2, 5) |        \
   SSE_CLIENT_ISA_BIT(SSE_CLIENT_ISA_BITS, 6) | SSE_CLIENT_ISA_BIT(SSE_CLIENT_ISA_AVX512, 7) |     \
   SSE_CLIENT_ISA_BIT(SSE_CLIENT_ISA_SVE, 8) | SSE_CLIENT_ISA_BIT(SSE_CLIENT_ISA_PATH_SSE2, 16) |  \
   SSE_CLIENT_ISA_BIT(SSE_CLIENT_ISA_PATH_AVX2, 17))

// Branch hints for the parser's hot loop; no-ops where the compiler has none.
#if defined(__GNUC__) || defined(__clang__)
#define SSE_CLIENT_LIKELY(condition) __builtin_expect(static_cast<bool>(condition), 1)
#define SSE_CLIENT_UNLIKELY(condition) __builtin_expect(static_cast<bool>(condition), 0)
#else
#define SSE_CLIENT_LIKELY(condition) static_cast<bool>(condition)
#define SSE_CLIENT_UNLIKELY(condition) static_cast<bool>(condition)
#endif

namespace sse::detail {

/// Names the instruction sets a translation unit is compiled for (SSE_CLIENT_ISA_FEATURES).
template <unsigned long Features>
struct isa {};

/// This translation unit's instruction sets: the default template argument of the parser's path.
using compiled_isa = isa<SSE_CLIENT_ISA_FEATURES>;

/// The index of the lowest set bit of `mask` != 0, in plain C++: six halvings.
constexpr unsigned count_trailing_zeros_portable(std::uint64_t mask) noexcept {
  unsigned n = 0;
  if ((mask & 0xFFFFFFFFU) == 0) {
    n += 32;
    mask >>= 32;
  }
  if ((mask & 0xFFFFU) == 0) {
    n += 16;
    mask >>= 16;
  }
  if ((mask & 0xFFU) == 0) {
    n += 8;
    mask >>= 8;
  }
  if ((mask & 0xFU) == 0) {
    n += 4;
    mask >>= 4;
  }
  if ((mask & 0x3U) == 0) {
    n += 2;
    mask >>= 2;
  }
  return n + ((mask & 1U) == 0 ? 1 : 0);
}

/// The index of the lowest set bit of `mask` != 0: one instruction where the compiler has one.
template <typename Isa = compiled_isa>
SSE_CLIENT_ALWAYS_INLINE unsigned count_trailing_zeros(std::uint64_t mask) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  return static_cast<unsigned>(__builtin_ctzll(mask));
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_ARM64))
  unsigned long index = 0;
  _BitScanForward64(&index, mask);
  return static_cast<unsigned>(index);
#else
  return count_trailing_zeros_portable(mask);
#endif
}

/// Whether this processor runs the AVX2 classifier: asked once where it is chosen at run time
/// (AVX2, and BMI1 with it, as every AVX2 processor has), known where the translation unit is
/// compiled for AVX2, false where it is not built.
template <typename Isa = compiled_isa>
inline bool has_avx2() noexcept {
#if defined(SSE_CLIENT_AVX2_AT_RUN_TIME)
  static const bool has = __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("bmi") != 0;
  return has;
#elif defined(SSE_CLIENT_AVX2)
  return true;
#else
  return false;
#endif
}

} // namespace sse::detail
#endif // SSE_CLIENT_DETAIL_ISA_HPP
