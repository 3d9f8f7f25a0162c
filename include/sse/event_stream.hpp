// SPDX-License-Identifier: MIT
// The pull interface: a stream read as "next event", through a bounded queue with backpressure.
#ifndef SSE_CLIENT_EVENT_STREAM_HPP
#define SSE_CLIENT_EVENT_STREAM_HPP

#include <sse/client.hpp>
#include <sse/detail/pull_state.hpp>
#include <sse/error.hpp>
#include <sse/event.hpp>
#include <sse/event_loop.hpp>
#include <sse/options.hpp>
#include <sse/pull.hpp>
#include <sse/state.hpp>
#include <sse/task.hpp>
#include <sse/version.hpp>

#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE

/// One server-sent event stream read by pulling: `next()` returns the next event (waiting, or
/// up to a timeout) or says why the stream ended, and range-for iterates over the events. No
/// callback is needed; it follows the stream across failures as `sse::client` does (it owns
/// one), every event exactly once, in order.
///
/// Backpressure: events wait in a bounded queue (`pull_options`). When the consumer falls behind
/// and the queue reaches either bound, the transfer is paused: the server's TCP window closes
/// and memory stays bounded (the queue may pass a bound by the events of the one chunk of bytes
/// being parsed, at most `receive_buffer_size`). It resumes when the consumer has taken the
/// queue below half of both bounds. Nothing is lost or duplicated, and the idle timeout does not
/// fire while the transfer is paused.
///
/// Threading: every member is safe from any thread. `next()` waits on the calling thread; on the
/// loop's own thread (inside a callback of any client on that loop) a call that would have to
/// wait throws std::logic_error instead. Use a loop in `background_thread` mode (the default):
/// with a `caller_thread` loop, pull on another thread than the one in `run()`. Iterators and
/// `next_async()` belong to the stream they came from: moving the stream invalidates them.
class event_stream {
public:
  /// One result's worth of the stream, for range-for: `for (const sse::event& e : stream)`.
  /// An input iterator: each increment pulls the next event (waiting as `next()` does); it
  /// equals `end()` once the stream has ended. `close_reason()` then says why.
  class iterator {
  public:
    using iterator_category = std::input_iterator_tag; ///< single pass
    using value_type = sse::event;                     ///< the events
    using difference_type = std::ptrdiff_t;            ///< unused, required
    using pointer = sse::event*;                       ///< to the current event
    using reference = sse::event&;                     ///< the current event, movable from

    /// The end iterator.
    iterator() = default;
    /// The current event, owned by the iterator until the next increment.
    reference operator*() const { return current_->event; }
    /// As `operator*`.
    pointer operator->() const { return &current_->event; }
    /// Pulls the next event; becomes the end iterator when the stream has ended.
    iterator& operator++() {
      advance();
      return *this;
    }
    /// As pre-increment (an input iterator's old value cannot be kept).
    void operator++(int) { advance(); }
    /// Equal when both are the end, or both iterate the same stream.
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.stream_ == b.stream_;
    }
    /// Not `a == b`.
    friend bool operator!=(const iterator& a, const iterator& b) noexcept { return !(a == b); }

  private:
    friend class event_stream;
    explicit iterator(event_stream* stream)
        : stream_(stream), current_(std::make_shared<pull_result>()) {
      advance();
    }
    void advance() {
      *current_ = stream_->next();
      if (current_->status != pull_status::event) {
        stream_ = nullptr;
      }
    }

