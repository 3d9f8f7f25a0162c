// SPDX-License-Identifier: MIT
// The pull interface: a stream read as "next event", through a bounded queue with backpressure.
#ifndef SSE_CLIENT_EVENT_STREAM_HPP
#define SSE_CLIENT_EVENT_STREAM_HPP

#include <sse/client.hpp>
#include <sse/error.hpp>
#include <sse/event.hpp>
#include <sse/event_loop.hpp>
#include <sse/options.hpp>
#include <sse/state.hpp>
#include <sse/task.hpp>
#include <sse/version.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

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

namespace detail {

// An event_stream's queue and the client that fills it. The client's listeners point here: the
// destructor stops the client before anything else goes.
class pull_state {
public:
  using clock = std::chrono::steady_clock;

  pull_state(client_options options, event_loop* loop, const pull_options& pull)
      : bounds_(checked(pull)), client_(loop != nullptr ? sse::client(std::move(options), *loop)
                                                        : sse::client(std::move(options))),
        loop_(loop != nullptr ? loop->core() : event_loop::default_loop().core()) {
    last_event_id_ = client_.last_event_id();
    client_.on_any([this](const event& e) { push(e); });
    client_.on_error([this](const error& e) {
      if (!e.will_retry) {
        std::lock_guard<std::mutex> lock(mutex_);
        final_error_ = e;
      }
    });
    client_.on_close([this](close_reason reason) { end(reason); });
  }
  pull_state(const pull_state&) = delete;
  pull_state& operator=(const pull_state&) = delete;

  // Stops the client first: afterwards no listener runs, so a waiting coroutine is ours alone.
  ~pull_state() {
    { sse::client gone(std::move(client_)); }
#ifdef SSE_CLIENT_HAS_COROUTINES
    if (waiter_.handle) {
      *waiter_.result = ended_result(close_reason::closed);
      take_waiter().resume();
    }
#endif
  }

  sse::client& client() noexcept {
    return client_;
  }

  // ---- the consumer: any thread ----

  pull_result pop(std::optional<clock::time_point> deadline) {
    client_.start();
    std::unique_lock<std::mutex> lock(mutex_);
    const auto ready = [this] { return !queue_.empty() || end_reason_ != close_reason::none; };
    if (!ready() && (!deadline || *deadline > clock::now()) && on_loop_thread(*loop_)) {
      throw std::logic_error("sse::event_stream: next() would wait on the loop's thread (from a "
                             "callback or a coroutine), where no event can come meanwhile");
    }
    ++waiting_;
    if (!deadline) {
      ready_cv_.wait(lock, ready);
    } else {
      ready_cv_.wait_until(lock, *deadline, ready);
    }
    --waiting_;
    pull_result result;
    take(result);
    return result;
  }

  void close() noexcept {
    client_.close();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
      if (end_reason_ == close_reason::none) {
        end_reason_ = close_reason::closed;
      }
      queue_.clear(); // close() means no more events: none is handed out after it
      queued_bytes_ = 0;
    }
    ready_cv_.notify_all();
    // A waiting coroutine is resumed by the client's on_close, on the loop thread.
  }

  close_reason reason() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return end_reason_;
  }
  std::optional<error> final_error() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return final_error_;
  }
  std::string last_event_id() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_event_id_;
  }

#ifdef SSE_CLIENT_HAS_COROUTINES
  // The awaitable's parts. ready(): takes what is there without waiting. suspend(): the same
  // under the same lock (an event may have come since), else `handle` waits for the loop.
  bool try_take(pull_result& out) {
    client_.start();
    std::lock_guard<std::mutex> lock(mutex_);
    return take_if_ready(out);
  }

  bool suspend(std::coroutine_handle<> handle, pull_result& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (take_if_ready(out)) {
      return false; // go on at once
    }
    if (waiter_.handle) {
      throw std::logic_error("sse::event_stream: next_async() awaited by two coroutines at once");
    }
    waiter_ = {handle, &out};
    return true;
  }
#endif

