// SPDX-License-Identifier: MIT
// The loop's machinery behind sse::event_loop: the thread that runs it (its own, the caller's,
// or the host program's), posted tasks, timers and shutdown. Its parts: multi_driver.hpp
// (libcurl's multi handle and the sockets it names), timer_queue.hpp and user_timers.hpp
// (the loop's timers, and the public ones on them), share_waves.hpp (streams to one host that
// share an HTTP/2 connection).
#ifndef SSE_CLIENT_DETAIL_LOOP_CORE_HPP
#define SSE_CLIENT_DETAIL_LOOP_CORE_HPP

#include <sse/detail/curl.hpp>
#include <sse/detail/multi_driver.hpp>
#include <sse/detail/share_waves.hpp>
#include <sse/detail/timer_queue.hpp>
#include <sse/detail/user_timers.hpp>
#include <sse/version.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// The loop's machinery, shared by the public `event_loop` handle and the clients on it.
/// Methods marked "loop thread" must run on the loop's thread; the rest are safe anywhere.
class loop_core {
public:
  using clock = std::chrono::steady_clock;
  using task = std::function<void()>;
  using timer_id = std::uint64_t;

  loop_core() = default;
  loop_core(const loop_core&) = delete;
  loop_core& operator=(const loop_core&) = delete;
  ~loop_core() { shutdown(); }

