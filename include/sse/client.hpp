// SPDX-License-Identifier: MIT
// The facade: follow one event stream, with listeners, state, and reconnects.
#ifndef SSE_CLIENT_CLIENT_HPP
#define SSE_CLIENT_CLIENT_HPP

#include <sse/detail/config.hpp>
#include <sse/error.hpp>
#include <sse/event_loop.hpp>
#include <sse/listener.hpp>
#include <sse/options.hpp>
#include <sse/state.hpp>
#include <sse/stats.hpp>
#include <sse/version.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#if !SSE_CLIENT_DECLARATIONS_ONLY
#include <sse/detail/stream.hpp>
#endif

SSE_CLIENT_BEGIN_NAMESPACE

namespace detail {
class stream;
} // namespace detail

/// Follows one server-sent event stream and keeps following it across failures: every event
/// exactly once, in order, resuming with `Last-Event-ID`.
///
/// Threading: callbacks run on the loop's thread, one at a time, with no internal lock held.
/// Every member function is safe from any thread and from inside a callback (`wait()` and
/// `wait_for()` throw there, rather than wait for what cannot happen). `close()` returns at
/// once. Called from another thread, `off(x)` first waits (blocking) while `x` itself runs, and
/// the destructor while any callback of this client runs. A moved-from client's destructor and
/// `close()` do nothing; its other members throw `std::logic_error`.
class client {
public:
  /// Validates `options` (throws `sse::usage_error` naming the field) and prepares the stream
  /// on the process-wide default loop. Nothing is sent before `start()`.
  explicit client(client_options options);

  /// As above, on `loop`, which must outlive this client.
  client(client_options options, event_loop& loop);

  client(const client&) = delete;
  client& operator=(const client&) = delete;
  /// Takes over `other`'s stream; `other` is left moved-from.
  client(client&&) noexcept = default;
  /// Closes this client's stream, then takes over `other`'s; `other` is left moved-from.
  client& operator=(client&& other) noexcept;

  /// Closes the stream. Afterwards no callback of this client runs.
  ~client();

  /// Calls `fn` for each event of type `type` ("message" for events without `event:`).
  listener_id on(std::string type, listener fn);
  /// Calls `fn` for each event of type "message".
  listener_id on_message(listener fn) { return on("message", std::move(fn)); }
  /// Calls `fn` for every event, whatever its type.
  listener_id on_any(listener fn);
  /// Calls `fn` each time a response is accepted as a stream (200, text/event-stream).
  listener_id on_open(std::function<void(const response_info&)> fn);
  /// Calls `fn` for each failure: a failed attempt, a dropped connection, a rejected response.
  /// `error::will_retry` says whether a reconnect follows.
  listener_id on_error(std::function<void(const error&)> fn);
  /// Calls `fn` with the text after the colon of each comment line (heartbeats).
  listener_id on_comment(std::function<void(std::string_view)> fn);
  /// Calls `fn` on each change of `ready_state()`.
  listener_id on_state_change(std::function<void(sse::ready_state)> fn);
  /// Calls `fn` with the name and value of each field the standard does not define (`foo: bar`),
  /// as its line is parsed: before the event it belongs to is dispatched.
  listener_id on_field(std::function<void(std::string_view name, std::string_view value)> fn);
  /// Calls `fn` once when the stream ends for good, with the reason.
  listener_id on_close(std::function<void(sse::close_reason)> fn);
  /// Removes a callback added by any `on...`. No call of it starts after this returns; from
  /// another thread it waits while that callback runs. Its captures are destroyed with no
  /// internal lock held (here, or on the loop thread once it lets go of them).
  void off(listener_id id);

  /// Starts connecting. Register listeners first: events are delivered from then on.
  void start();

  /// Stops the stream and cancels any pending reconnect. Safe from any thread, including from
  /// inside a listener (no event after the current one is delivered); returns without waiting
  /// for the network. `on_close` then runs once on the loop thread with `close_reason::closed`,
  /// also for a client never started (which `start()` then no longer starts).
  void close() noexcept;

  /// Stops reading the stream, for backpressure: from the next chunk of bytes on, the transfer
  /// is held (libcurl's `curl_easy_pause`), so the server's writes block once the TCP window
  /// fills, and memory stays bounded (over HTTP/2, by the stream's flow-control window, 32 MiB in
  /// libcurl 7.88, and the connection's other streams go on). Events parsed from bytes already
  /// received (at most one `receive_buffer_size` chunk) may still be delivered after this
  /// returns. The idle timeout does not fire while the transfer is held; the state stays as it
  /// was. A pause made between attempts holds for the next one. Nothing is lost or delivered
  /// twice: `resume()` delivers what was held, in order. Safe from any thread, including from
  /// inside a listener.
  void pause();

  /// Undoes `pause()`: the loop thread unpauses the transfer, delivering what was held first,
  /// and the idle timeout counts anew. Without a pause in effect, does nothing. Safe from any
  /// thread, including from inside a listener.
  void resume();

  /// Drops the current connection and reconnects at once, as if the server had dropped it,
  /// keeping the last event ID; no error is reported for the drop. With `reset_backoff`, the
  /// reconnect policy forgets earlier failures.
  void restart(bool reset_backoff = false);

  /// connecting, open or closed: `closed` as soon as `close()` returns, and inside the final
  /// `on_error` (the one whose `will_retry` is false).
  sse::ready_state ready_state() const;
  /// Why the stream ended for good; `close_reason::none` while it has not.
  sse::close_reason close_reason() const;
  /// The last event ID string: sent as `Last-Event-ID` by the next reconnect. Inside a callback,
  /// exactly the current one; from another thread, the id of the last event whose listeners have
  /// returned, published after each chunk of bytes (so it can lag, never lead).
  std::string last_event_id() const;
  /// The URL from the options.
  const std::string& url() const;
  /// Counters, time connected and disconnected, and the last error, since construction; see
  /// `client_stats`.
  client_stats stats() const;

  /// Blocks until the stream has ended for good. From a callback, or anywhere on the thread
  /// that runs the client's loop, it throws std::logic_error (the loop could not end the stream
  /// while its thread waits), unless the stream has already ended. On a `caller_thread` loop,
  /// wait on another thread than the one that will call `run()`: before `run()` nothing marks
  /// that thread as the loop's, and it would wait for good.
  void wait();
  /// As `wait()`, at most `timeout`; true when the stream has ended.
  bool wait_for(std::chrono::milliseconds timeout);

private:
  // Validates first: a bad option must not start the default loop's thread.
  static std::shared_ptr<detail::stream> make_stream(client_options options, event_loop* loop);

  // A moved-from client has no stream: everything but the destructor, close() and assignment
  // throws, rather than dereference nothing.
  detail::stream& live() const;

  template <typename List, typename Fn>
  listener_id add(List& list, Fn fn);

  void detach() noexcept;

  std::shared_ptr<detail::stream> stream_;
};

SSE_CLIENT_END_NAMESPACE

#if !SSE_CLIENT_DECLARATIONS_ONLY
#include <sse/detail/client_impl.hpp>
#endif
#endif // SSE_CLIENT_CLIENT_HPP
