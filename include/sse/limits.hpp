// SPDX-License-Identifier: MIT
// Default bounds shared by the parser and the client options, apart so options need no parser.
#ifndef SSE_CLIENT_LIMITS_HPP
#define SSE_CLIENT_LIMITS_HPP

#include <sse/version.hpp>

#include <cstddef>

SSE_CLIENT_BEGIN_NAMESPACE

/// Default bound on one line and on one event's data: beyond it the stream fails with too_large.
constexpr std::size_t default_max_event_size = std::size_t{32} << 20;

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_LIMITS_HPP
