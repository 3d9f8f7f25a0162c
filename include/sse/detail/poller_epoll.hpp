// SPDX-License-Identifier: MIT
// The Linux event loop backend: epoll for libcurl's sockets, an eventfd for wake-ups.
#ifndef SSE_CLIENT_DETAIL_POLLER_EPOLL_HPP
#define SSE_CLIENT_DETAIL_POLLER_EPOLL_HPP

#include <sse/version.hpp>

#include <curl/curl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <unordered_set>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// Waits for the sockets libcurl's socket callback names and for wake-ups from any thread.
/// The loop's thread calls everything but `wake()`. The epoll descriptor is itself pollable,
/// so a host program's own loop can watch it.
class poller {
public:
  /// Which backend this is, for tests and figures.
  static constexpr const char* backend = "epoll";

  poller() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_ < 0 || wake_ < 0) {
      close_all();
      throw std::runtime_error("sse::event_loop: cannot create epoll or eventfd");
    }
    epoll_event wake_event{};
    wake_event.events = EPOLLIN;
    wake_event.data.fd = wake_;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &wake_event);
  }
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;
  ~poller() { close_all(); }

  /// Watches `socket` for what libcurl asked (`CURL_POLL_IN`, `_OUT`, `_INOUT`).
  void watch(curl_socket_t socket, int what, bool /*known*/) noexcept {
    // noexcept: this runs inside libcurl's C callback; running out of memory here terminates.
    epoll_event event{};
    event.events =
        ((what & CURL_POLL_IN) != 0 ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) != 0 ? EPOLLOUT : 0u);
    event.data.fd = socket;
    const bool added = watched_.insert(socket).second;
    if (epoll_ctl(epoll_, added ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, socket, &event) != 0) {
      epoll_ctl(epoll_, added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket, &event);
    }
  }

  /// Stops watching `socket`. Only a socket still watched is touched: libcurl may name one it
  /// closed already, whose number another thread may have been given since.
  void forget(curl_socket_t socket) noexcept {
    if (watched_.erase(socket) != 0) {
      epoll_ctl(epoll_, EPOLL_CTL_DEL, socket, nullptr);
    }
  }

  /// Waits up to `timeout_ms` for a watched socket or a wake-up, then calls
  /// `ready(socket, CURL_CSELECT_* flags)` for each ready socket. `ready` may watch and forget.
  template <typename Ready>
  void wait(int timeout_ms, Ready&& ready) {
    constexpr int batch = 256;
    epoll_event events[batch];
    const int count = epoll_wait(epoll_, events, batch, timeout_ms);
    for (int i = 0; i < count; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_) {
        std::uint64_t wakes = 0;
        (void)!read(wake_, &wakes, sizeof wakes);
        continue;
      }
      int flags = 0;
      if ((events[i].events & EPOLLIN) != 0) {
        flags |= CURL_CSELECT_IN;
      }
      if ((events[i].events & EPOLLOUT) != 0) {
        flags |= CURL_CSELECT_OUT;
      }
      if ((events[i].events & (EPOLLERR | EPOLLHUP)) != 0) {
        flags |= CURL_CSELECT_ERR;
      }
      ready(fd, flags);
    }
  }

  /// Any thread: makes the current or next `wait()` return. Async-signal-safe; keeps errno.
  void wake() noexcept {
    const int saved = errno;
    const std::uint64_t one = 1;
    (void)!write(wake_, &one, sizeof one);
    errno = saved;
  }

  /// The epoll descriptor: readable when `wait(0, ...)` has something to do.
  int descriptor() const noexcept { return epoll_; }

  /// For a host program's loop: nothing to start, the epoll descriptor already says it all.
  void start_watcher() noexcept {}

  /// For a host program's loop, after each round: nothing to do here.
  void processed() noexcept {}

  /// Whether `descriptor()` is readable now (something is ready), without waiting.
  bool ready_now() const noexcept {
    pollfd self{};
    self.fd = epoll_;
    self.events = POLLIN;
    return ::poll(&self, 1, 0) > 0;
  }

private:
  void close_all() noexcept {
    if (wake_ >= 0) {
      ::close(wake_);
      wake_ = -1;
    }
    if (epoll_ >= 0) {
      ::close(epoll_);
      epoll_ = -1;
    }
  }

  int epoll_ = -1;
  int wake_ = -1; // eventfd: post() and stop() wake the loop through it
  std::unordered_set<curl_socket_t> watched_;
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_POLLER_EPOLL_HPP