  /// Runs `t` on the loop thread soon. Any thread; never runs `t` inline. False (and `t` is
  /// dropped) once `shutdown()` has begun.
  bool post(task t) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (shut_down_) {
        return false;
      }
      tasks_.push_back(std::move(t));
    }
    wake();
    return true;
  }

  /// Runs user code: an exception escaping it ends the program (std::terminate), as one
  /// escaping a std::thread's function does; there is no caller to hand it to.
  static void run_user(const task& fn) noexcept { fn(); }

  // ---- the public event_loop's timers: any thread ----

  /// Runs `fn` on the loop thread at `when` unless `cancel_user_timer(id)` comes first.
  std::uint64_t add_user_timer(clock::time_point when, task fn) {
    const std::uint64_t id = user_timers_.add(std::move(fn));
    if (in_loop_thread()) {
      schedule_user_timer(id, when);
    } else {
      // The time was taken by the caller: the delay counts from the call, not from the post.
      post([this, id, when] { schedule_user_timer(id, when); });
    }
    return id;
  }

  /// True when the timer had not started running, and now never will (see user_timers).
  bool cancel_user_timer(std::uint64_t id) noexcept {
    const user_timers::cancelled result = user_timers_.cancel(id, in_loop_thread());
    if (result.released) {
      // Frees the loop's entry now rather than at its time; firing it would find nothing.
      if (in_loop_thread()) {
        cancel_timer(*result.released);
      } else {
        try {
          post([this, at = *result.released] { cancel_timer(at); });
        } catch (...) {
          // Out of memory: the entry stays until its time, then finds the timer gone.
        }
      }
    }
    return result.before_run;
  }

  bool in_loop_thread() const noexcept {
    return loop_thread_.load(std::memory_order_acquire) == std::this_thread::get_id();
  }

  /// Loop thread: runs `t` at `when` unless cancelled first.
  timer_id add_timer(clock::time_point when, task t) { return timers_.add(when, std::move(t)); }

  /// Loop thread: forgets a timer; a timer that already ran or was cancelled is ignored.
  void cancel_timer(timer_id id) noexcept { timers_.cancel(id); }

  /// Loop thread: starts driving `easy`; the loop keeps `owner` alive until it is done.
  void add_transfer(CURL* easy, std::shared_ptr<transfer> owner) {
    multi_.add(easy, std::move(owner));
  }

  /// Loop thread, outside libcurl callbacks: stops driving `easy` without telling its owner.
  void remove_transfer(CURL* easy) noexcept { multi_.remove(easy); }

  /// Loop thread: which attempts start now to share an HTTP/2 connection to one host.
  std::optional<std::uint64_t> share_acquire(const std::string& host) {
    return share_waves_.acquire(host);
  }
  void share_queue(const std::string& host, std::function<void()> start) {
    share_waves_.queue(host, std::move(start));
  }
  void share_release(const std::string& host, std::uint64_t wave) {
    if (share_waves_.release(host, wave)) {
      post([this, host] { share_waves_.start_wave(host); });
    }
  }

  /// Counts streams that have not ended for good, so `run(until_idle)` knows when to return.
  void stream_started() noexcept { active_streams_.fetch_add(1); }
  void stream_finished() noexcept {
    active_streams_.fetch_sub(1);
    wake();
  }

  /// Runs the loop on the calling thread until `stop()`, or, with `until_idle`, until no stream
  /// is active and no task is queued.
  void run(bool until_idle) {
    if (external_) {
      throw std::logic_error("sse::event_loop: run() on an external loop; call process()");
    }
    std::thread::id expected{};
    if (!loop_thread_.compare_exchange_strong(expected, std::this_thread::get_id())) {
      throw std::logic_error("sse::event_loop: already running on another thread");
    }
    // A stop() that came before this run() still counts: the destructor of a background loop
    // may stop it before its thread got here.
    while (true) {
      bool more_tasks = run_tasks();
      if (has_due_timer()) {
        // A callback may have held the loop past a timer: read what arrived meanwhile first,
        // so an idle timer does not fire for a stream whose bytes wait in its socket.
        multi_.drive(0);
        multi_.finish_done();
        // That wait drained the wake-up of any task posted since run_tasks() looked: look
        // again, or the loop would sleep with it queued.
        more_tasks = more_tasks || has_tasks();
      }
      run_due_timers();
      if (stop_requested_.load()) {
        break;
      }
      if (until_idle && active_streams_.load() == 0 && !more_tasks && !has_tasks() &&
          user_timers_.empty()) {
        break;
      }
      multi_.drive(more_tasks ? 0 : wait_ms());
      multi_.finish_done();
    }
    stop_requested_.store(false); // the next run() runs
    loop_thread_.store(std::thread::id{}, std::memory_order_release);
  }

  /// Set once `shutdown()` began: streams stop delivering between two events and drop their
  /// transfers without a report, so the loop's thread returns after the listener running now.
  const std::atomic<bool>& shutting_down() const noexcept { return shutting_down_; }

  /// Any thread: makes `run()` return soon.
  void stop() noexcept {
    stop_requested_.store(true);
    wake();
  }

  // ---- driven by the host program's loop ----

  /// Before anything else: the host program drives this loop through `process()`.
  void drive_externally() {
    external_ = true;
    poller_.start_watcher();
  }

  /// Readable whenever `process()` has something to do but timers (see `next_timeout()`).
  curl_socket_t descriptor() const noexcept { return poller_.descriptor(); }

  /// The driving thread, outside `process()`: how long until `process()` has work that the
  /// descriptor does not announce: zero when it has some now, empty when only the descriptor can.
  std::optional<std::chrono::milliseconds> next_timeout() {
    if (has_tasks() || poller_.ready_now()) {
      return std::chrono::milliseconds(0);
    }
    const std::optional<clock::time_point> next = next_deadline();
    if (!next) {
      return std::nullopt;
    }
    // Rounded up: a host timer that fires at the rounded time finds the work due.
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - clock::now());
    return std::max(wait, std::chrono::milliseconds(0));
  }

  /// One round without waiting: ready sockets, posted tasks, due timers, on the calling thread.
  void process() {
    std::thread::id expected{};
    if (!loop_thread_.compare_exchange_strong(expected, std::this_thread::get_id())) {
      throw std::logic_error("sse::event_loop::process(): already running (inside a callback, "
                             "or on another thread)");
    }
    struct round_end {
      loop_core& loop;
      ~round_end() {
        loop.loop_thread_.store(std::thread::id{}, std::memory_order_release);
        loop.poller_.processed();
      }
    } end{*this};
    multi_.drive(0);
    multi_.finish_done();
    run_tasks();
    if (has_due_timer()) {
      // As in run(): read what arrived while tasks ran before an idle timer judges a stream.
      multi_.drive(0);
      multi_.finish_done();
    }
    run_due_timers();
    if (has_tasks()) {
      // Their wake-up may have been drained above: keep the descriptor readable for them.
      wake();
    }
  }

  /// Runs the loop on a thread of its own.
  void start_thread() {
    thread_ = std::thread([this] { run(false); });
  }

  /// Stops the loop, joins its thread and drops every transfer, timer and task. Idempotent.
  void shutdown() noexcept {
    shutting_down_.store(true);
    stop();
    if (thread_.joinable()) {
      if (thread_.get_id() == std::this_thread::get_id()) {
        // std::exit() from a callback runs the static destructors on the loop's own thread,
        // which never returns to the loop: a thread cannot join itself, and std::thread's
        // destructor would call std::terminate on a joinable one.
        thread_.detach();
      } else {
        thread_.join();
      }
    }
    std::vector<task> tasks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shut_down_ = true;
      tasks.swap(tasks_);
    }
    user_timers_.close();
    // Owners may hold the last reference to their loop handle: release them after the maps.
    auto transfers = multi_.remove_all();
    auto timers = timers_.take_all();
  }

  /// Every transfer's `CURLOPT_CLOSESOCKETFUNCTION`, with this loop as its data. libcurl closes
  /// some sockets without a `CURL_POLL_REMOVE` first and names them afterwards, when the number
  /// may be another thread's new descriptor: the socket is forgotten here, while still ours.
  static int close_socket_callback(void* self, curl_socket_t socket) {
    static_cast<loop_core*>(self)->poller_.forget(socket);
#ifdef _WIN32
    return closesocket(socket);
#else
    return ::close(socket);
#endif
  }

