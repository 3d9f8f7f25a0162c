// SPDX-License-Identifier: MIT
// The public event_loop's timers: added and cancelled from any thread, run on the loop's.
// The loop keeps their times in its own timer_queue; this keeps who may still run, so that a
// cancel that says true is never followed by a run, and one that says false comes after it.
#ifndef SSE_CLIENT_DETAIL_USER_TIMERS_HPP
#define SSE_CLIENT_DETAIL_USER_TIMERS_HPP

#include <sse/version.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE

namespace detail {

class user_timers {
public:
  using task = std::function<void()>;
  using loop_timer = std::uint64_t; // its entry in the loop's timer_queue

  /// Any thread: keeps `fn` under a new id, never reused. After `close()` the id is still
  /// returned, but nothing is kept: the timer never runs and cancelling it says false.
  std::uint64_t add(task fn) {
    const std::uint64_t id = last_id_.fetch_add(1) + 1;
    std::lock_guard<std::mutex> lock(mutex_);
    if (!closed_) {
      timers_.emplace(id, entry{std::move(fn), std::nullopt});
    }
    return id;
  }

  /// Loop thread: gives the timer its entry in the loop's queue, made by `arm()`, unless it
  /// was cancelled meanwhile.
  template <typename Arm>
  void schedule(std::uint64_t id, Arm arm) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = timers_.find(id);
    if (found != timers_.end()) {
      found->second.scheduled = arm();
    }
  }

  /// Loop thread, from the timer's entry: runs it unless `cancel` took it first. Both decide
  /// under the mutex. An exception escaping the function ends the program (std::terminate),
  /// as one escaping a std::thread's function does: there is no caller to hand it to.
  void fire(std::uint64_t id) noexcept {
    task fn;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto found = timers_.find(id);
      if (found == timers_.end()) {
        return;
      }
      fn = std::move(found->second.fn);
      timers_.erase(found);
      running_ = id;
    }
    fn();
    fn = nullptr; // its captures go before a waiting cancel returns
    {
      std::lock_guard<std::mutex> lock(mutex_);
      running_ = 0;
    }
    done_.notify_all();
  }

  struct cancelled {
    bool before_run = false;            // true: it had not started, and now never will
    std::optional<loop_timer> released; // its entry in the loop's queue, to drop
  };

  /// Any thread: takes the timer back if it has not started; its function is destroyed here.
  /// When it runs right now, first waits until it has returned, unless called from the loop
  /// thread (from that function, or another on the same thread), which cannot wait for itself.
  cancelled cancel(std::uint64_t id, bool on_loop_thread) noexcept {
    task fn; // destroyed last, with no lock held
    cancelled result;
    std::unique_lock<std::mutex> lock(mutex_);
    const auto found = timers_.find(id);
    if (found == timers_.end()) {
      if (running_ == id && !on_loop_thread) {
        done_.wait(lock, [this, id] { return running_ != id; });
      }
      return result;
    }
    fn = std::move(found->second.fn);
    result = {true, found->second.scheduled};
    timers_.erase(found);
    lock.unlock();
    return result;
  }

  /// Any thread: whether a timer may still run.
  bool empty() {
    std::lock_guard<std::mutex> lock(mutex_);
    return timers_.empty();
  }

  /// Drops every timer and keeps no new one. Their functions are destroyed here, with no lock
  /// held: they may hold the last reference to something that reaches back to the loop.
  void close() noexcept {
    std::unordered_map<std::uint64_t, entry> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
      dropped.swap(timers_);
    }
  }

private:
  struct entry {
    task fn;
    std::optional<loop_timer> scheduled; // its entry in the loop's queue, once scheduled
  };

  std::atomic<std::uint64_t> last_id_{0};
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, entry> timers_; // an entry goes when it runs or is cancelled
  bool closed_ = false;
  std::uint64_t running_ = 0;    // the one whose function runs now, or 0
  std::condition_variable done_; // running_ changed
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_USER_TIMERS_HPP
