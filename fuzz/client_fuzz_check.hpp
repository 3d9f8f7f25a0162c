// SPDX-License-Identifier: MIT
// The check behind fuzz/client_fuzz.cpp: fuzzed bytes go through the real client over a local
// socket (in fuzzer-chosen write sizes) and must give exactly the events sse::parser gives for
// the same bytes whole. Shared with the gcc replay of the corpus in the tests.
#ifndef SSE_CLIENT_FUZZ_CLIENT_FUZZ_CHECK_HPP
#define SSE_CLIENT_FUZZ_CLIENT_FUZZ_CHECK_HPP

#include <sse/sse.hpp>

#include "../tests/support/socket.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sse_fuzz {

// One listening socket on 127.0.0.1 for the whole process.
inline sse_test::socket_t fuzz_listener(std::uint16_t& port) {
  static std::uint16_t bound_port = 0;
  static const sse_test::socket_t fd = [] {
    const sse_test::socket_t s = sse_test::tcp_socket();
    sse_test::set_socket_option(s, SOL_SOCKET, SO_REUSEADDR, 1);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(s, 16);
    sse_test::socket_length length = sizeof address;
    getsockname(s, reinterpret_cast<sockaddr*>(&address), &length);
    bound_port = ntohs(address.sin_port);
    return s;
  }();
  port = bound_port;
  return fd;
}

// Accepts one connection, reads the request head, answers 200 text/event-stream with `body`
// in writes of `step` bytes, and closes.
inline void serve_once(sse_test::socket_t listener, const std::string& body, std::size_t step) {
  sse_test::poll_entry p{listener, sse_test::poll_in, 0};
  if (sse_test::poll_sockets(&p, 1, 5000) <= 0) {
    return;
  }
  const sse_test::socket_t fd = accept(listener, nullptr, nullptr);
  if (fd == sse_test::invalid_socket) {
    return;
  }
  sse_test::set_socket_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  std::string request;
  char buffer[4096];
  while (request.find("\r\n\r\n") == std::string::npos) {
    const auto n = sse_test::recv_some(fd, buffer, sizeof buffer);
    if (n <= 0) {
      sse_test::close_socket(fd);
      return;
    }
    request.append(buffer, static_cast<std::size_t>(n));
  }
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                           "Connection: close\r\n\r\n";
  sse_test::send_some(fd, head.data(), head.size());
  for (std::size_t at = 0; at < body.size(); at += step) {
    const std::string_view piece = std::string_view(body).substr(at, step);
    if (sse_test::send_some(fd, piece.data(), piece.size()) < 0) {
      break;
    }
  }
  shutdown(fd, sse_test::shut_write);
  while (sse_test::recv_some(fd, buffer, sizeof buffer) > 0) {
  }
  sse_test::close_socket(fd);
}

/// Returns "" when the client over a socket agrees with the parser, else what differed.
inline std::string check_client_input(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return {};
  }
  // The first byte picks the write size; the rest is the body.
  const std::size_t step = 1 + data[0] % 64;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::vector<sse::event> expected;
  sse::parser parser(sse::parser_options{1 << 16});
  parser.on_event([&](const sse::event& e) { expected.push_back(e); });
  const bool too_large = static_cast<bool>(parser.feed(body));

  std::uint16_t port = 0;
  const auto listener = fuzz_listener(port);
  std::thread server([&] { serve_once(listener, body, step); });

  std::vector<sse::event> seen;
  std::vector<sse::error> errors;
  {
    sse::event_loop loop(sse::event_loop::mode::caller_thread);
    sse::client_options options;
    options.url = "http://127.0.0.1:" + std::to_string(port) + "/fuzz";
    options.max_event_size = 1 << 16;
    options.reconnect_on_end = false;
    options.idle_timeout = std::chrono::seconds(5);
    options.on_failure = [](const sse::error&, sse::retry_decision) {
      return sse::retry_decision{};
    };
    sse::client client(options, loop);
    client.on_any([&](const sse::event& e) { seen.push_back(e); });
    client.on_error([&](const sse::error& e) { errors.push_back(e); });
    client.start();
    loop.run();
  }
  server.join();

  if (too_large) {
    // The client stops at the same event; it must report too_large and nothing else.
    if (errors.size() != 1 || errors[0].code != sse::errc::too_large) {
      return "too_large: the client did not report it";
    }
  } else if (!errors.empty()) {
    return "unexpected error: " + errors[0].message;
  }
  if (seen != expected) {
    return "client gave " + std::to_string(seen.size()) + " events, the parser " +
           std::to_string(expected.size());
  }
  return {};
}

} // namespace sse_fuzz
#endif // SSE_CLIENT_FUZZ_CLIENT_FUZZ_CHECK_HPP
