// SPDX-License-Identifier: MIT
// One dispatched server-sent event: type, data and the last event ID at dispatch time.
#ifndef SSE_CLIENT_EVENT_HPP
#define SSE_CLIENT_EVENT_HPP

#include <sse/version.hpp>

#include <string>

SSE_CLIENT_BEGIN_NAMESPACE

/// A dispatched event, as a WHATWG MessageEvent would carry it.
struct event {
  /// The `event:` field, or "message" when the event had none.
  std::string type = "message";
  /// The `data:` lines joined with LF (the final LF removed).
  std::string data;
  /// The last event ID string at dispatch time: it persists across events and reconnects until
  /// the server sets another one (an empty `id:` resets it to "").
  std::string id;
};

/// Events are equal when their type, data and id are.
inline bool operator==(const event& a, const event& b) {
  return a.type == b.type && a.data == b.data && a.id == b.id;
}
/// Not `a == b`.
inline bool operator!=(const event& a, const event& b) {
  return !(a == b);
}

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_EVENT_HPP
