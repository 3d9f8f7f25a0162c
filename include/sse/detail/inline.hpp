// SPDX-License-Identifier: MIT
// SSE_CLIENT_ALWAYS_INLINE: for the few functions on the per-line path that the compiler must
// not leave as calls.
#ifndef SSE_CLIENT_DETAIL_INLINE_HPP
#define SSE_CLIENT_DETAIL_INLINE_HPP

// A call per line or per event, with its register saves, costs more than the work of these
// functions, and GCC stops inlining them once they have two call sites or at -O3's sizes.
#if defined(__GNUC__) || defined(__clang__)
#define SSE_CLIENT_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define SSE_CLIENT_ALWAYS_INLINE inline
#endif

#endif // SSE_CLIENT_DETAIL_INLINE_HPP
