// SPDX-License-Identifier: MIT
// Where a stream is (ready_state) and why it ended (close_reason), with names to print.
#ifndef SSE_CLIENT_STATE_HPP
#define SSE_CLIENT_STATE_HPP

#include <sse/version.hpp>

#include <string_view>

SSE_CLIENT_BEGIN_NAMESPACE

/// A stream's connection state, as WHATWG EventSource's readyState.
enum class ready_state {
  connecting, ///< before the first response, and while waiting to reconnect
  open,       ///< a 200 text/event-stream response is being read
  closed,     ///< ended for good; see `client::close_reason()`
};

/// Why a stream ended for good.
enum class close_reason {
  none,           ///< it has not ended
  closed,         ///< `close()` or the client's destructor
  no_content,     ///< the server answered 204 No Content: its request to stop
  terminal_event, ///< `client_options::is_terminal` matched an event
  server_ended,   ///< `one_shot` or `reconnect_on_end` false: the body ended cleanly
  truncated,      ///< `one_shot` or `reconnect_on_end` false: the body ended in the middle of an
                  ///< event; `one_shot`: or the connection was lost once the stream was accepted
  failed,         ///< an error that is not retried (4xx, wrong Content-Type, TLS, bad redirect)
  gave_up,        ///< the reconnect policy's max attempts or max downtime was reached
};

/// The enumerator's name, e.g. "connecting"; "unknown" for a value outside the enumeration.
constexpr std::string_view to_string(ready_state state) noexcept {
  switch (state) {
  case ready_state::connecting:
    return "connecting";
  case ready_state::open:
    return "open";
  case ready_state::closed:
    return "closed";
  }
  return "unknown";
}

/// The enumerator's name, e.g. "no_content"; "unknown" for a value outside the enumeration.
constexpr std::string_view to_string(close_reason reason) noexcept {
  switch (reason) {
  case close_reason::none:
    return "none";
  case close_reason::closed:
    return "closed";
  case close_reason::no_content:
    return "no_content";
  case close_reason::terminal_event:
    return "terminal_event";
  case close_reason::server_ended:
    return "server_ended";
  case close_reason::truncated:
    return "truncated";
  case close_reason::failed:
    return "failed";
  case close_reason::gave_up:
    return "gave_up";
  }
  return "unknown";
}

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_STATE_HPP
