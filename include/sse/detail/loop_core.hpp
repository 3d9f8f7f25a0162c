// SPDX-License-Identifier: MIT
// The loop's machinery behind sse::event_loop: libcurl's multi handle, the sockets it names,
// posted tasks and timers, and the waves in which streams to one host share a connection.
#ifndef SSE_CLIENT_DETAIL_LOOP_CORE_HPP
#define SSE_CLIENT_DETAIL_LOOP_CORE_HPP

#include <sse/detail/curl.hpp>
#include <sse/version.hpp>

// The backend: epoll on Linux; poll() (WSAPoll on Windows) elsewhere, or wherever
// SSE_CLIENT_PORTABLE_LOOP is defined. Define it alike in every file of a program.
#if defined(__linux__) && !defined(SSE_CLIENT_PORTABLE_LOOP)
#include <sse/detail/poller_epoll.hpp>
#else
#include <sse/detail/poller_poll.hpp>
#endif

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
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
      throw std::runtime_error("sse::event_loop: cannot create a curl multi handle");
    }
    // libcurl's socket interface: it says which sockets to watch and when it wants a timeout,
    // so a wake-up costs the sockets that are ready, not every stream's.
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &loop_core::socket_callback);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &loop_core::timer_callback);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  }
  loop_core(const loop_core&) = delete;
  loop_core& operator=(const loop_core&) = delete;
  ~loop_core() {
    shutdown();
    curl_multi_cleanup(multi_); // may still tell the socket callback: poller_ outlives it
  }

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

  /// Any thread: runs `fn` on the loop thread at `when` unless `cancel_user_timer(id)` comes
  /// first. The id is never reused.
  std::uint64_t add_user_timer(clock::time_point when, task fn) {
    const std::uint64_t id = last_user_timer_id_.fetch_add(1) + 1;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (shut_down_) {
        return id; // never runs; cancel_user_timer(id) says false
      }
      user_timers_.emplace(id, user_timer{std::move(fn), std::nullopt});
    }
    if (in_loop_thread()) {
      schedule_user_timer(id, when);
    } else {
      // The time was taken above: the delay counts from this call, not from the post.
      post([this, id, when] { schedule_user_timer(id, when); });
    }
    return id;
  }

  /// Any thread: true when the timer had not started running, and now never will; its function
  /// is destroyed here. False when it has run, or was cancelled or unknown; when it runs on the
  /// loop thread right now, first waits (off the loop thread) until it has returned.
  bool cancel_user_timer(std::uint64_t id) noexcept {
    task fn; // destroyed last, with no lock held
    std::optional<timer_id> internal;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto found = user_timers_.find(id);
      if (found == user_timers_.end()) {
        if (running_user_timer_ == id && !in_loop_thread()) {
          user_timer_done_.wait(lock, [this, id] { return running_user_timer_ != id; });
        }
        return false;
      }
      fn = std::move(found->second.fn);
      internal = found->second.internal;
      user_timers_.erase(found);
    }
    if (internal) {
      // Frees the loop's entry now rather than at its time; firing it would find nothing.
      if (in_loop_thread()) {
        cancel_timer(*internal);
      } else {
        try {
          post([this, at = *internal] { cancel_timer(at); });
        } catch (...) {
          // Out of memory: the entry stays until its time, then finds the timer gone.
        }
      }
    }
    return true;
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

  /// Streams that wait to share an HTTP/2 connection to one host (CURLOPT_PIPEWAIT) start in
  /// waves of at most this many, libcurl's limit of streams on one connection: a leader alone,
  /// which opens a connection, then the rest once its response is there, which find that
  /// connection up and join it. (libcurl 7.88 makes an attempt wait only for a host's first
  /// connection; one started while the others are full opens a connection of its own.)
  static constexpr std::size_t share_wave_size = 100;

  /// Loop thread: for an attempt that waits to share a connection to `host`: a wave number
  /// when it leads a wave (pass it to share_release when its response comes), 0 when it joins
  /// the wave being started, empty when it must wait in share_queue.
  std::optional<std::uint64_t> share_acquire(const std::string& host) {
    share_gate& gate = share_gates_[host];
    if (gate.filling) {
      if (gate.joined + 1 == share_wave_size) {
        return std::nullopt;
      }
      ++gate.joined;
      return 0;
    }
    if (gate.waiting) {
      return std::nullopt;
    }
    gate.waiting = true;
    return ++gate.wave;
  }

  /// Loop thread: runs `start` in a later wave of `host`; it calls begin_attempt again, which
  /// takes its place through share_acquire, unless its stream has ended meanwhile.
  void share_queue(const std::string& host, std::function<void()> start) {
    share_gates_[host].queued.push_back(std::move(start));
  }

  /// Loop thread: the leader of `wave` has its response, failed or was stopped: the rest of
  /// its wave starts, from a posted task (this runs inside libcurl callbacks).
  void share_release(const std::string& host, std::uint64_t wave) {
    const auto found = share_gates_.find(host);
    if (found == share_gates_.end() || !found->second.waiting || found->second.wave != wave) {
      return;
    }
    share_gate& gate = found->second;
    gate.waiting = false;
    if (gate.starting) {
      return; // start_share_wave is on it
    }
    if (gate.queued.empty()) {
      share_gates_.erase(found);
      return;
    }
    post([this, host] { start_share_wave(host); });
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
        wait_and_drive(0);
        finish_done_transfers();
        // That wait drained the wake-up of any task posted since run_tasks() looked: look
        // again, or the loop would sleep with it queued.
        more_tasks = more_tasks || has_tasks();
      }
      run_due_timers();
      if (stop_requested_.load()) {
        break;
      }
      if (until_idle && active_streams_.load() == 0 && !more_tasks && !has_tasks() &&
          !has_user_timers()) {
        break;
      }
      wait_and_drive(more_tasks ? 0 : wait_ms());
      finish_done_transfers();
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
    std::optional<clock::time_point> next = curl_deadline_;
    if (!timers_.empty() && (!next || timers_.begin()->first.first < *next)) {
      next = timers_.begin()->first.first;
    }
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
    wait_and_drive(0);
    finish_done_transfers();
    run_tasks();
    if (has_due_timer()) {
      // As in run(): read what arrived while tasks ran before an idle timer judges a stream.
      wait_and_drive(0);
      finish_done_transfers();
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
    std::unordered_map<std::uint64_t, user_timer> user_timers;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shut_down_ = true;
      tasks.swap(tasks_);
      user_timers.swap(user_timers_);
    }
    for (auto& [easy, owner] : transfers_) {
      curl_multi_remove_handle(multi_, easy);
    }
    // Owners may hold the last reference to their loop handle: release them after the maps.
    auto transfers = std::move(transfers_);
    auto timers = std::move(timers_);
    timer_times_.clear();
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
  // Starts the rest of a wave of `host` in this one task, so that they find its leader's
  // connection up and join it; then the next leader, which opens the next connection.
  void start_share_wave(const std::string& host) {
    const auto found = share_gates_.find(host);
    if (found == share_gates_.end() || found->second.waiting) {
      return;
    }
    // A start adds a handle and calls share_acquire or share_release for this host only, which
    // neither insert nor erase while `starting`: the reference stays valid.
    share_gate& gate = found->second;
    gate.starting = true;
    gate.filling = true;
    gate.joined = 0;
    const auto start_next = [&gate] {
      auto start = std::move(gate.queued.front());
      gate.queued.pop_front();
      start();
    };
    while (gate.joined + 1 < share_wave_size && !gate.queued.empty()) {
      start_next(); // joins the wave, unless its stream has ended
    }
    gate.filling = false;
    while (!gate.waiting && !gate.queued.empty()) {
      start_next(); // leads the next wave, unless its stream has ended
    }
    gate.starting = false;
    if (!gate.waiting && gate.queued.empty()) {
      share_gates_.erase(found);
    }
  }

  bool has_tasks() {
    std::lock_guard<std::mutex> lock(mutex_);
    return !tasks_.empty();
  }

  bool has_user_timers() {
    std::lock_guard<std::mutex> lock(mutex_);
    return !user_timers_.empty();
  }

  // Loop thread: the timer's time is kept by the loop's own timers from now on, unless it was
  // cancelled while this was posted.
  void schedule_user_timer(std::uint64_t id, clock::time_point when) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = user_timers_.find(id);
    if (found != user_timers_.end()) {
      found->second.internal = add_timer(when, [this, id] { fire_user_timer(id); });
    }
  }

  // Loop thread: runs the timer unless cancel_user_timer took it first; both decide under the
  // mutex, so a cancel that returned true is never followed by a run.
  void fire_user_timer(std::uint64_t id) {
    task fn;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto found = user_timers_.find(id);
      if (found == user_timers_.end()) {
        return;
      }
      fn = std::move(found->second.fn);
      user_timers_.erase(found);
      running_user_timer_ = id;
    }
    run_user(fn);
    fn = nullptr; // its captures go before a waiting cancel_user_timer returns
    {
      std::lock_guard<std::mutex> lock(mutex_);
      running_user_timer_ = 0;
    }
    user_timer_done_.notify_all();
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
    return !timers_.empty() && timers_.begin()->first.first <= clock::now();
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

  // How long nothing needs doing: until our next timer or libcurl's. Posted tasks wake the
  // loop through the poller, so an idle loop may sleep long.
  int wait_ms() const {
    constexpr long long max_wait_ms = 60000;
    std::optional<clock::time_point> next = curl_deadline_;
    if (!timers_.empty() && (!next || timers_.begin()->first.first < *next)) {
      next = timers_.begin()->first.first;
    }
    if (!next) {
      return static_cast<int>(max_wait_ms);
    }
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - clock::now());
    return static_cast<int>(std::clamp<long long>(wait.count(), 0, max_wait_ms));
  }

  // One wait, then libcurl is told which sockets are ready and whether its timeout came.
  void wait_and_drive(int timeout_ms) {
    int running = 0;
    poller_.wait(timeout_ms, [this, &running](curl_socket_t socket, int flags) {
      curl_multi_socket_action(multi_, socket, flags, &running);
    });
    if (curl_deadline_ && *curl_deadline_ <= clock::now()) {
      curl_deadline_.reset(); // the timer callback may set a new one during the call
      curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    }
  }

  void wake() noexcept {
    poller_.wake();
  }

  static int socket_callback(CURL*, curl_socket_t socket, int what, void* self, void* known) {
    auto* loop = static_cast<loop_core*>(self);
    if (what == CURL_POLL_REMOVE) {
      loop->poller_.forget(socket);
      return 0;
    }
    loop->poller_.watch(socket, what, known != nullptr);
    if (known == nullptr) {
      curl_multi_assign(loop->multi_, socket, loop); // any non-null mark: "added"
    }
    return 0;
  }

  static int timer_callback(CURLM*, long timeout_ms, void* self) {
    auto* loop = static_cast<loop_core*>(self);
    if (timeout_ms < 0) {
      loop->curl_deadline_.reset();
    } else {
      loop->curl_deadline_ = clock::now() + std::chrono::milliseconds(timeout_ms);
    }
    return 0;
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

  poller poller_; // libcurl's sockets; post() and stop() wake the loop through it
  CURLM* multi_ = nullptr;
  std::mutex mutex_;
  std::vector<task> tasks_;
  bool shut_down_ = false;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> shutting_down_{false};
  std::atomic<std::thread::id> loop_thread_{};
  std::atomic<std::size_t> active_streams_{0};
  std::thread thread_;
  bool external_ = false; // set before anything runs
  // The public timers, by id; an entry goes when the timer runs or is cancelled. Under mutex_:
  struct user_timer {
    task fn;
    std::optional<timer_id> internal; // its entry in timers_, once scheduled
  };
  std::unordered_map<std::uint64_t, user_timer> user_timers_;
  std::uint64_t running_user_timer_ = 0;    // the one whose function runs now, or 0
  std::condition_variable user_timer_done_; // running_user_timer_ changed
  std::atomic<std::uint64_t> last_user_timer_id_{0};
  // Loop thread only:
  timer_id last_timer_id_ = 0;
  std::map<std::pair<clock::time_point, timer_id>, task> timers_;
  std::unordered_map<timer_id, clock::time_point> timer_times_;
  std::unordered_map<CURL*, std::shared_ptr<transfer>> transfers_;
  std::optional<clock::time_point> curl_deadline_; // when libcurl wants a timeout call
  struct share_gate {
    std::uint64_t wave = 0; // the newest wave
    bool waiting = false;   // its leader waits for its response
    bool filling = false;   // start_share_wave is starting the rest of a wave
    bool starting = false;  // start_share_wave is running
    std::size_t joined = 0; // attempts that joined the wave being started
    std::deque<std::function<void()>> queued;
  };
  std::unordered_map<std::string, share_gate> share_gates_; // by scheme://host:port
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_LOOP_CORE_HPP
