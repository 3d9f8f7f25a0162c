// SPDX-License-Identifier: MIT
// What integration tests of sse::client share: fast options, a collector of callbacks, ports.
#ifndef SSE_CLIENT_TESTS_SUPPORT_CLIENT_SUPPORT_HPP
#define SSE_CLIENT_TESTS_SUPPORT_CLIENT_SUPPORT_HPP

#include <sse/sse.hpp>

#include "support/socket.hpp"
#include "support/test_server.hpp"
#include "support/wait.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace sse_test {

/// The response head of a stream.
inline const header_list stream_headers{{"Content-Type", "text/event-stream"}};

/// Options with immediate, unjittered reconnects, so tests run fast and exactly.
inline sse::client_options fast_options(const std::string& url) {
  sse::client_options options;
  options.url = url;
  options.reconnect.initial_delay = std::chrono::milliseconds(0);
  options.reconnect.jitter = 0;
  options.reconnect.max_delay = std::chrono::milliseconds(50);
  return options;
}

/// Records every callback of a client. Declare it before the client, so it outlives it.
struct collected {
  recorder<sse::event> events;
  recorder<sse::error> errors;
  recorder<sse::close_reason> closes;
  recorder<sse::ready_state> states;
  recorder<long> opens;

  void attach(sse::client& client) {
    client.on_any([this](const sse::event& e) { events.push(e); });
    client.on_error([this](const sse::error& e) { errors.push(e); });
    client.on_close([this](sse::close_reason r) { closes.push(r); });
    client.on_state_change([this](sse::ready_state s) { states.push(s); });
    client.on_open([this](const sse::response_info& r) { opens.push(r.status); });
  }
};

/// A loopback port nobody listens on right now (bound, then closed).
inline std::uint16_t unused_port() {
  const socket_t fd = tcp_socket();
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socket_length length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close_socket(fd);
  return ntohs(address.sin_port);
}

} // namespace sse_test
#endif // SSE_CLIENT_TESTS_SUPPORT_CLIENT_SUPPORT_HPP
