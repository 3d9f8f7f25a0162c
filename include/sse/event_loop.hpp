// SPDX-License-Identifier: MIT
// One thread drives many streams: curl multi, posted tasks and timers.
#ifndef SSE_CLIENT_EVENT_LOOP_HPP
#define SSE_CLIENT_EVENT_LOOP_HPP

#include <sse/detail/curl.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sse {

namespace detail {

/// A transfer the loop drives: told when libcurl finishes it (or the loop stops).
class transfer {
public:
  virtual ~transfer() = default;
  /// The handle has already been removed from the multi handle when this runs.
  virtual void transfer_done(CURLcode result) = 0;
};

/// The loop's machinery, shared by the public `event_loop` handle and the clients on it.
/// Methods marked "loop thread" must run on the loop's thread; the rest are safe anywhere.
class loop_core {
public:
  using clock = std::chrono::steady_clock;
  using task = std::function<void()>;
  using timer_id = std::uint64_t;

  loop_core() {
    ensure_curl_initialized();
    multi_ = curl_multi_init();
    if (multi_ == nullptr) {
      throw std::runtime_error("curl_multi_init failed");
    }
  }
  loop_core(const loop_core&) = delete;
  loop_core& operator=(const loop_core&) = delete;
  ~loop_core() {
    shutdown();
    curl_multi_cleanup(multi_);
  }

  /// Runs `t` on the loop thread soon. Any thread; never runs `t` inline.
  void post(task t) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (shut_down_) {
        return;
      }
      tasks_.push_back(std::move(t));
    }
    curl_multi_wakeup(multi_);
  }

  bool in_loop_thread() const noexcept {
    return loop_thread_.load(std::memory_order_acquire) == std::this_thread::get_id();
  }

  /// Loop thread: runs `t` at `when` unless cancelled first.
  timer_id add_timer(clock::time_point when, task t) {
    const timer_id id = ++last_timer_id_;
    timers_.emplace(std::make_pair(when, id), std::move(t));
    timer_times_.emplace(id, when);
    return id;
  }

  /// Loop thread: forgets a timer; a timer that already ran or was cancelled is ignored.
  void cancel_timer(timer_id id) noexcept {
    const auto found = timer_times_.find(id);
    if (found != timer_times_.end()) {
      timers_.erase(std::make_pair(found->second, id));
      timer_times_.erase(found);
    }
  }

  /// Loop thread: starts driving `easy`; the loop keeps `owner` alive until it is done.
  void add_transfer(CURL* easy, std::shared_ptr<transfer> owner) {
    const CURLMcode result = curl_multi_add_handle(multi_, easy);
    if (result != CURLM_OK) {
      throw std::runtime_error(std::string("curl_multi_add_handle: ") +
                               curl_multi_strerror(result));
    }
    transfers_.emplace(easy, std::move(owner));
  }

  /// Loop thread, outside libcurl callbacks: stops driving `easy` without telling its owner.
  void remove_transfer(CURL* easy) noexcept {
    if (transfers_.erase(easy) != 0) {
      curl_multi_remove_handle(multi_, easy);
    }
  }

  /// Counts streams that have not ended for good, so `run(until_idle)` knows when to return.
  void stream_started() noexcept { active_streams_.fetch_add(1); }
  void stream_finished() noexcept {
    active_streams_.fetch_sub(1);
    curl_multi_wakeup(multi_);
  }
  std::size_t active_streams() const noexcept { return active_streams_.load(); }

  /// Runs the loop on the calling thread until `stop()`, or, with `until_idle`, until no stream
  /// is active and no task is queued.
  void run(bool until_idle) {
    std::thread::id expected{};
    if (!loop_thread_.compare_exchange_strong(expected, std::this_thread::get_id())) {
      throw std::logic_error("sse::event_loop: already running on another thread");
    }
    // A stop() that came before this run() still counts: the destructor of a background loop
    // may stop it before its thread got here.
    while (true) {
      const bool more_tasks = run_tasks();
      run_due_timers();
      if (stop_requested_.load()) {
        break;
      }
      if (until_idle && active_streams_.load() == 0 && !more_tasks && !has_tasks()) {
        break;
      }
      int ignored = 0;
      curl_multi_poll(multi_, nullptr, 0, more_tasks ? 0 : poll_timeout_ms(), &ignored);
      curl_multi_perform(multi_, &ignored);
      finish_done_transfers();
    }
    stop_requested_.store(false); // the next run() runs
    loop_thread_.store(std::thread::id{}, std::memory_order_release);
  }

  /// Any thread: makes `run()` return soon.
  void stop() noexcept {
    stop_requested_.store(true);
    curl_multi_wakeup(multi_);
  }

  /// Runs the loop on a thread of its own.
  void start_thread() {
    thread_ = std::thread([this] { run(false); });
  }

  /// Stops the loop, joins its thread and drops every transfer, timer and task. Idempotent.
  void shutdown() noexcept {
    stop();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
      thread_.join();
    }
    std::vector<task> tasks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shut_down_ = true;
      tasks.swap(tasks_);
    }
    for (auto& [easy, owner] : transfers_) {
      curl_multi_remove_handle(multi_, easy);
    }
    // Owners may hold the last reference to their loop handle: release them after the maps.
    auto transfers = std::move(transfers_);
    auto timers = std::move(timers_);
    timer_times_.clear();
  }

