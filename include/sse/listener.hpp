// SPDX-License-Identifier: MIT
// What a client calls for each event, and the handle that removes a callback again.
#ifndef SSE_CLIENT_LISTENER_HPP
#define SSE_CLIENT_LISTENER_HPP

// error.hpp before the alias: GCC's -Wshadow takes errc::listener declared after it for a shadow.
#include <sse/error.hpp>
#include <sse/event.hpp>
#include <sse/version.hpp>

#include <cstdint>
#include <functional>

SSE_CLIENT_BEGIN_NAMESPACE

/// An event listener: called on the loop's thread with each event of its type. The reference
/// is valid during the call only.
using listener = std::function<void(const event&)>;

/// Returned by every `client::on...`; pass it to `client::off`.
enum class listener_id : std::uint64_t {};

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_LISTENER_HPP
