// SPDX-License-Identifier: MIT
// Header-only (the default) or compiled mode: what the public headers define, and how.
#ifndef SSE_CLIENT_DETAIL_CONFIG_HPP
#define SSE_CLIENT_DETAIL_CONFIG_HPP

#include <sse/version.hpp>

// Compiled mode: with SSE_CLIENT_SEPARATE_COMPILATION defined in every file of a program, the
// headers of the client, the loop and the cookie jar declare their classes without defining
// their members (so they need neither libcurl's header nor the loop's and the stream's
// internals), and src/sse_client.cpp, compiled once (or the sse_client::compiled CMake target),
// defines them. That file defines SSE_CLIENT_SOURCE, for which the headers define everything.

/// 1 where the headers only declare what src/sse_client.cpp defines, else 0.
#if defined(SSE_CLIENT_SEPARATE_COMPILATION) && !defined(SSE_CLIENT_SOURCE)
#define SSE_CLIENT_DECLARATIONS_ONLY 1
#else
#define SSE_CLIENT_DECLARATIONS_ONLY 0
#endif

/// Marks a definition that the headers give in header-only mode (inline) and
/// src/sse_client.cpp in compiled mode (not inline).
#if defined(SSE_CLIENT_SEPARATE_COMPILATION)
#define SSE_CLIENT_DECL
#else
#define SSE_CLIENT_DECL inline
#endif

#endif // SSE_CLIENT_DETAIL_CONFIG_HPP
