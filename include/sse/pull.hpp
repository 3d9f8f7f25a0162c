// SPDX-License-Identifier: MIT
// What pulling an event_stream returns (an event, a timeout, or the end), and its queue's bounds.
#ifndef SSE_CLIENT_PULL_HPP
#define SSE_CLIENT_PULL_HPP

#include <sse/error.hpp>
#include <sse/event.hpp>
#include <sse/state.hpp>
#include <sse/version.hpp>

#include <cstddef>
#include <optional>

SSE_CLIENT_BEGIN_NAMESPACE

/// The bounds of an `event_stream`'s queue. When either is reached the transfer is paused
/// (`client::pause()`); it resumes once the consumer has taken the queue below half of both.
struct pull_options {
  /// Events held for the consumer before the transfer is paused; at least 1.
  std::size_t max_queued_events = 1024;
  /// Bytes of events (data, type and id) held before the transfer is paused; at least 1.
  std::size_t max_queued_bytes = 8 * 1024 * 1024;
};

/// What `event_stream::next()` found.
enum class pull_status {
  event,     ///< an event: `pull_result::event`
  timed_out, ///< none within the timeout; the stream goes on
  ended,     ///< the stream has ended for good and every event was taken: see `reason`
};

/// The outcome of `event_stream::next()`: an event, a timeout, or the end and why.
struct pull_result {
  /// Which of the three it is.
  pull_status status = pull_status::timed_out;
  /// With `pull_status::event`: the event.
  sse::event event;
  /// With `pull_status::ended`: why the stream ended (`close_reason::closed` after `close()`).
  sse::close_reason reason = sse::close_reason::none;
  /// With `pull_status::ended`: the error that ended it (4xx, gave up, ...), if one did.
  std::optional<sse::error> error;

  /// True when it holds an event.
  explicit operator bool() const noexcept { return status == pull_status::event; }
  /// True when the stream has ended.
  bool ended() const noexcept { return status == pull_status::ended; }
  /// True when no event came within the timeout.
  bool timed_out() const noexcept { return status == pull_status::timed_out; }
};

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_PULL_HPP
