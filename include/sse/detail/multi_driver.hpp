// SPDX-License-Identifier: MIT
// libcurl's multi handle, driven through its socket interface: libcurl names the sockets to
// watch and when it wants a timeout call, so a wake-up costs the sockets that are ready, not
// every stream's. Not thread-safe: only the loop's thread touches it.
#ifndef SSE_CLIENT_DETAIL_MULTI_DRIVER_HPP
#define SSE_CLIENT_DETAIL_MULTI_DRIVER_HPP

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

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE

namespace detail {

/// A transfer the loop drives: told when libcurl finishes it (or the loop stops).
class transfer {
public:
  virtual ~transfer() = default;
  /// The handle has already been removed from the multi handle when this runs.
  virtual void transfer_done(CURLcode result) = 0;
};

/// The transfers of one loop on one multi handle, their sockets watched by a `poller`, which
/// must outlive this.
class multi_driver {
public:
  using clock = std::chrono::steady_clock;
  using transfers = std::unordered_map<CURL*, std::shared_ptr<transfer>>;

  explicit multi_driver(poller& sockets) : sockets_(sockets) {
    ensure_curl_initialized();
    multi_ = curl_multi_init();
    if (multi_ == nullptr) {
      throw std::runtime_error("sse::event_loop: cannot create a curl multi handle");
    }
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &multi_driver::socket_callback);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &multi_driver::timer_callback);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  }
  multi_driver(const multi_driver&) = delete;
  multi_driver& operator=(const multi_driver&) = delete;
  ~multi_driver() {
    curl_multi_cleanup(multi_); // may still tell the socket callback
  }

  /// Starts driving `easy`; keeps `owner` alive until it is done.
  void add(CURL* easy, std::shared_ptr<transfer> owner) {
    const CURLMcode result = curl_multi_add_handle(multi_, easy);
    if (result != CURLM_OK) {
      throw std::runtime_error(std::string("curl_multi_add_handle: ") +
                               curl_multi_strerror(result));
    }
    transfers_.emplace(easy, std::move(owner));
  }

  /// Outside libcurl callbacks: stops driving `easy` without telling its owner.
  void remove(CURL* easy) noexcept {
    if (transfers_.erase(easy) != 0) {
      curl_multi_remove_handle(multi_, easy);
    }
  }

  /// Stops driving every transfer; the owners are returned, for the caller to release when it
  /// chooses (an owner may hold the last reference to the loop's public handle).
  transfers remove_all() {
    for (auto& [easy, owner] : transfers_) {
      curl_multi_remove_handle(multi_, easy);
    }
    return std::exchange(transfers_, {});
  }

  /// When libcurl wants its timeout call, if it does.
  std::optional<clock::time_point> deadline() const noexcept { return deadline_; }

  /// One wait of at most `timeout_ms`, then libcurl is told which sockets are ready and whether
  /// its timeout came.
  void drive(int timeout_ms) {
    int running = 0;
    sockets_.wait(timeout_ms, [this, &running](curl_socket_t socket, int flags) {
      curl_multi_socket_action(multi_, socket, flags, &running);
    });
    if (deadline_ && *deadline_ <= clock::now()) {
      deadline_.reset(); // the timer callback may set a new one during the call
      curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    }
  }

  /// Tells the owners of the transfers libcurl has finished.
  void finish_done() {
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

private:
  static int socket_callback(CURL*, curl_socket_t socket, int what, void* self, void* known) {
    auto* driver = static_cast<multi_driver*>(self);
    if (what == CURL_POLL_REMOVE) {
      driver->sockets_.forget(socket);
      return 0;
    }
    driver->sockets_.watch(socket, what, known != nullptr);
    if (known == nullptr) {
      curl_multi_assign(driver->multi_, socket, driver); // any non-null mark: "added"
    }
    return 0;
  }

  static int timer_callback(CURLM*, long timeout_ms, void* self) {
    auto* driver = static_cast<multi_driver*>(self);
    if (timeout_ms < 0) {
      driver->deadline_.reset();
    } else {
      driver->deadline_ = clock::now() + std::chrono::milliseconds(timeout_ms);
    }
    return 0;
  }

  poller& sockets_;
  CURLM* multi_ = nullptr;
  transfers transfers_;
  std::optional<clock::time_point> deadline_;
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_MULTI_DRIVER_HPP