private:
  bool has_tasks() {
    std::lock_guard<std::mutex> lock(mutex_);
    return !tasks_.empty();
  }

  // Runs the tasks queued so far; returns whether more arrived meanwhile.
  bool run_tasks() {
    std::vector<task> batch;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      batch.swap(tasks_);
    }
    for (auto& t : batch) {
      t();
    }
    return has_tasks();
  }

  void run_due_timers() {
    const auto now = clock::now();
    // Bounded: only timers due now; a timer added meanwhile for "now" runs next round.
    std::size_t budget = timers_.size();
    while (budget-- > 0 && !timers_.empty() && timers_.begin()->first.first <= now) {
      auto node = timers_.extract(timers_.begin());
      timer_times_.erase(node.key().second);
      node.mapped()();
    }
  }

  int poll_timeout_ms() const {
    // Nothing to do before the next timer: libcurl's own timeouts shorten the wait inside
    // curl_multi_poll and posted tasks wake it, so an idle loop may sleep long.
    constexpr long long max_wait_ms = 60000;
    if (timers_.empty()) {
      return static_cast<int>(max_wait_ms);
    }
    const auto wait =
        std::chrono::ceil<std::chrono::milliseconds>(timers_.begin()->first.first - clock::now());
    return static_cast<int>(std::clamp<long long>(wait.count(), 0, max_wait_ms));
  }

  void finish_done_transfers() {
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
      if (message->msg != CURLMSG_DONE) {
        continue;
      }
      CURL* easy = message->easy_handle;
      const CURLcode result = message->data.result;
      const auto found = transfers_.find(easy);
      if (found == transfers_.end()) {
        continue;
      }
      std::shared_ptr<transfer> owner = std::move(found->second);
      transfers_.erase(found);
      curl_multi_remove_handle(multi_, easy);
      owner->transfer_done(result);
    }
  }

  CURLM* multi_ = nullptr;
  std::mutex mutex_;
  std::vector<task> tasks_;
  bool shut_down_ = false;
  std::atomic<bool> stop_requested_{false};
  std::atomic<std::thread::id> loop_thread_{};
  std::atomic<std::size_t> active_streams_{0};
  std::thread thread_;
  // Loop thread only:
  timer_id last_timer_id_ = 0;
  std::map<std::pair<clock::time_point, timer_id>, task> timers_;
  std::unordered_map<timer_id, clock::time_point> timer_times_;
  std::unordered_map<CURL*, std::shared_ptr<transfer>> transfers_;
};

} // namespace detail

/// Drives any number of clients on one thread. Either on a thread of its own (the default), or
/// on the caller's thread through `run()`, for command-line tools and tests.
class event_loop {
public:
  /// Where the loop runs.
  enum class mode {
    background_thread, ///< a thread of its own, started now and joined by the destructor
    caller_thread,     ///< whoever calls `run()`
  };

  explicit event_loop(mode m = mode::background_thread)
      : core_(std::make_shared<detail::loop_core>()) {
    if (m == mode::background_thread) {
      core_->start_thread();
    }
  }
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  /// Stops the loop and joins its thread; clients still on it stop receiving anything. Must not
  /// run on the loop's own thread.
  ~event_loop() { core_->shutdown(); }

  /// `caller_thread` mode: runs the loop on this thread until every client on it has ended for
  /// good (or has not been started), or until `stop()`.
  void run() { core_->run(true); }

  /// Makes `run()` return soon. Safe from any thread, including from a callback.
  void stop() noexcept { core_->stop(); }

  /// The process-wide loop clients use when given none: started on first use, on a thread of its
  /// own, stopped at exit.
  static event_loop& default_loop() {
    static event_loop loop;
    return loop;
  }

  /// For clients: the shared machinery.
  const std::shared_ptr<detail::loop_core>& core() const noexcept { return core_; }

private:
  std::shared_ptr<detail::loop_core> core_;
};

} // namespace sse
#endif // SSE_CLIENT_EVENT_LOOP_HPP
