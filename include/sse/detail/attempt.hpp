// SPDX-License-Identifier: MIT
// An attempt's state and its transfer's plumbing: the libcurl handle, the wave in which it may
// share a connection, the idle timeout, and stopping it from outside libcurl.
#ifndef SSE_CLIENT_DETAIL_ATTEMPT_HPP
#define SSE_CLIENT_DETAIL_ATTEMPT_HPP

#include <sse/detail/curl.hpp>
#include <sse/detail/delivery.hpp>
#include <sse/detail/http.hpp>
#include <sse/detail/response.hpp>
#include <sse/event_loop.hpp>
#include <sse/options.hpp>
#include <sse/reconnect_policy.hpp>
#include <sse/version.hpp>

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// The lowest layer of `stream` above the delivery of its bytes: what one attempt holds, and
/// the transfer the loop runs for it. Loop thread only. An ended transfer goes to
/// `transfer_done` (stream_lifecycle), from the loop or from `abort_transfer`. The timers and
/// tasks of every layer hold the stream through `enable_shared_from_this` here, the lowest
/// layer that needs it; a layer above casts the pointer to its own type (one object).
class stream_attempt : public transfer,
                       public stream_delivery,
                       public std::enable_shared_from_this<stream_attempt> {
public:
  using clock = std::chrono::steady_clock;

protected:
  stream_attempt(client_options options, std::shared_ptr<loop_core> loop)
      : stream_delivery(std::move(options), *loop, loop->shutting_down()), loop_(std::move(loop)),
        policy_(options_.reconnect) {}

  // An https attempt that may share an HTTP/2 connection (CURLOPT_PIPEWAIT) joins a wave of its
  // host first (see share_waves::wave_size), so that many streams started together fill one
  // connection after another instead of each opening its own. False: queued, `start_later`
  // runs when the next wave starts (made into a task only then).
  template <typename Start>
  bool join_share_wave(Start&& start_later) {
    if (!options_.multiplex || options_.http_version == sse::http_version::http1_1 ||
        !is_https(options_.url)) {
      return true;
    }
    // scheme://authority, the same for every attempt of this stream.
    const std::string_view url(options_.url);
    const std::size_t path = url.find_first_of("/?#", 8);
    std::string host(url.substr(0, path));
    for (char& c : host) {
      c = ascii_lower(c);
    }
    if (const auto wave = loop_->share_acquire(host)) {
      if (*wave != 0) { // it leads a wave: its response lets the rest start
        share_host_ = std::move(host);
        share_wave_ = *wave;
      }
      return true;
    }
    loop_->share_queue(host, std::forward<Start>(start_later));
    return false;
  }

  void release_share_wave() noexcept {
    if (!share_host_.empty()) {
      loop_->share_release(share_host_, share_wave_);
      share_host_.clear();
    }
  }

  void arm_idle_timer(clock::time_point from) {
    if (!options_.idle_timeout) {
      return;
    }
    idle_timer_ = loop_->add_timer(from + *options_.idle_timeout, [weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        self->idle_timer_.reset();
        self->check_idle();
      }
    });
  }

  void check_idle() {
    if (!easy_ || transfer_paused_) {
      return; // held by us, not the server's silence: do_resume arms the timer again
    }
    const auto deadline = last_activity_ + *options_.idle_timeout;
    if (clock::now() < deadline) {
      arm_idle_timer(last_activity_); // bytes came meanwhile: wait for the rest of the window
      return;
    }
    idle_fired_ = true;
    abort_transfer();
  }

  // Stops the running transfer from outside libcurl's callbacks and concludes it.
  void abort_transfer() {
    if (!easy_) {
      return;
    }
    loop_->remove_transfer(easy_.get());
    transfer_done(CURLE_ABORTED_BY_CALLBACK);
  }

  void cancel_idle_timer() noexcept {
    if (idle_timer_) {
      loop_->cancel_timer(*idle_timer_);
      idle_timer_.reset();
    }
  }

  void cancel_timers() noexcept {
    cancel_idle_timer();
    if (reconnect_timer_) {
      loop_->cancel_timer(*reconnect_timer_);
      reconnect_timer_.reset();
    }
  }

  // The whole stream's. The loop is declared first, so destroyed after the handle whose
  // sockets it closes.
  const std::shared_ptr<loop_core> loop_;
  reconnect_policy policy_; // the delays between attempts

  // The attempt under way, or the last one:
  easy_handle easy_;
  header_list request_headers_;
  char curl_error_[CURL_ERROR_SIZE] = {};
  response_reader response_;
  bool opened_ = false;
  bool idle_fired_ = false;
  bool id_too_large_ = false;    // the server sent an id over max_id_size
  bool transfer_paused_ = false; // on_body returned CURL_WRITEFUNC_PAUSE for this attempt
  std::string share_host_;       // the host whose connection this attempt waits to share, if any
  std::uint64_t share_wave_ = 0; // ... and the wave it started in
  std::uint64_t events_at_attempt_start_ = 0;
  clock::time_point last_activity_{};
  clock::time_point opened_at_{};
  std::optional<loop_core::timer_id> idle_timer_;
  std::optional<loop_core::timer_id> reconnect_timer_; // the next attempt's, between attempts
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_ATTEMPT_HPP