private:
  bool has_tasks() {
    std::lock_guard<std::mutex> lock(mutex_);
    return !tasks_.empty();
  }

  // Loop thread: the timer's time is kept by the loop's own timers from now on, unless it was
  // cancelled while this was posted.
  void schedule_user_timer(std::uint64_t id, clock::time_point when) {
    user_timers_.schedule(id,
                          [&] { return add_timer(when, [this, id] { user_timers_.fire(id); }); });
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

  bool has_due_timer() const {
    return timers_.has_due(clock::now());
  }

  void run_due_timers() {
    timers_.run_due(clock::now());
  }

  // The earlier of our next timer and libcurl's timeout.
  std::optional<clock::time_point> next_deadline() const {
    const std::optional<clock::time_point> ours = timers_.next();
    const std::optional<clock::time_point> curls = multi_.deadline();
    if (!curls || (ours && *ours < *curls)) {
      return ours;
    }
    return curls;
  }

  // How long nothing needs doing: until our next timer or libcurl's. Posted tasks wake the
  // loop through the poller, so an idle loop may sleep long.
  int wait_ms() const {
    constexpr long long max_wait_ms = 60000;
    const std::optional<clock::time_point> next = next_deadline();
    if (!next) {
      return static_cast<int>(max_wait_ms);
    }
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - clock::now());
    return static_cast<int>(std::clamp<long long>(wait.count(), 0, max_wait_ms));
  }

  void wake() noexcept {
    poller_.wake();
  }

  poller poller_;               // libcurl's sockets; post() and stop() wake the loop through it
  multi_driver multi_{poller_}; // after poller_, which it uses until its destructor returns
  std::mutex mutex_;
  std::vector<task> tasks_;
  bool shut_down_ = false;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> shutting_down_{false};
  std::atomic<std::thread::id> loop_thread_{};
  std::atomic<std::size_t> active_streams_{0};
  std::thread thread_;
  bool external_ = false;   // set before anything runs
  user_timers user_timers_; // the public timers: any thread
  // Loop thread only:
  timer_queue timers_;
  share_waves share_waves_;
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_LOOP_CORE_HPP