private:
  static pull_options checked(const pull_options& pull) {
    if (pull.max_queued_events == 0) {
      throw usage_error("pull_options.max_queued_events: must be at least 1, got 0");
    }
    if (pull.max_queued_bytes == 0) {
      throw usage_error("pull_options.max_queued_bytes: must be at least 1, got 0");
    }
    return pull;
  }

  static std::size_t size_of(const event& e) noexcept {
    return e.data.size() + e.type.size() + e.id.size();
  }

  pull_result ended_result(close_reason reason) const {
    pull_result result;
    result.status = pull_status::ended;
    result.reason = reason;
    if (reason != close_reason::closed) {
      result.error = final_error_;
    }
    return result;
  }

  // Under mutex_: the next event, else the end, else nothing (timed out).
  void take(pull_result& out) {
    if (!take_if_ready(out)) {
      out.status = pull_status::timed_out;
    }
  }

  bool take_if_ready(pull_result& out) {
    if (!queue_.empty()) {
      out.status = pull_status::event;
      out.event = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= size_of(out.event);
      last_event_id_ = out.event.id;
      // Caught up to half of both bounds: the loop reads again (resume() posts to it, taking
      // no lock of ours; should it throw, the next event taken tries again).
      if (paused_ && queue_.size() <= bounds_.max_queued_events / 2 &&
          queued_bytes_ <= bounds_.max_queued_bytes / 2) {
        client_.resume();
        paused_ = false;
      }
      return true;
    }
    if (end_reason_ != close_reason::none) {
      out = ended_result(end_reason_);
      return true;
    }
    return false;
  }

  // ---- the client's listeners: loop thread ----

  void push(const event& e) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (closed_) {
      return;
    }
#ifdef SSE_CLIENT_HAS_COROUTINES
    if (waiter_.handle) { // it waits only while the queue is empty: hand the event over
      waiter_.result->status = pull_status::event;
      waiter_.result->event = e;
      last_event_id_ = e.id;
      const std::coroutine_handle<> handle = take_waiter();
      lock.unlock();
      handle.resume(); // it may destroy the event_stream: nothing of `this` after this
      return;
    }
#endif
    queue_.push_back(e);
    queued_bytes_ += size_of(e);
    // The pause comes under the lock, so a consumer that has just caught up cannot resume
    // before it; pause() is an atomic store. Events of the chunk being parsed still come.
    if (!paused_ &&
        (queue_.size() >= bounds_.max_queued_events || queued_bytes_ >= bounds_.max_queued_bytes)) {
      paused_ = true;
      client_.pause();
    }
    const bool wake = waiting_ != 0;
    lock.unlock();
    if (wake) {
      ready_cv_.notify_one();
    }
  }

  void end(close_reason reason) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (end_reason_ == close_reason::none) {
      end_reason_ = reason;
    }
#ifdef SSE_CLIENT_HAS_COROUTINES
    if (waiter_.handle) {
      *waiter_.result = ended_result(end_reason_);
      const std::coroutine_handle<> handle = take_waiter();
      lock.unlock();
      ready_cv_.notify_all();
      handle.resume(); // it may destroy the event_stream: nothing of `this` after this
      return;
    }
#endif
    lock.unlock();
    ready_cv_.notify_all();
  }

#ifdef SSE_CLIENT_HAS_COROUTINES
  // Under mutex_: the waiting coroutine, no longer registered. The caller resumes it with no
  // lock held, on the loop thread.
  std::coroutine_handle<> take_waiter() noexcept {
    waiter_.result = nullptr;
    return std::exchange(waiter_.handle, nullptr);
  }

  struct waiter {
    std::coroutine_handle<> handle;
    pull_result* result = nullptr;
  };
  waiter waiter_; // guarded by mutex_
#endif

  const pull_options bounds_;
  mutable std::mutex mutex_; // guards everything below
  std::condition_variable ready_cv_;
  std::deque<event> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t waiting_ = 0; // threads in pop()
  bool paused_ = false;     // this queue paused the client and has not resumed it
  bool closed_ = false;     // close(): nothing is queued any more
  close_reason end_reason_ = close_reason::none;
  std::optional<error> final_error_;
  std::string last_event_id_; // of the last event handed out
  sse::client client_;        // its listeners use what is above
  std::shared_ptr<loop_core> loop_;
};

} // namespace detail

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
