// SPDX-License-Identifier: MIT
// What a long-lived stream shows an operator: unknown fields through the client, and stats.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using sse_test::collected;
using sse_test::connection;
using sse_test::fast_options;
using sse_test::recorder;
using sse_test::stream_headers;
using sse_test::test_server;
using sse_test::wait_until;

TEST_CASE("client: on_field sees the fields the standard does not define", "[integration]") {
  test_server server(sse_test::sse_once("foo: bar\ndata: x\nx-trace:42\n\n"));
  recorder<std::pair<std::string, std::string>> fields;
  collected got;
  auto options = fast_options(server.url());
  options.reconnect_on_end = false;
  sse::client client(options);
  client.on_field([&](std::string_view name, std::string_view value) {
    fields.push({std::string(name), std::string(value)});
  });
  got.attach(client);
  client.start();
  REQUIRE(got.closes.wait_for_size(1, 5s));
  CHECK(fields.snapshot() ==
        std::vector<std::pair<std::string, std::string>>{{"foo", "bar"}, {"x-trace", "42"}});
  CHECK(got.events.size() == 1);
}

TEST_CASE("client: stats count events, attempts, failures by kind and time connected",
          "[integration]") {
  // First request 503, second an open stream with two events that ends, third held open.
  auto count = std::make_shared<std::atomic<int>>(0);
  test_server server([count](connection& c) {
    const int n = count->fetch_add(1);
    if (n == 0) {
      c.send_head(503, {{"Content-Length", "0"}});
      return;
    }
    c.send_head(200, stream_headers);
    c.send("data: a\n\ndata: b\n\n");
    if (n >= 2) {
      c.wait_closed_by_peer(10s);
    }
  });
  collected got;
  sse::client client(fast_options(server.url()));
  got.attach(client);
  client.start();
  REQUIRE(got.events.wait_for_size(4, 5s));
  REQUIRE(wait_until([&] { return client.stats().connected >= 100ms; }, 5s));
  const sse::client_stats s = client.stats();
  CHECK(s.events == 4);
  CHECK(s.attempts == 3);
  CHECK(s.opens == 2);
  CHECK(s.reconnects == 2);
  CHECK(s.failures == 2);
  CHECK(s.failures_of(sse::errc::http_status) == 1);
  CHECK(s.failures_of(sse::errc::network) == 1);
  REQUIRE(s.last_error);
  CHECK(s.last_error->code == sse::errc::network);
  CHECK(s.last_error_time);
  CHECK(s.bytes > 0);
  client.close();
  REQUIRE(got.closes.wait_for_size(1, 5s));
  // After the end the clock stops: two reads agree.
  const auto ended = client.stats();
  CHECK(client.stats().connected == ended.connected);
  CHECK(client.stats().disconnected == ended.disconnected);
}
