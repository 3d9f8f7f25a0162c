// SPDX-License-Identifier: MIT
// The check every decompression bomb test makes: decoding stops at max_event_size.
#ifndef SSE_CLIENT_TESTS_SUPPORT_BOMB_CHECK_HPP
#define SSE_CLIENT_TESTS_SUPPORT_BOMB_CHECK_HPP

#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include "support/process_stats.hpp"
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace sse_test {

/// The bomb every such test serves: 100 MiB of one data line, compressed by `writer` (whose
/// add(text) compresses more and add(text, finish) ends the stream) without holding it whole.
template <typename Writer, typename Finish>
std::string one_line_bomb(Writer& writer, Finish finish) {
  std::string bomb = writer.add("data: ");
  const std::string block(1 << 20, 'x');
  for (int i = 0; i < 100; ++i) {
    bomb += writer.add(block);
  }
  bomb += writer.add("\n\n", finish);
  return bomb;
}

/// Serves `bomb` (100 MiB of one data line, compressed with `encoding`, under 1 MiB) and checks
/// that the client stops decoding just past max_event_size, with memory bounded, and fails with
/// too_large after that one attempt.
inline void check_bomb(const char* encoding, const std::string& bomb) {
  using namespace std::chrono_literals;
  CAPTURE(encoding, bomb.size());
  REQUIRE(bomb.size() < 1024 * 1024);
  test_server server([&](connection& c) {
    c.send_head(200, {{"Content-Type", "text/event-stream"}, {"Content-Encoding", encoding}});
    c.send(bomb);
    c.wait_closed_by_peer(10s);
  });
  const peak_rss_growth peak;
  collected c;
  auto options = fast_options(server.url("/"));
  options.compression = true;
  options.max_event_size = 1 << 20;
  // Each attempt opens before it fails, so max_attempts would never trip: stop after one.
  options.on_failure = [](const sse::error&, sse::retry_decision) { return sse::retry_decision{}; };
  sse::client client(options);
  c.attach(client);
  client.start();
  REQUIRE(client.wait_for(20s));
  CHECK(c.errors.snapshot().at(0).code == sse::errc::too_large);
  CHECK(c.events.size() == 0);
  // Decoded bytes: it stopped decoding just past max_event_size, not at 100 MiB.
  const auto decoded = client.stats().bytes;
  CAPTURE(decoded);
  CHECK(decoded < 8u << 20);
  const long growth_kib = peak.kib();
  CAPTURE(growth_kib);
  CHECK(growth_kib < 64 * 1024);
}

} // namespace sse_test
#endif // SSE_CLIENT_TESTS_SUPPORT_BOMB_CHECK_HPP
