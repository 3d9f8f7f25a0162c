// SPDX-License-Identifier: MIT
// Umbrella header: every public sse-client header.
#ifndef SSE_CLIENT_SSE_HPP
#define SSE_CLIENT_SSE_HPP

#include <sse/error.hpp>
#include <sse/event.hpp>
#include <sse/parser.hpp>
#include <sse/version.hpp>

#endif // SSE_CLIENT_SSE_HPP
