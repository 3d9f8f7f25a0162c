// SPDX-License-Identifier: MIT
// SSE_CLIENT_ALWAYS_INLINE: for the few functions on the per-line path that the compiler must
// not leave as calls. SSE_CLIENT_NOINLINE: for the rare branch of such a path, kept out of it so
// that the path itself needs no registers saved.
#ifndef SSE_CLIENT_DETAIL_INLINE_HPP
#define SSE_CLIENT_DETAIL_INLINE_HPP

// A call per line or per event, with its register saves, costs more than the work of these
// functions, and GCC stops inlining them once they have two call sites or at -O3's sizes.
#if defined(__GNUC__) || defined(__clang__)
#define SSE_CLIENT_ALWAYS_INLINE __attribute__((always_inline)) inline
#define SSE_CLIENT_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define SSE_CLIENT_ALWAYS_INLINE __forceinline
#define SSE_CLIENT_NOINLINE __declspec(noinline)
#else
#define SSE_CLIENT_ALWAYS_INLINE inline
#define SSE_CLIENT_NOINLINE
#endif

#endif // SSE_CLIENT_DETAIL_INLINE_HPP
