// SPDX-License-Identifier: MIT
// What an ended attempt means: an end for good, or a failure to report and whether to retry it.
#ifndef SSE_CLIENT_DETAIL_OUTCOME_HPP
#define SSE_CLIENT_DETAIL_OUTCOME_HPP

#include <sse/detail/curl.hpp>
#include <sse/detail/response.hpp>
#include <sse/error.hpp>
#include <sse/options.hpp>
#include <sse/state.hpp>
#include <sse/version.hpp>

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <system_error>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// What is known of an attempt once its transfer has ended.
struct attempt_facts {
  CURLcode result = CURLE_OK;
  std::string curl_message;      // libcurl's words for `result`
  bool was_open = false;         // its response opened the stream
  bool truncated = false;        // it ended inside an event
  std::error_code parse_failure; // the parser stopped: a line or an event too large
  bool idle_fired = false;       // the idle timeout ended it
  std::size_t id_too_large = 0;  // the size of a server's id over max_id_size, else 0
  bool request_arrived = false;  // one_shot: the server may have received the request
};

/// The verdict on an ended attempt.
struct attempt_outcome {
  std::optional<close_reason> ends;                   // the stream ends for good without an error
  error failure;                                      // else: the failure to report ...
  retry_decision proposal{true, std::nullopt};        // ... what the client proposes
  close_reason if_not_retried = close_reason::failed; // ... the reason, if it is not retried
  bool replay_forbidden = false; // one_shot: the hook cannot turn it into a retry
  std::optional<std::chrono::milliseconds> retry_after; // the server's Retry-After
};

inline std::string id_too_large_message(std::size_t size, std::size_t max_id_size) {
  return "the last event ID is " + std::to_string(size) + " bytes, over max_id_size (" +
         std::to_string(max_id_size) + "): a reconnect could not send it";
}

/// libcurl's message for `result`, with the details of its error buffer.
inline std::string curl_message(CURLcode result, const char* error_buffer) {
  std::string message = curl_easy_strerror(result);
  if (error_buffer[0] != '\0') {
    message += ": ";
    message += error_buffer;
  }
  return message;
}

/// True unless the attempt failed before its request could leave: name resolution or connect
/// failed, or libcurl never got as far as sending (no request bytes, no pre-transfer time).
inline bool request_may_have_arrived(CURLcode result, CURL* easy) {
  switch (result) {
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
    return false;
  default:
    break;
  }
  long request_size = 0;
  curl_off_t pretransfer = 0;
  curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
  curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
  return request_size > 0 || pretransfer > 0;
}

/// Judges an attempt that ended on its own (not closed, restarted or ended by a terminal
/// event); `attempt` counts the failures in a row since an event, this one too.
inline attempt_outcome judge_attempt(const attempt_facts& facts, const response_reader& response,
                                     const client_options& options, unsigned attempt) {
  attempt_outcome out;
  error& failure = out.failure;
  failure.attempt = attempt;
  if (facts.id_too_large != 0) {
    failure.code = make_error_code(errc::too_large);
    failure.message = id_too_large_message(facts.id_too_large, options.max_id_size);
    out.proposal.retry = false;
  } else if (facts.idle_fired) {
    failure.code = make_error_code(errc::idle_timeout);
    failure.message = "no data for " + std::to_string(options.idle_timeout->count()) + " ms";
  } else if (facts.parse_failure) {
    failure.code = facts.parse_failure;
    failure.message = "a line or event exceeded max_event_size (" +
                      std::to_string(options.max_event_size) + " bytes)";
  } else if (facts.was_open) {
    failure.code = make_error_code(errc::network);
    if (facts.result == CURLE_OK) {
      failure.message = "the server ended the stream";
      if (!options.reconnect_on_end || options.one_shot) {
        out.ends = facts.truncated ? close_reason::truncated : close_reason::server_ended;
        return out;
      }
    } else {
      failure.message = facts.curl_message;
    }
  } else if (response.is_final()) {
    const auto proposed = response.failure(failure, out.retry_after);
    if (!proposed) {
      out.ends = close_reason::no_content; // 204: the server says there is nothing to follow
      return out;
    }
    out.proposal = *proposed;
  } else {
    failure.code = make_error_code(classify_curl_error(facts.result));
    failure.message = facts.curl_message;
    // The URL's scheme was checked when the client was built, so an unsupported protocol
    // without a redirect is a reply that is not HTTP: a server fault worth retrying.
    out.proposal.retry = !is_permanent_curl_error(facts.result) ||
                         (facts.result == CURLE_UNSUPPORTED_PROTOCOL && !response.redirected());
  }
  // one_shot: after a stream was accepted nothing is sent again, and what was cut is reported
  // as such; before that only a 5xx / 429 (the server says it did not act) or a request that
  // never left is retried.
  if (options.one_shot && facts.was_open) {
    out.if_not_retried = close_reason::truncated;
    out.replay_forbidden = true;
  } else if (facts.request_arrived && !response.is_final()) {
    out.replay_forbidden = true;
  }
  if (out.replay_forbidden) {
    out.proposal.retry = false;
  }
  return out;
}

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_OUTCOME_HPP
