// SPDX-License-Identifier: MIT
// Umbrella header: every public sse-client header.
#ifndef SSE_CLIENT_SSE_HPP
#define SSE_CLIENT_SSE_HPP

#include <sse/client.hpp>
#include <sse/cookie_jar.hpp>
#include <sse/error.hpp>
#include <sse/event.hpp>
#include <sse/event_loop.hpp>
#include <sse/event_stream.hpp>
#include <sse/limits.hpp>
#include <sse/listener.hpp>
#include <sse/options.hpp>
#include <sse/parser.hpp>
#include <sse/pull.hpp>
#include <sse/reconnect_policy.hpp>
#include <sse/state.hpp>
#include <sse/stats.hpp>
#include <sse/task.hpp>
#include <sse/version.hpp>

#endif // SSE_CLIENT_SSE_HPP
