// SPDX-License-Identifier: MIT
// One thread drives many streams: curl multi, posted tasks and timers.
#ifndef SSE_CLIENT_EVENT_LOOP_HPP
#define SSE_CLIENT_EVENT_LOOP_HPP

#include <sse/detail/config.hpp>
#include <sse/version.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#if !SSE_CLIENT_DECLARATIONS_ONLY
#include <sse/detail/loop_core.hpp>
#endif

SSE_CLIENT_BEGIN_NAMESPACE

namespace detail {
/// A socket as libcurl names it (curl_socket_t), without libcurl's header.
#ifdef _WIN32
using native_socket = std::uintptr_t; // SOCKET
#else
using native_socket = int;
#endif

class loop_core; // detail/loop_core.hpp

} // namespace detail

/// Identifies a timer of an `event_loop`, for `cancel_timer`.
enum class timer_id : std::uint64_t {};

/// Drives any number of clients on one thread: a thread of its own (the default), the caller's
/// thread through `run()` (command-line tools, tests), or the host program's own event loop
/// (asio, libuv, a GUI or game loop) through `descriptor()`, `next_timeout()` and `process()`.
///
/// `post()` and the timers run user work on the loop's thread, as callbacks do: one at a time,
/// with no internal lock held. An exception escaping such a function ends the program
/// (std::terminate), as one escaping a std::thread's function does: catch inside it. Destroying
/// the loop discards what is still pending without running it (the functions are destroyed on
/// the destroying thread): nothing runs on a thread other than the loop's.
class event_loop {
public:
  /// Where the loop runs.
  enum class mode {
    background_thread, ///< a thread of its own, started now and joined by the destructor
    caller_thread,     ///< whoever calls `run()`
    external,          ///< the host program's loop, which calls `process()`
  };

  /// What `descriptor()` returns: a file descriptor, a SOCKET on Windows.
  using descriptor_type = detail::native_socket;

  /// A loop with no client yet; in `background_thread` mode its thread starts now.
  explicit event_loop(mode m = mode::background_thread);
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  /// Stops the loop and joins its thread; clients still on it stop receiving anything, and
  /// posted functions and timers still pending are discarded without running. Must not run on
  /// the loop's own thread (inside a callback, or inside `process()`).
  ~event_loop();

  /// `caller_thread` mode: runs the loop on this thread until every client on it has ended for
  /// good (or has not been started) and no posted function or timer is pending, or until
  /// `stop()`. Throws std::logic_error on an `external` loop.
  void run();

  /// Makes `run()` return soon. Safe from any thread, including from a callback, and on POSIX
  /// from a signal handler (an atomic store and one write(); errno is kept).
  void stop() noexcept;

  /// Runs `fn` on the loop's thread soon, after the functions posted before it; never inside
  /// this call, also when made on the loop's thread. Safe from any thread. On a `caller_thread`
  /// loop it waits for `run()`; on an `external` one, for `process()`. False when the loop's
  /// destruction has begun: `fn` is then destroyed here, unrun. Throws std::invalid_argument
  /// for an empty `fn`.
  bool post(std::function<void()> fn);

  /// Runs `fn` once on the loop's thread after `delay` (zero or less: at the loop's next round,
  /// never inside this call) unless `cancel_timer` comes first. Safe from any thread; the delay
  /// counts from this call (steady clock). Throws std::invalid_argument for an empty `fn`.
  timer_id add_timer(std::chrono::steady_clock::duration delay, std::function<void()> fn);

  /// As above, at the steady-clock time `when`.
  timer_id add_timer(std::chrono::steady_clock::time_point when, std::function<void()> fn);

  /// Cancels a timer: true when it had not started, and now never runs, also when it was due
  /// this instant on the loop's thread; its function (and captures) is destroyed in this call.
  /// False when it has already run, was cancelled before, or is unknown. When it runs right now,
  /// a call from another thread first waits (blocking) until it has returned, so that afterwards
  /// it neither runs nor will; do not hold a lock there that the timer's function takes. Safe
  /// from any thread, including from inside a callback and the timer's own function.
  bool cancel_timer(timer_id id) noexcept;

  /// `external` mode: the descriptor for the host loop to watch for readability (the epoll
  /// descriptor on Linux; elsewhere a socket the loop makes readable whenever it has work). The
  /// loop owns it: never read it, write it or close it. Call `process()` when it is readable.
  /// An edge-triggered host (asio's reactor) must arm its next wait before calling `process()`.
  descriptor_type descriptor() const;

  /// `external` mode: when to call `process()` if the descriptor stays quiet: zero for now, empty
  /// for "only when the descriptor is readable". Read it again after every `process()`: timers
  /// added from any thread, streams and libcurl change it, and only `process()` does so. Call it
  /// on the thread that calls `process()`, never at the same time.
  std::optional<std::chrono::milliseconds> next_timeout() const;

  /// `external` mode: does what is ready now (socket data, posted functions, due timers and the
  /// callbacks they cause, on the calling thread) and returns without waiting. One thread at a
  /// time, not from inside a callback (both throw std::logic_error); any thread may drive it.
  void process();

  /// The process-wide loop clients use when given none: started on first use, on a thread of its
  /// own, stopped at exit.
  static event_loop& default_loop();

  /// For clients: the shared machinery.
  const std::shared_ptr<detail::loop_core>& core() const noexcept { return core_; }

private:
  static void check(const std::function<void()>& fn, const char* what);

  void check_external(const char* what) const;

  std::shared_ptr<detail::loop_core> core_;
  mode mode_;
};

namespace detail {
/// Whether the calling thread is `loop`'s, for code that sees the loop's core only declared.
SSE_CLIENT_DECL bool on_loop_thread(const loop_core& loop) noexcept;
} // namespace detail

SSE_CLIENT_END_NAMESPACE

#if !SSE_CLIENT_DECLARATIONS_ONLY
#include <sse/detail/event_loop_impl.hpp>
#endif
#endif // SSE_CLIENT_EVENT_LOOP_HPP
