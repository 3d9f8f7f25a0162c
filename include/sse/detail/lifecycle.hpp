// SPDX-License-Identifier: MIT
// A stream's course from attempt to attempt: each one begun, its end judged (outcome.hpp) and
// reported, then the next one scheduled after the reconnect policy's delay, or the end.
#ifndef SSE_CLIENT_DETAIL_LIFECYCLE_HPP
#define SSE_CLIENT_DETAIL_LIFECYCLE_HPP

#include <sse/detail/curl.hpp>
#include <sse/detail/outcome.hpp>
#include <sse/detail/reception.hpp>
#include <sse/detail/request.hpp>
#include <sse/error.hpp>
#include <sse/event_loop.hpp>
#include <sse/options.hpp>
#include <sse/state.hpp>
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
#include <string>
#include <system_error>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// The layer of `stream` that runs its attempts one after the other until it ends for good.
/// Loop thread, except the state marked "any thread".
class stream_lifecycle : public stream_reception {
protected:
  using stream_reception::stream_reception;

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
    auto start_later = [weak = weak_from_this()] {
      const auto self = std::static_pointer_cast<stream_lifecycle>(weak.lock());
      // A stream closed while queued is finished by its close task; it takes no place.
      if (self && !self->finished_ && !self->closed_.load() && !self->easy_) {
        self->begin_attempt();
      }
    };
    if (!join_share_wave(std::move(start_later))) {
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

public:
  // The loop's word that the attempt's transfer ended (or abort_transfer's): what it means,
  // then a reconnect or the end.
  void transfer_done(CURLcode result) override {
    release_share_wave();
    cancel_idle_timer();
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

protected:
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
      if (const auto self = std::static_pointer_cast<stream_lifecycle>(weak.lock())) {
        self->begin_attempt();
      }
    });
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

  // Any thread:
  std::atomic<close_reason> reason_requested_{close_reason::closed};
  std::atomic<close_reason> reason_{close_reason::none};
  std::mutex finished_mutex_;
  std::condition_variable finished_cv_;
  bool finished_shared_ = false; // guarded by finished_mutex_

  // Loop thread only:
  bool finished_ = false;
  std::optional<std::string> hook_body_; // a body before_attempt may have changed
  std::optional<std::chrono::milliseconds> retry_after_;
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_LIFECYCLE_HPP