    event_stream* stream_ = nullptr;
    std::shared_ptr<pull_result> current_; // shared by copies: one pass
  };

  /// Validates `options` and `pull` (throws `sse::usage_error` naming the field) and prepares
  /// the stream on the process-wide default loop. Nothing is sent before `start()`, or the first
  /// `next()`, `begin()` or `next_async()`, which start it.
  explicit event_stream(client_options options, pull_options pull = {})
      : state_(std::make_unique<detail::pull_state>(std::move(options), nullptr, pull)) {}

  /// As above, on `loop`, which must outlive this stream.
  event_stream(client_options options, event_loop& loop, pull_options pull = {})
      : state_(std::make_unique<detail::pull_state>(std::move(options), &loop, pull)) {}

  event_stream(const event_stream&) = delete;
  event_stream& operator=(const event_stream&) = delete;
  /// Takes over `other`'s stream; `other` is left moved-from (only destruction and assignment).
  event_stream(event_stream&&) noexcept = default;
  /// Closes this stream, then takes over `other`'s.
  event_stream& operator=(event_stream&&) noexcept = default;

  /// Closes the stream; afterwards none of its work runs. A coroutine still waiting in
  /// `next_async()` is resumed here, on this thread, with `ended` (`close_reason::closed`), and
  /// must not use the stream after that.
  ~event_stream() = default;

  /// Starts connecting (once; later calls do nothing). Optional: pulling starts it.
  void start() { live().client().start(); }

  /// The next event, waiting as long as it takes; or `ended` once the stream has ended for good
  /// and every event before the end was taken (then at once, every time). After `close()`,
  /// `ended` at once, with `close_reason::closed`: events still queued are dropped.
  pull_result next() { return live().pop(std::nullopt); }

  /// As `next()`, waiting at most `timeout` (zero: only what is there); `timed_out` when no event
  /// came meanwhile.
  pull_result next(std::chrono::milliseconds timeout) {
    return live().pop(std::chrono::steady_clock::now() + timeout);
  }

  /// Pulls the first event (waiting for it): range-for's start.
  iterator begin() { return iterator(this); }
  /// The end of range-for: reached when the stream has ended.
  iterator end() noexcept { return iterator(); }

  /// Ends the stream for good: a `next()` waiting on another thread returns `ended`
  /// (`close_reason::closed`) at once, and so does every later one. Returns without waiting for
  /// the network. Not async-signal-safe: from a signal, hand over to a normal thread
  /// (docs/shutdown.md).
  void close() noexcept {
    if (state_) {
      state_->close();
    }
  }

  /// Why the stream ended; `close_reason::none` while it has not (events may still be queued).
  sse::close_reason close_reason() const { return live().reason(); }
  /// The error that ended the stream (a 4xx, giving up, a one-shot stream cut), if one did.
  std::optional<sse::error> error() const { return live().final_error(); }
  /// The id of the last event `next()` (or an iterator, or `next_async()`) handed out: what to
  /// resume from. Before any, the options' `last_event_id`.
  std::string last_event_id() const { return live().last_event_id(); }

  /// The client underneath, for `stats()`, `ready_state()`, `on_error()` and the other
  /// callbacks. Its `pause()`, `resume()` and `close()` belong to this stream: do not call them.
  sse::client& client() { return live().client(); }

#ifdef SSE_CLIENT_HAS_COROUTINES
  /// C++20: `co_await stream.next_async()` gives the next `pull_result` (an event or `ended`,
  /// never `timed_out`). When nothing is there yet the coroutine is suspended and resumed on the
  /// loop's thread as the event or the end arrives: code after the `co_await` then runs there,
  /// as a callback does, so it should not block. One coroutine at a time may await a stream.
  class next_awaitable {
  public:
    /// True when a result is there already: no suspension.
    bool await_ready() { return state_->try_take(result_); }
    /// Waits for the loop; false when a result came meanwhile (no suspension).
    bool await_suspend(std::coroutine_handle<> handle) { return state_->suspend(handle, result_); }
    /// The result.
    pull_result await_resume() { return std::move(result_); }

  private:
    friend class event_stream;
    explicit next_awaitable(detail::pull_state& state) : state_(&state) {}
    detail::pull_state* state_;
    pull_result result_;
  };

  /// C++20: the next event or the end, for `co_await` (see `next_awaitable`).
  next_awaitable next_async() {
    return next_awaitable(live());
  }
#endif

private:
  detail::pull_state& live() const {
    if (!state_) {
      throw std::logic_error("sse::event_stream: used after it was moved from");
    }
    return *state_;
  }

  std::unique_ptr<detail::pull_state> state_;
};

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_EVENT_STREAM_HPP
