// SPDX-License-Identifier: MIT
// The portable event loop backend: poll() (WSAPoll on Windows) over libcurl's sockets and one
// end of a socket pair that other threads write to for a wake-up.
#ifndef SSE_CLIENT_DETAIL_POLLER_POLL_HPP
#define SSE_CLIENT_DETAIL_POLLER_POLL_HPP

#include <sse/detail/poll_sockets.hpp>
#include <sse/version.hpp>

#include <curl/curl.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// Waits for the sockets libcurl's socket callback names and for wake-ups from any thread.
/// The loop's thread calls everything but `wake()`. One poll() per wait over every watched
/// socket, then libcurl hears of the ready ones only. For a host program's loop, the wake-up
/// socket is the descriptor it watches, and a watcher thread wakes it when one of libcurl's
/// sockets is ready (it only polls: libcurl runs on the loop's thread alone).
class poller {
public:
  /// Which backend this is, for tests and figures.
  static constexpr const char* backend = "poll";

  poller() {
#ifdef _WIN32
    WSADATA data{};
    if (WSAStartup(MAKEWORD(2, 2), &data) != 0) {
      throw std::runtime_error("sse::event_loop: WSAStartup failed");
    }
    wsa_started_ = true;
#endif
    if (!poll_sockets::make_socket_pair(wake_read_, wake_write_)) {
      close_all();
      throw std::runtime_error("sse::event_loop: cannot create the wake-up socket pair");
    }
    fds_.push_back(poll_sockets::entry(wake_read_, in_events));
  }
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;
  ~poller() {
    if (watcher_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(watch_mutex_);
        watch_stop_ = true;
      }
      watch_changed_.notify_all();
      poll_sockets::poke(control_write_);
      watcher_.join();
    }
    close_all();
  }

  /// Watches `socket` for what libcurl asked (`CURL_POLL_IN`, `_OUT`, `_INOUT`).
  void watch(curl_socket_t socket, int what, bool /*known*/) noexcept {
    const auto events = static_cast<short>(((what & CURL_POLL_IN) != 0 ? in_events : 0) |
                                           ((what & CURL_POLL_OUT) != 0 ? out_events : 0));
    const auto found = index_.find(socket);
    if (found != index_.end()) {
      fds_[found->second].events = events;
      return;
    }
    // noexcept: this runs inside libcurl's C callback; running out of memory here terminates.
    index_.emplace(socket, fds_.size());
    fds_.push_back(poll_sockets::entry(socket, events));
  }

  /// Stops watching `socket`, which may be closed already.
  void forget(curl_socket_t socket) noexcept {
    const auto found = index_.find(socket);
    if (found == index_.end()) {
      return;
    }
    const std::size_t at = found->second;
    index_.erase(found);
    if (at + 1 != fds_.size()) {
      fds_[at] = fds_.back(); // the last entry takes the hole
      index_.find(fds_[at].fd)->second = at;
    }
    fds_.pop_back();
  }

  /// Waits up to `timeout_ms` for a watched socket or a wake-up, then calls
  /// `ready(socket, CURL_CSELECT_* flags)` for each ready socket. `ready` may watch and forget.
  template <typename Ready>
  void wait(int timeout_ms, Ready&& ready) {
    bool interrupted = false;
    const int count = poll_sockets::poll(fds_.data(), fds_.size(), timeout_ms, interrupted);
    // Collected first: libcurl's socket callback changes fds_ while `ready` runs.
    ready_.clear();
    int left = count;
    for (std::size_t i = 0; i < fds_.size() && left > 0; ++i) {
      const short revents = fds_[i].revents;
      if (revents == 0) {
        continue;
      }
      --left;
      if (i == 0) {
        poll_sockets::drain(wake_read_);
        continue;
      }
      int flags = 0;
      // A hang-up comes without POLLIN on some systems; libcurl reads the end of the stream.
      if ((revents & (in_events | POLLHUP)) != 0) {
        flags |= CURL_CSELECT_IN;
      }
      if ((revents & out_events) != 0) {
        flags |= CURL_CSELECT_OUT;
      }
      if ((revents & (POLLERR | POLLHUP)) != 0) {
        flags |= CURL_CSELECT_ERR;
      }
      ready_.emplace_back(fds_[i].fd, (revents & POLLNVAL) != 0 ? invalid : flags);
    }
    // Closed without a CURL_POLL_REMOVE: poll() would return at once for good. Dropped before
    // libcurl runs, which may open a new socket under the same number.
    for (const auto& [socket, flags] : ready_) {
      if (flags == invalid) {
        forget(socket);
      }
    }
    for (const auto& [socket, flags] : ready_) {
      if (flags != invalid) {
        ready(socket, flags);
      }
    }
  }

  /// Any thread: makes the current or next `wait()` return. Async-signal-safe on POSIX; keeps
  /// errno.
  void wake() noexcept {
    poll_sockets::poke(wake_write_);
  }

  /// For a host program's loop: readable when `wait(0, ...)` has something to do, once
  /// `start_watcher()` runs.
  curl_socket_t descriptor() const noexcept {
    return wake_read_;
  }

  /// For a host program's loop: starts the thread that watches libcurl's sockets, as last told
  /// by `processed()`, and wakes `descriptor()` when one is ready.
  void start_watcher() {
    if (!poll_sockets::make_socket_pair(control_read_, control_write_)) {
      throw std::runtime_error("sse::event_loop: cannot create the watcher's socket pair");
    }
    publish();
    watcher_ = std::thread([this] { watch(); });
  }

  /// Loop thread, after each round of a host-driven loop: the watcher looks again, at the
  /// sockets as they are now.
  void processed() noexcept {
    if (watcher_.joinable()) {
      publish();
    }
  }

  /// Whether `descriptor()` is readable now, without waiting.
  bool ready_now() noexcept {
    entry_type self = poll_sockets::entry(wake_read_, in_events);
    bool interrupted = false;
    return poll_sockets::poll(&self, 1, 0, interrupted) > 0;
  }

