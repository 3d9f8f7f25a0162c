// SPDX-License-Identifier: MIT
// An event_stream's bounded queue and the client that fills it: pausing, resuming, waking.
#ifndef SSE_CLIENT_DETAIL_PULL_STATE_HPP
#define SSE_CLIENT_DETAIL_PULL_STATE_HPP

#include <sse/client.hpp>
#include <sse/error.hpp>
#include <sse/event.hpp>
#include <sse/event_loop.hpp>
#include <sse/options.hpp>
#include <sse/pull.hpp>
#include <sse/state.hpp>
#include <sse/task.hpp>
#include <sse/version.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE

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
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_PULL_STATE_HPP
