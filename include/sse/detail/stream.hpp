// SPDX-License-Identifier: MIT
// One client's stream on the loop: its attempts, reconnects and end. The request is built in
// request.hpp, the response judged in response.hpp, the bytes delivered in delivery.hpp, and an
// ended attempt judged in outcome.hpp.
#ifndef SSE_CLIENT_DETAIL_STREAM_HPP
#define SSE_CLIENT_DETAIL_STREAM_HPP

#include <sse/detail/curl.hpp>
#include <sse/detail/delivery.hpp>
#include <sse/detail/http.hpp>
#include <sse/detail/outcome.hpp>
#include <sse/detail/request.hpp>
#include <sse/detail/response.hpp>
#include <sse/error.hpp>
#include <sse/event_loop.hpp>
#include <sse/options.hpp>
#include <sse/reconnect_policy.hpp>
#include <sse/state.hpp>
#include <sse/stats.hpp>
#include <sse/version.hpp>

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE

namespace detail {

/// The state machine behind `sse::client`. Lives as long as the client or a loop task needs it.
/// Public methods are safe from any thread; everything else runs on the loop thread.
class stream final : public transfer,
                     public stream_delivery,
                     public std::enable_shared_from_this<stream> {
public:
  using clock = std::chrono::steady_clock;

  stream(client_options options, std::shared_ptr<loop_core> loop)
      : stream_delivery(std::move(options), *loop, loop->shutting_down()), loop_(std::move(loop)),
        policy_(options_.reconnect) {
    parser_.on_retry([this](std::chrono::milliseconds delay) { policy_.set_server_retry(delay); });
  }

  // ---- any thread ----

  void start() {
    if (started_.exchange(true)) {
      return;
    }
    counters_.started(clock::now());
    loop_->stream_started();
    loop_->post([self = shared_from_this()] { self->begin_attempt(); });
  }

  /// Ends the stream for good; returns without waiting for the network.
  void close() noexcept { end_from_any_thread(close_reason::closed); }

  /// Holds the body from the next chunk of bytes on (the write callback returns
  /// CURL_WRITEFUNC_PAUSE, so libcurl keeps the chunk and stops reading the socket), also for
  /// attempts to come, until resume().
  void pause() noexcept { pause_requested_.store(true); }

  /// Lifts pause(): the loop thread unpauses the transfer (see do_resume).
  void resume() {
    if (pause_requested_.exchange(false)) {
      try {
        loop_->post([self = shared_from_this()] { self->do_resume(); });
      } catch (...) {
        pause_requested_.store(true); // still held: a later resume() tries again
        throw;
      }
    }
  }

  /// The destructor's close: afterwards no callback runs, and none is running on another thread.
  void detach() noexcept {
    detach_callbacks();
    end_from_any_thread(close_reason::closed);
    wait_while_running(nullptr);
    clear_listeners();
  }

  void restart(bool reset_backoff) {
    if (closed_.load()) {
      return;
    }
    if (loop_->in_loop_thread()) {
      parser_.halt(); // a listener may be calling: nothing more from this connection
      restart_requested_ = true;
    }
    loop_->post([self = shared_from_this(), reset_backoff] { self->do_restart(reset_backoff); });
  }

  sse::ready_state state() const noexcept { return state_.load(); }
  sse::close_reason reason() const noexcept { return reason_.load(); }

  client_stats stats() const {
    client_stats s = counters_.snapshot();
    s.paused = pause_requested_.load(std::memory_order_relaxed);
    return s;
  }

  /// Blocks until the stream has ended for good or `timeout` passed; true when it has ended.
  /// On the loop's thread (from a callback) it throws std::logic_error unless the stream has
  /// ended: the loop could not end it while its own thread waits.
  bool wait_closed(std::optional<std::chrono::milliseconds> timeout) {
    if (loop_->in_loop_thread()) {
      if (finished_) {
        return true; // e.g. from on_close
      }
      throw std::logic_error("sse::client: wait() or wait_for() on the loop's thread (from a "
                             "callback) would never see the stream end");
    }
    std::unique_lock<std::mutex> lock(finished_mutex_);
    const auto ended = [this] { return finished_shared_; };
    if (!timeout) {
      finished_cv_.wait(lock, ended);
      return true;
    }
    return finished_cv_.wait_for(lock, *timeout, ended);
  }

  const client_options& options() const noexcept { return options_; }

private:
  // ---- callbacks into user code (loop thread) ----

  // A throwing callback does not stop the stream; the failure goes to the error listeners
  // (unless an error listener threw: no loop).
  void report_listener_exception(const char* what) override {
    if (in_error_callback_) {
      return;
    }
    error e;
    e.code = make_error_code(errc::listener);
    e.message = std::string("a callback threw: ") + what;
    e.attempt = policy_.attempt();
    e.will_retry = !closed_.load();
    deliver_error(e);
  }

  // ---- attempts (loop thread) ----

  void begin_attempt() {
    reconnect_timer_.reset();
    if (finished_ || loop_gone_.load()) {
      return;
    }
    if (closed_.load()) {
      finish(reason_requested_.load());
      return;
    }
    set_state(ready_state::connecting);
    if (!join_share_wave()) {
      return; // queued: it starts when an attempt to the same host has its response
    }
    attempt_request request;
    request.url = options_.url;
    request.method = options_.method;
    request.headers = options_.headers;
    const bool send_body = options_.resend_body || counters_.attempts() == 0;
    // The body is sent from the options themselves, one copy for every attempt; only a hook that
    // may change it gets a copy of its own.
    const std::string* body = send_body && options_.body ? &*options_.body : nullptr;
    if (send_body && options_.before_attempt) {
      request.body = options_.body;
    }
    request.attempt = policy_.attempt() + 1;
    request.last_event_id = parser_.last_event_id();
    if (options_.before_attempt) {
      run_hook([&] {
        try {
          options_.before_attempt(request);
        } catch (const std::exception& e) {
          report_listener_exception(e.what());
        } catch (...) {
          report_listener_exception("before_attempt threw something not a std::exception");
        }
      });
    }
    if (options_.before_attempt) {
      hook_body_ = std::move(request.body);
      body = hook_body_ ? &*hook_body_ : nullptr;
    }
    if (request.last_event_id.size() > options_.max_id_size) {
      // Never built: libcurl would fail it locally on every attempt, and no retry changes that.
      release_share_wave();
      error failure;
      failure.code = make_error_code(errc::too_large);
      failure.message = id_too_large_message(request.last_event_id.size(), options_.max_id_size);
      failure.attempt = request.attempt;
      conclude(std::move(failure), retry_decision{}, close_reason::failed);
      return;
    }
    try {
      validate_url(request.url, "before_attempt: url");
      start_transfer(request, body);
    } catch (const std::exception& e) {
      release_share_wave();
      error failure;
      failure.code = make_error_code(errc::network);
      failure.message = e.what();
      failure.attempt = request.attempt;
      conclude(std::move(failure), retry_decision{}, close_reason::failed);
    }
  }

  void start_transfer(const attempt_request& request, const std::string* body) {
    easy_handle easy(curl_easy_init());
    if (!easy) {
      throw std::runtime_error("curl_easy_init failed");
    }
    CURL* h = easy.get();
    header_list headers = request_headers(request, body != nullptr);
    set_request_options(h, options_, request, body, headers);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &stream::header_callback);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &stream::write_callback);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &stream::progress_callback);
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

  // An https attempt that may share an HTTP/2 connection (CURLOPT_PIPEWAIT) joins a wave of its
  // host first (see share_waves::wave_size), so that many streams started together fill one
  // connection after another instead of each opening its own. False: queued, begin_attempt
  // runs again when the next wave starts.
  bool join_share_wave() {
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
    loop_->share_queue(host, [weak = weak_from_this()] {
      const auto self = weak.lock();
      // A stream closed while queued is finished by its close task; it takes no place.
      if (self && !self->finished_ && !self->closed_.load() && !self->easy_) {
        self->begin_attempt();
      }
    });
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

  void cancel_timers() noexcept {
    if (idle_timer_) {
      loop_->cancel_timer(*idle_timer_);
      idle_timer_.reset();
    }
    if (reconnect_timer_) {
      loop_->cancel_timer(*reconnect_timer_);
      reconnect_timer_.reset();
    }
  }

  static std::size_t header_callback(char* data, std::size_t size, std::size_t count, void* self) {
    return static_cast<stream*>(self)->on_header_line(std::string_view(data, size * count));
  }

  static std::size_t write_callback(char* data, std::size_t size, std::size_t count, void* self) {
    return static_cast<stream*>(self)->on_body(std::string_view(data, size * count));
  }

  // Bytes arriving before the response is judged are activity, not only complete header lines
  // (a server may drip its headers): libcurl runs this each time it reads for the transfer.
  static int progress_callback(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* const s = static_cast<stream*>(self);
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
                       const auto self = weak.lock();
                       if (self && self->easy_ && self->counters_.attempts() == attempt) {
                         self->abort_transfer(); // concludes from the response: transfer_done
                       }
                     });
  }

  // Closed, restarting or on a loop that shuts down: libcurl's callbacks return 0 to end the
  // transfer, and transfer_done() tells the cases apart.
  bool connection_unwanted() const noexcept {
    return closed_.load() || restart_requested_ || loop_gone_.load();
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
      if (idle_timer_) {
        loop_->cancel_timer(*idle_timer_);
        idle_timer_.reset();
      }
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

  // ---- outcomes (loop thread) ----

public:
  void transfer_done(CURLcode result) override {
    release_share_wave();
    if (idle_timer_) {
      loop_->cancel_timer(*idle_timer_);
      idle_timer_.reset();
    }
    // one_shot: a request the server may have received is never sent again.
    const bool request_arrived =
        options_.one_shot && easy_ && request_may_have_arrived(result, easy_.get());
    easy_.reset();
    request_headers_.reset();
    const auto now = clock::now();
    const bool was_open = opened_;
    response_.transfer_ended(result);
    const bool truncated = parser_.has_partial_event();
    const std::error_code parse_failure = parser_.error();
    parser_.reset(); // a partial event is dropped; the last complete id is kept
    publish_last_event_id();
    if (was_open) {
      policy_.connection_lost(now);
    }
    counters_.disconnected(now);
    if (counters_.events() != events_at_attempt_start_) {
      policy_.event_delivered(); // the next reconnect waits the base delay, failures count anew
    }
    if (finished_ || loop_gone_.load()) {
      return; // the loop's shutdown drops the stream: nothing to report or retry
    }
    if (terminal_seen_) {
      finish(close_reason::terminal_event);
      return;
    }
    if (closed_.load()) {
      finish(reason_requested_.load());
      return;
    }
    if (restart_requested_) {
      restart_requested_ = false;
      set_state(ready_state::connecting);
      schedule_attempt(std::chrono::milliseconds(0));
      return;
    }

    attempt_facts facts;
    facts.result = result;
    facts.curl_message = curl_message(result, curl_error_);
    facts.was_open = was_open;
    facts.truncated = truncated;
    facts.parse_failure = parse_failure;
    facts.idle_fired = idle_fired_;
    facts.id_too_large = id_too_large_ ? parser_.last_event_id().size() : 0;
    facts.request_arrived = request_arrived;
    attempt_outcome outcome = judge_attempt(facts, response_, options_, policy_.attempt() + 1);
    if (outcome.ends) {
      finish(*outcome.ends);
      return;
    }
    retry_after_ = outcome.retry_after;
    conclude(std::move(outcome.failure), outcome.proposal, outcome.if_not_retried,
             outcome.replay_forbidden);
  }

private:
  // Decides between retrying and ending, lets the user's hook have the last word, reports.
  // `replay_forbidden` (one_shot): the hook is told, but cannot turn it into a retry.
  void conclude(error failure, retry_decision proposal, close_reason if_not_retried,
                bool replay_forbidden = false) {
    const auto now = clock::now();
    const auto retry_after = std::exchange(retry_after_, std::nullopt);
    close_reason reason = if_not_retried;
    if (proposal.retry) {
      proposal.delay = policy_.next_delay(now, retry_after);
      if (!proposal.delay) {
        proposal.retry = false;
        reason = close_reason::gave_up;
      }
    }
    if (options_.on_failure) {
      run_hook([&] {
        try {
          retry_decision decided = options_.on_failure(failure, proposal);
          if (decided.retry && !decided.delay) {
            decided.delay = proposal.delay.value_or(policy_.base_delay());
          }
          if (!decided.retry && proposal.retry) {
            reason = close_reason::failed;
          }
          proposal = decided;
          if (replay_forbidden) {
            proposal.retry = false;
          }
        } catch (const std::exception& e) {
          report_listener_exception(e.what());
        } catch (...) {
          report_listener_exception("on_failure threw something not a std::exception");
        }
      });
    }
    failure.will_retry = proposal.retry && !closed_.load();
    failure.retry_delay = failure.will_retry ? *proposal.delay : std::chrono::milliseconds(0);
    if (failure.will_retry) {
      // WHATWG: announce the reconnection (readyState CONNECTING), then fire error.
      set_state(ready_state::connecting);
      deliver_error(failure);
      schedule_attempt(failure.retry_delay);
    } else {
      // WHATWG "fail the connection": readyState is CLOSED when the error event fires, so an
      // on_error can tell the final error by ready_state() (and close_reason()).
      const close_reason final_reason = closed_.load() ? reason_requested_.load() : reason;
      reason_.store(final_reason);
      set_state(ready_state::closed);
      deliver_error(failure);
      finish(final_reason);
    }
  }

  void schedule_attempt(std::chrono::milliseconds delay) {
    counters_.reconnect_scheduled();
    if (reconnect_timer_) {
      loop_->cancel_timer(*reconnect_timer_);
    }
    reconnect_timer_ = loop_->add_timer(clock::now() + delay, [weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        self->begin_attempt();
      }
    });
  }

  void do_restart(bool reset_backoff) {
    if (finished_ || closed_.load()) {
      return;
    }
    if (reset_backoff) {
      policy_.reset();
    }
    if (easy_) {
      restart_requested_ = true;
      abort_transfer();
    } else if (reconnect_timer_) {
      schedule_attempt(std::chrono::milliseconds(0));
    }
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

  void end_from_any_thread(close_reason reason) noexcept {
    if (closed_.exchange(true)) {
      return;
    }
    reason_requested_.store(reason);
    // As in a browser, the state reads closed as soon as close() returns; on_state_change and
    // on_close follow on the loop thread.
    state_.store(ready_state::closed);
    try {
      if (loop_->in_loop_thread()) {
        parser_.halt(); // maybe inside a listener: deliver nothing more
      }
      if (started_.exchange(true)) {
        loop_->post([self = shared_from_this()] { self->end_now(); });
      } else {
        // Never started, and now never will be (start() sees started_): it is closed at once
        // for the caller, and its on_close runs on the loop thread as after any close().
        reason_.store(reason);
        state_.store(ready_state::closed);
        mark_finished_shared();
        loop_->stream_started();
        loop_->post([self = shared_from_this(), reason] { self->finish(reason); });
      }
    } catch (...) {
      // post() can only fail for memory; the loop's shutdown drops the stream anyway.
    }
  }

  void end_now() {
    if (finished_) {
      return;
    }
    if (easy_) {
      abort_transfer(); // concludes through transfer_done, which sees closed_
    } else {
      finish(reason_requested_.load());
    }
  }

  void finish(close_reason reason) {
    if (finished_) {
      return;
    }
    finished_ = true;
    closed_.store(true);
    release_share_wave();
    cancel_timers();
    if (easy_) {
      loop_->remove_transfer(easy_.get());
      easy_.reset();
    }
    reason_.store(reason);
    counters_.ended(clock::now());
    set_state(ready_state::closed);
    notify(closes_, reason);
    mark_finished_shared();
    loop_->stream_finished();
  }

  void mark_finished_shared() {
    {
      std::lock_guard<std::mutex> lock(finished_mutex_);
      finished_shared_ = true;
    }
    finished_cv_.notify_all();
  }

  const std::shared_ptr<loop_core> loop_;

  // Any thread:
  std::atomic<bool> started_{false};
  std::atomic<close_reason> reason_requested_{close_reason::closed};
  std::atomic<close_reason> reason_{close_reason::none};
  std::atomic<bool> pause_requested_{false}; // pause() in effect
  std::mutex finished_mutex_;
  std::condition_variable finished_cv_;
  bool finished_shared_ = false; // guarded by finished_mutex_

  // Loop thread only:
  reconnect_policy policy_;
  easy_handle easy_;
  header_list request_headers_;
  std::optional<std::string> hook_body_; // a body before_attempt may have changed
  char curl_error_[CURL_ERROR_SIZE] = {};
  response_reader response_;
  bool opened_ = false;
  bool idle_fired_ = false;
  bool id_too_large_ = false;    // the server sent an id over max_id_size
  bool transfer_paused_ = false; // on_body returned CURL_WRITEFUNC_PAUSE for this attempt
  std::string share_host_;       // the host whose connection this attempt waits to share, if any
  std::uint64_t share_wave_ = 0; // ... and the wave it started in
  bool finished_ = false;
  std::uint64_t events_at_attempt_start_ = 0;
  std::optional<std::chrono::milliseconds> retry_after_;
  clock::time_point last_activity_{};
  clock::time_point opened_at_{};
  std::optional<loop_core::timer_id> idle_timer_;
  std::optional<loop_core::timer_id> reconnect_timer_;
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_STREAM_HPP
