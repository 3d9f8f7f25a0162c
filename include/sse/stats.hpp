// SPDX-License-Identifier: MIT
// What a long-lived stream has done, for an operator's graphs: counters, time, the last error.
#ifndef SSE_CLIENT_STATS_HPP
#define SSE_CLIENT_STATS_HPP

#include <sse/error.hpp>
#include <sse/version.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

SSE_CLIENT_BEGIN_NAMESPACE

static_assert(static_cast<std::size_t>(errc::listener) < 10, "failures_by_code holds every errc");

/// A snapshot of a client's counters since it was built, from `client::stats()` on any thread.
struct client_stats {
  std::uint64_t events = 0;     ///< events dispatched to listeners
  std::uint64_t bytes = 0;      ///< body bytes received, all attempts
  std::uint64_t attempts = 0;   ///< connection attempts started
  std::uint64_t opens = 0;      ///< responses accepted as a stream (200, text/event-stream)
  std::uint64_t reconnects = 0; ///< reconnects scheduled after a failure or a lost stream
  std::uint64_t failures = 0;   ///< errors handed to `on_error`, of every kind
  bool paused = false;          ///< `client::pause()` is in effect (no `resume()` since)
  /// `failures` by kind, indexed by the `errc` value (index 0 is unused); see `failures_of`.
  std::array<std::uint64_t, 10> failures_by_code{};
  /// Time a stream was open (until the end for good, if it came).
  std::chrono::milliseconds connected{0};
  /// Time since `start()` without an open stream: connecting and waiting to reconnect.
  std::chrono::milliseconds disconnected{0};
  /// The last error handed to `on_error`; empty before any.
  std::optional<error> last_error;
  /// When `last_error` came (wall clock).
  std::optional<std::chrono::system_clock::time_point> last_error_time;

  /// The failures of one kind.
  std::uint64_t failures_of(errc code) const noexcept {
    const auto index = static_cast<std::size_t>(code);
    return index < failures_by_code.size() ? failures_by_code[index] : 0;
  }
};

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_STATS_HPP
