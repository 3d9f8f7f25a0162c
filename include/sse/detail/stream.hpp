// SPDX-License-Identifier: MIT
// One client's stream: what `sse::client` calls, from any thread, and how each call reaches the
// loop. Its other jobs, one header each, from the bottom layer up:
//   callbacks.hpp  the listener lists, and waiting for a running callback
//   delivery.hpp   the bytes of an open stream through the parser to the listeners
//   attempt.hpp    an attempt's state; its transfer's handle, share wave, idle timeout, abort
//   reception.hpp  libcurl's callbacks: the response's head (open or reject), the body, pausing
//   lifecycle.hpp  attempts one after another: begun, judged, retried after a delay, or ended
// Beside them, request.hpp builds a request, response.hpp reads a response's head, outcome.hpp
// judges an ended attempt, and stream_stats.hpp counts.
#ifndef SSE_CLIENT_DETAIL_STREAM_HPP
#define SSE_CLIENT_DETAIL_STREAM_HPP

#include <sse/detail/lifecycle.hpp>
#include <sse/error.hpp>
#include <sse/event_loop.hpp>
#include <sse/options.hpp>
#include <sse/state.hpp>
#include <sse/stats.hpp>
#include <sse/version.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE

namespace detail {

/// The state machine behind `sse::client`. Lives as long as the client or a loop task needs it.
/// Public methods are safe from any thread; everything else runs on the loop thread.
class stream final : public stream_lifecycle {
public:
  stream(client_options options, std::shared_ptr<loop_core> loop)
      : stream_lifecycle(std::move(options), std::move(loop)) {
    parser_.on_retry([this](std::chrono::milliseconds delay) { policy_.set_server_retry(delay); });
  }

  // ---- any thread ----

  void start() {
    if (started_.exchange(true)) {
      return;
    }
    counters_.started(clock::now());
    loop_->stream_started();
    loop_->post([self = shared_self()] { self->begin_attempt(); });
  }

  /// Ends the stream for good; returns without waiting for the network.
  void close() noexcept { end_from_any_thread(close_reason::closed); }

  /// Holds the body from the next chunk of bytes on (the write callback returns
  /// CURL_WRITEFUNC_PAUSE, so libcurl keeps the chunk and stops reading the socket), also for
  /// attempts to come, until resume().
  void pause() noexcept { pause_requested_.store(true); }

  /// Lifts pause(): the loop thread unpauses the transfer (see do_resume).
  void resume() {
    if (pause_requested_.exchange(false)) {
      try {
        loop_->post([self = shared_self()] { self->do_resume(); });
      } catch (...) {
        pause_requested_.store(true); // still held: a later resume() tries again
        throw;
      }
    }
  }

  /// The destructor's close: afterwards no callback runs, and none is running on another thread.
  void detach() noexcept {
    detach_callbacks();
    end_from_any_thread(close_reason::closed);
    wait_while_running(nullptr);
    clear_listeners();
  }

  void restart(bool reset_backoff) {
    if (closed_.load()) {
      return;
    }
    if (loop_->in_loop_thread()) {
      parser_.halt(); // a listener may be calling: nothing more from this connection
      restart_requested_ = true;
    }
    loop_->post([self = shared_self(), reset_backoff] { self->do_restart(reset_backoff); });
  }

  sse::ready_state state() const noexcept { return state_.load(); }
  sse::close_reason reason() const noexcept { return reason_.load(); }

  client_stats stats() const {
    client_stats s = counters_.snapshot();
    s.paused = pause_requested_.load(std::memory_order_relaxed);
    return s;
  }

  /// Blocks until the stream has ended for good or `timeout` passed; true when it has ended.
  /// On the loop's thread (from a callback) it throws std::logic_error unless the stream has
  /// ended: the loop could not end it while its own thread waits.
  bool wait_closed(std::optional<std::chrono::milliseconds> timeout) {
    if (loop_->in_loop_thread()) {
      if (finished_) {
        return true; // e.g. from on_close
      }
      throw std::logic_error("sse::client: wait() or wait_for() on the loop's thread (from a "
                             "callback) would never see the stream end");
    }
    std::unique_lock<std::mutex> lock(finished_mutex_);
    const auto ended = [this] { return finished_shared_; };
    if (!timeout) {
      finished_cv_.wait(lock, ended);
      return true;
    }
    return finished_cv_.wait_for(lock, *timeout, ended);
  }

  const client_options& options() const noexcept { return options_; }

private:
  // The whole stream for a task posted to the loop: its layers are one object with one owner.
  std::shared_ptr<stream> shared_self() {
    return std::static_pointer_cast<stream>(shared_from_this());
  }

  // ---- callbacks into user code (loop thread) ----

  // A throwing callback does not stop the stream; the failure goes to the error listeners
  // (unless an error listener threw: no loop).
  void report_listener_exception(const char* what) override {
    if (in_error_callback_) {
      return;
    }
    error e;
    e.code = make_error_code(errc::listener);
    e.message = std::string("a callback threw: ") + what;
    e.attempt = policy_.attempt();
    e.will_retry = !closed_.load();
    deliver_error(e);
  }

  // ---- the loop's side of restart() and close() ----

  void do_restart(bool reset_backoff) {
    if (finished_ || closed_.load()) {
      return;
    }
    if (reset_backoff) {
      policy_.reset();
    }
    if (easy_) {
      restart_requested_ = true;
      abort_transfer();
    } else if (reconnect_timer_) {
      schedule_attempt(std::chrono::milliseconds(0));
    }
  }

  void end_from_any_thread(close_reason reason) noexcept {
    if (closed_.exchange(true)) {
      return;
    }
    reason_requested_.store(reason);
    // As in a browser, the state reads closed as soon as close() returns; on_state_change and
    // on_close follow on the loop thread.
    state_.store(ready_state::closed);
    try {
      if (loop_->in_loop_thread()) {
        parser_.halt(); // maybe inside a listener: deliver nothing more
      }
      if (started_.exchange(true)) {
        loop_->post([self = shared_self()] { self->end_now(); });
      } else {
        // Never started, and now never will be (start() sees started_): it is closed at once
        // for the caller, and its on_close runs on the loop thread as after any close().
        reason_.store(reason);
        state_.store(ready_state::closed);
        mark_finished_shared();
        loop_->stream_started();
        loop_->post([self = shared_self(), reason] { self->finish(reason); });
      }
    } catch (...) {
      // post() can only fail for memory; the loop's shutdown drops the stream anyway.
    }
  }

  void end_now() {
    if (finished_) {
      return;
    }
    if (easy_) {
      abort_transfer(); // concludes through transfer_done, which sees closed_
    } else {
      finish(reason_requested_.load());
    }
  }

  std::atomic<bool> started_{false}; // any thread
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_STREAM_HPP
