// SPDX-License-Identifier: MIT
// A stream's callbacks: the listener lists, and running them so that off() and the client's
// destructor on another thread can wait until one has returned, and know it will not run again.
#ifndef SSE_CLIENT_DETAIL_CALLBACKS_HPP
#define SSE_CLIENT_DETAIL_CALLBACKS_HPP

#include <sse/detail/inline.hpp>
#include <sse/detail/listeners.hpp>
#include <sse/error.hpp>
#include <sse/event_loop.hpp>
#include <sse/listener.hpp>
#include <sse/options.hpp>
#include <sse/state.hpp>
#include <sse/version.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// The base of `stream`: its listeners, and the marks that say which of them runs. The lists
/// and `remove_listener` are safe from any thread; the rest runs on the loop thread.
class stream_callbacks {
public:
  listener_id next_id() noexcept { return static_cast<listener_id>(++last_listener_id_); }

  listener_list<listener> events_;
  listener_list<std::function<void(const response_info&)>> opens_;
  listener_list<std::function<void(const error&)>> errors_;
  listener_list<std::function<void(std::string_view)>> comments_;
  listener_list<std::function<void(ready_state)>> state_changes_;
  listener_list<std::function<void(close_reason)>> closes_;
  listener_list<std::function<void(std::string_view, std::string_view)>> fields_;

  // Waits only while the removed callback itself runs, and destroys it (its captures) here,
  // with no lock held: a capture's destructor may call on() or off().
  void remove_listener(listener_id id) noexcept {
    std::shared_ptr<const void> removed = events_.remove(id);
    removed = removed ? removed : opens_.remove(id);
    removed = removed ? removed : errors_.remove(id);
    removed = removed ? removed : comments_.remove(id);
    removed = removed ? removed : state_changes_.remove(id);
    removed = removed ? removed : closes_.remove(id);
    removed = removed ? removed : fields_.remove(id);
    if (removed) {
      wait_while_running(removed.get());
    }
  }

protected:
  stream_callbacks(const loop_core& loop, const std::atomic<bool>& loop_gone)
      : home_loop_(loop), loop_gone_(loop_gone) {}
  stream_callbacks(const stream_callbacks&) = delete;
  stream_callbacks& operator=(const stream_callbacks&) = delete;
  ~stream_callbacks() = default;

  // Called when a callback throws: the stream reports it to its error listeners.
  virtual void report_listener_exception(const char* what) = 0;

  // The client is gone: no callback runs from now on, and none is running when this returns.
  void detach_callbacks() noexcept { detached_.store(true); }

  void clear_listeners() noexcept {
    events_.clear();
    opens_.clear();
    errors_.clear();
    comments_.clear();
    state_changes_.clear();
    closes_.clear();
    fields_.clear();
  }

  // Marks the user callback the loop thread is in (a listener's entry, or `hooks_marker()`),
  // restoring the previous mark when it returns. off() and the destructor on another thread read
  // the mark after clearing `active` or setting `detached_`, and the loop thread checks those
  // after setting it, seq_cst on both sides: either the waiter sees the callback running, or the
  // callback sees that it was removed. Every store of the mark is seq_cst, so a waiter that saw
  // it is told when it changes (see wake_waiters).
  class running_scope {
  public:
    running_scope(stream_callbacks& s, const void* callback)
        : s_(s), previous_(s.running_.load(std::memory_order_relaxed)) {
      s_.running_.store(callback);
    }
    ~running_scope() {
      s_.running_.store(previous_);
      s_.wake_waiters();
    }
    running_scope(const running_scope&) = delete;
    running_scope& operator=(const running_scope&) = delete;

  private:
    stream_callbacks& s_;
    const void* previous_;
  };

  // The mark of the options' hooks: any address that is no listener's.
  const void* hooks_marker() const noexcept { return this; }

  void wake_waiters() noexcept {
    if (waiters_.load() != 0) {
      std::lock_guard<std::mutex> lock(wait_mutex_);
      wait_cv_.notify_all();
    }
  }

  // Blocks while `callback` runs on the loop thread (null: while any callback of this stream
  // runs). From the loop thread it returns at once: the callback calling it is the one running.
  void wait_while_running(const void* callback) noexcept {
    if (home_loop_.in_loop_thread()) {
      return;
    }
    const auto busy = [&] {
      const void* running = running_.load();
      return callback != nullptr ? running == callback : running != nullptr;
    };
    waiters_.fetch_add(1);
    {
      std::unique_lock<std::mutex> lock(wait_mutex_);
      wait_cv_.wait(lock, [&] { return !busy(); });
    }
    waiters_.fetch_sub(1);
  }

  // Runs a hook from the options (before_attempt, on_response, on_failure, is_terminal) as
  // notify runs a listener: waited for by detach(), and not at all once the client is gone.
  template <typename Call>
  void run_hook(Call&& call) {
    running_scope scope(*this, hooks_marker());
    if (!detached_.load() && !loop_gone_.load()) {
      call();
    }
  }

  template <typename List, typename... Args>
  void notify(List& list, const Args&... args) {
    const auto snapshot = list.current();
    for (const auto& item : *snapshot) {
      running_scope scope(*this, item.get());
      if (detached_.load() || loop_gone_.load() || !item->active.load()) {
        continue;
      }
      invoke(item->callback, args...);
    }
  }

  template <typename Callback, typename... Args>
  SSE_CLIENT_ALWAYS_INLINE void invoke(Callback& callback, const Args&... args) {
    try {
      callback(args...);
    } catch (const std::exception& e) {
      report_listener_exception(e.what());
    } catch (...) {
      report_listener_exception("unknown exception");
    }
  }

  const loop_core& home_loop_;         // the loop that runs the callbacks
  const std::atomic<bool>& loop_gone_; // the loop is shutting down: stop at the next event
  std::atomic<bool> detached_{false};  // the client is gone: no callback at all

private:
  std::atomic<std::uint64_t> last_listener_id_{0};
  std::atomic<const void*> running_{nullptr}; // the callback running now: see running_scope
  std::atomic<int> waiters_{0};               // threads in wait_while_running
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_CALLBACKS_HPP
