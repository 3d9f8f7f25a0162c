// SPDX-License-Identifier: MIT
// What an attempt receives: its transfer set up with libcurl's callbacks, the response's head
// (the stream opens or is rejected), then its body, held while paused.
#ifndef SSE_CLIENT_DETAIL_RECEPTION_HPP
#define SSE_CLIENT_DETAIL_RECEPTION_HPP

#include <sse/detail/attempt.hpp>
#include <sse/detail/curl.hpp>
#include <sse/detail/request.hpp>
#include <sse/detail/response.hpp>
#include <sse/event_loop.hpp>
#include <sse/options.hpp>
#include <sse/state.hpp>
#include <sse/version.hpp>

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// The layer of `stream` that libcurl calls: header lines and body chunks, on the loop thread.
/// `on_body` is the per-chunk path: no virtual call on the way to the parser.
class stream_reception : public stream_attempt {
protected:
  using stream_attempt::stream_attempt;

  void start_transfer(const attempt_request& request, const std::string* body) {
    easy_handle easy(curl_easy_init());
    if (!easy) {
      throw std::runtime_error("curl_easy_init failed");
    }
    CURL* h = easy.get();
    header_list headers = request_headers(request, body != nullptr);
    set_request_options(h, options_, request, body, headers);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &stream_reception::header_callback);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &stream_reception::write_callback);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &stream_reception::progress_callback);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, this);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error_);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, &loop_core::close_socket_callback);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, loop_.get());
    curl_error_[0] = '\0';

    // A fresh attempt: a new stream for the parser, nothing known about the response yet.
    parser_.reset();
    response_.begin(request, options_);
    opened_ = false;
    idle_fired_ = false;
    id_too_large_ = false;
    restart_requested_ = false;
    terminal_seen_ = false;
    transfer_paused_ = false;
    events_at_attempt_start_ = counters_.events();
    counters_.count_attempt();

    loop_->add_transfer(h, shared_from_this());
    easy_ = std::move(easy);
    request_headers_ = std::move(headers);
    last_activity_ = clock::now();
    arm_idle_timer(last_activity_);
  }

  // Closed, restarting or on a loop that shuts down: libcurl's callbacks return 0 to end the
  // transfer, and transfer_done() tells the cases apart.
  bool connection_unwanted() const noexcept {
    return closed_.load() || restart_requested_ || loop_gone_.load();
  }

  // Unless paused again meanwhile, unpauses a held transfer; the idle timeout counts anew.
  // curl_easy_pause may run on_body right here with the bytes it kept: on_body's usual
  // situation (loop thread, outside any other libcurl callback), whose listeners' close() or
  // restart() post their work, so `easy_` stays valid through the call.
  void do_resume() {
    if (pause_requested_.load() || !transfer_paused_ || !easy_ || connection_unwanted()) {
      return; // a transfer that ends is removed by its own task, held or not
    }
    transfer_paused_ = false;
    last_activity_ = clock::now();
    curl_easy_pause(easy_.get(), CURLPAUSE_CONT);
    if (!transfer_paused_ && !idle_timer_) { // on_body may have paused it again in the call
      arm_idle_timer(last_activity_);
    }
  }

  std::atomic<bool> pause_requested_{false}; // pause() in effect; any thread

private:
  static std::size_t header_callback(char* data, std::size_t size, std::size_t count, void* self) {
    return static_cast<stream_reception*>(self)->on_header_line(
        std::string_view(data, size * count));
  }

  static std::size_t write_callback(char* data, std::size_t size, std::size_t count, void* self) {
    return static_cast<stream_reception*>(self)->on_body(std::string_view(data, size * count));
  }

  // Bytes arriving before the response is judged are activity, not only complete header lines
  // (a server may drip its headers): libcurl runs this each time it reads for the transfer.
  static int progress_callback(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* const s = static_cast<stream_reception*>(self);
    if (!s->response_.is_final()) {
      s->last_activity_ = clock::now();
    }
    return 0;
  }

  std::size_t on_header_line(std::string_view line) {
    last_activity_ = clock::now();
    if (connection_unwanted()) {
      return 0;
    }
    if (line.size() >= 5 && line.substr(0, 5) == "HTTP/") {
      release_share_wave(); // the connection is up: the next wave to its host may start
    }
    switch (response_.line(line, easy_.get(), options_)) {
    case response_reader::verdict::keep_reading:
      return line.size();
    case response_reader::verdict::stop:
      return 0;
    case response_reader::verdict::final:
      break;
    }
    on_final_response();
    last_activity_ = clock::now(); // time in on_response / on_open is not the server's silence
    return connection_unwanted() ? 0 : line.size();
  }

  void on_final_response() {
    if (options_.on_response) {
      run_hook([&] { invoke(options_.on_response, response_.info()); });
    }
    if (response_.opens_stream()) {
      opened_ = true;
      opened_at_ = clock::now();
      counters_.opened(opened_at_);
      policy_.connection_opened(opened_at_);
      set_state(ready_state::open);
      notify(opens_, response_.info());
      return;
    }
    // Rejected: the verdict is in, whether or not the body ever ends. What of the body comes
    // within a short grace reaches on_body (kept for error::body, up to 4 KiB); a body that
    // ends sooner ends the transfer by itself, and a timer ends one that does not.
    end_rejected_response_soon();
  }

  // Long enough for a body written just after the head, short enough to be "at once".
  static constexpr std::chrono::milliseconds rejected_body_grace{100};

  void end_rejected_response_soon() {
    loop_->add_timer(clock::now() + rejected_body_grace,
                     [weak = weak_from_this(), attempt = counters_.attempts()] {
                       const auto self = std::static_pointer_cast<stream_reception>(weak.lock());
                       if (self && self->easy_ && self->counters_.attempts() == attempt) {
                         self->abort_transfer(); // concludes from the response: transfer_done
                       }
                     });
  }

  std::size_t on_body(std::string_view bytes) {
    last_activity_ = clock::now();
    if (connection_unwanted()) {
      return 0;
    }
    if (!opened_) {
      // A rejected response: keep its start for the error report, then stop reading.
      return response_.keep_body(bytes) ? bytes.size() : 0;
    }
    if (pause_requested_.load(std::memory_order_relaxed)) {
      // libcurl keeps this chunk and hands it over again when do_resume unpauses: nothing of
      // it has reached the parser, so nothing is lost or delivered twice.
      transfer_paused_ = true;
      cancel_idle_timer();
      return CURL_WRITEFUNC_PAUSE;
    }
    const std::error_code failure = deliver(bytes);
    // Time spent in listeners is not the server's silence.
    last_activity_ = clock::now();
    if (publish_last_event_id() && parser_.last_event_id().size() > options_.max_id_size) {
      id_too_large_ = true; // a reconnect could not send it: ends the stream, see transfer_done
      return 0;
    }
    if (failure || connection_unwanted()) {
      return 0;
    }
    return bytes.size();
  }
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_RECEPTION_HPP