private:
  using socket_type = poll_sockets::socket_type;
  using entry_type = poll_sockets::entry_type;
  static constexpr socket_type no_socket = poll_sockets::no_socket;
  static constexpr int in_events = poll_sockets::in_events;
  static constexpr int out_events = poll_sockets::out_events;
  // Loop thread: hands the watcher the sockets as they are now, and lets it look again.
  void publish() noexcept {
    bool changed = false;
    {
      std::lock_guard<std::mutex> lock(watch_mutex_);
      changed = watch_set_.size() != fds_.size();
      for (std::size_t i = 1; !changed && i < fds_.size(); ++i) {
        changed = watch_set_[i].fd != fds_[i].fd || watch_set_[i].events != fds_[i].events;
      }
      if (changed) {
        try {
          watch_set_.assign(fds_.begin(), fds_.end());
          watch_set_[0] = poll_sockets::entry(control_read_, in_events);
        } catch (...) {
          watch_set_.assign(
              1, poll_sockets::entry(control_read_, in_events)); // out of memory: poll no socket
        }
      }
      ++watch_generation_;
    }
    watch_changed_.notify_all();
    if (changed) {
      poll_sockets::poke(control_write_); // a poll() in progress watches the old set
    }
  }

  // The watcher thread: polls libcurl's sockets; once one is ready, wakes the loop and waits for
  // the round that handles it, so a socket libcurl has not read yet does not make it spin.
  void watch() noexcept {
    std::vector<entry_type> set;
    std::uint64_t seen = 0;
    bool wait_for_round = false;
    while (true) { // until the destructor sets watch_stop_
      {
        std::unique_lock<std::mutex> lock(watch_mutex_);
        if (wait_for_round) {
          watch_changed_.wait(lock, [&] { return watch_stop_ || watch_generation_ != seen; });
        }
        if (watch_stop_) {
          return;
        }
        if (watch_generation_ != seen) {
          seen = watch_generation_;
          try {
            set = watch_set_;
          } catch (...) {
            set.assign(1, poll_sockets::entry(control_read_, in_events));
          }
        }
      }
      wait_for_round = false;
      bool interrupted = false;
      const int count = poll_sockets::poll(set.data(), set.size(), -1, interrupted);
      const bool failed = count < 0 && !interrupted;
      if (count > 0 && set[0].revents != 0) {
        poll_sockets::drain(control_read_);
      }
      bool ready = failed; // the loop's own poll() will say what failed
      for (std::size_t i = 1; !ready && count > 0 && i < set.size(); ++i) {
        ready = set[i].revents != 0;
      }
      if (ready) {
        wake();
        wait_for_round = true;
      }
    }
  }

  void close_all() noexcept {
    if (control_read_ != no_socket) {
      poll_sockets::close_socket(control_read_);
      control_read_ = no_socket;
    }
    if (control_write_ != no_socket) {
      poll_sockets::close_socket(control_write_);
      control_write_ = no_socket;
    }
    if (wake_read_ != no_socket) {
      poll_sockets::close_socket(wake_read_);
      wake_read_ = no_socket;
    }
    if (wake_write_ != no_socket) {
      poll_sockets::close_socket(wake_write_);
      wake_write_ = no_socket;
    }
#ifdef _WIN32
    if (wsa_started_) {
      WSACleanup();
      wsa_started_ = false;
    }
#endif
  }

  socket_type wake_read_ = no_socket;  // fds_[0]: drained by wait()
  socket_type wake_write_ = no_socket; // wake() writes a byte here
  // A host program's loop only (start_watcher):
  socket_type control_read_ = no_socket;  // the watcher polls it with libcurl's sockets
  socket_type control_write_ = no_socket; // publish() and the destructor write a byte here
  std::thread watcher_;
  std::mutex watch_mutex_;
  std::condition_variable watch_changed_;
  std::vector<entry_type> watch_set_;  // under watch_mutex_: fds_ as published, control first
  std::uint64_t watch_generation_ = 0; // under watch_mutex_: one more at each publish()
  bool watch_stop_ = false;            // under watch_mutex_
#ifdef _WIN32
  bool wsa_started_ = false;
#endif
  std::vector<entry_type> fds_; // the wake-up socket, then libcurl's sockets in any order
  std::unordered_map<curl_socket_t, std::size_t> index_; // socket -> its place in fds_
  static constexpr int invalid = -1;                 // in ready_: a socket closed behind our back
  std::vector<std::pair<curl_socket_t, int>> ready_; // reused by wait()
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_POLLER_POLL_HPP
