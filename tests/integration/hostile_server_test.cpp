// SPDX-License-Identifier: MIT
// Servers that misbehave in ways real ones do: responses rejected while their body stays open,
// huge ids, retry: 0, dripped headers, a flood of headers, an unasked 101, and the reconnect
// schedule a browser keeps. Each case asserts what the user sees.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using sse_test::collected;
using sse_test::connection;
using sse_test::fast_options;
using sse_test::recorder;
using sse_test::stream_headers;
using sse_test::test_server;
using sse_test::wait_until;
using clock_type = std::chrono::steady_clock;

namespace {

// Answers with `head` (raw bytes, status line to blank line, plus any body bytes) in one write,
// then keeps the connection open until the client leaves.
test_server::handler hold_open(std::string head) {
  return [head = std::move(head)](connection& c) {
    c.send(head);
    c.wait_closed_by_peer(10s);
  };
}

// Times at which requests arrived, recorded by the handler.
struct arrivals {
  std::mutex mutex;
  std::vector<clock_type::time_point> times;
  void add() {
    std::lock_guard<std::mutex> lock(mutex);
    times.push_back(clock_type::now());
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(mutex);
    return times.size();
  }
  std::vector<clock_type::time_point> snapshot() {
    std::lock_guard<std::mutex> lock(mutex);
    return times;
  }
};

std::chrono::milliseconds gap(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a);
}

} // namespace

TEST_CASE("hostile server: a rejected response is judged from its head, body open or not",
          "[integration][issue-20]") {
  const std::string page = "<html>not here</html>";
  SECTION("a 404 without Content-Length that never ends: no retry, within milliseconds") {
    test_server server(
        hold_open("HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n\r\n" + page));
    collected got;
    auto options = sse_test::fast_options(server.url("/gone"));
    options.idle_timeout = 30s; // the verdict must not wait for it
    sse::client client(options);
    got.attach(client);
    const auto start = clock_type::now();
    client.start();
    REQUIRE(got.closes.wait_for_size(1, 5s));
    CHECK(clock_type::now() - start < 2s);
    const auto errors = got.errors.snapshot();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].code == sse::errc::http_status);
    CHECK(errors[0].http_status == 404);
    CHECK_FALSE(errors[0].will_retry);
    CHECK(errors[0].body == page); // what had arrived with the head
    CHECK(got.closes.snapshot()[0] == sse::close_reason::failed);
    CHECK(server.requests().size() == 1);
  }
  SECTION("a 200 text/html that never ends: a content_type error, no retry") {
    test_server server(hold_open("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + page));
    collected got;
    sse::client client(sse_test::fast_options(server.url()));
    got.attach(client);
    const auto start = clock_type::now();
    client.start();
    REQUIRE(got.closes.wait_for_size(1, 5s));
    CHECK(clock_type::now() - start < 2s);
    REQUIRE(got.errors.size() == 1);
    CHECK(got.errors.snapshot()[0].code == sse::errc::content_type);
    CHECK(got.closes.snapshot()[0] == sse::close_reason::failed);
  }
  SECTION("a 200 without Content-Type that never ends: a content_type error, no retry") {
    test_server server(hold_open("HTTP/1.1 200 OK\r\n\r\ndata: x\n\n"));
    collected got;
    sse::client client(sse_test::fast_options(server.url()));
    got.attach(client);
    client.start();
    REQUIRE(got.closes.wait_for_size(1, 5s));
    CHECK(got.errors.snapshot().at(0).code == sse::errc::content_type);
    CHECK(got.events.size() == 0);
  }
  SECTION("a 503 with Retry-After: 1 that never ends is retried after one second") {
    arrivals seen;
    test_server server([&](connection& c) {
      seen.add();
      c.send("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\r\nbusy");
      c.wait_closed_by_peer(10s);
    });
    collected got;
    auto options = sse_test::fast_options(server.url());
    options.reconnect.max_delay = 5s; // so Retry-After is not capped below one second
    options.reconnect.max_attempts = 1;
    sse::client client(options);
    got.attach(client);
    client.start();
    REQUIRE(got.closes.wait_for_size(1, 10s));
    const auto errors = got.errors.snapshot();
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].code == sse::errc::http_status);
    CHECK(errors[0].will_retry);
    CHECK(errors[0].retry_delay == 1000ms);
    const auto times = seen.snapshot();
    REQUIRE(times.size() == 2);
    CHECK(gap(times[0], times[1]) >= 950ms);
    CHECK(gap(times[0], times[1]) < 3s);
  }
}

TEST_CASE("hostile server: an id over max_id_size ends the stream, one at the bound resumes",
          "[integration][issue-20]") {
  const auto serve_id = [](std::size_t size) {
    auto count = std::make_shared<std::atomic<int>>(0);
    return [count, size](connection& c) {
      if (count->fetch_add(1) == 0) {
        c.send_head(200, stream_headers);
        c.send("id: " + std::string(size, 'i') + "\ndata: first\n\n");
        return; // the end of the body: the client reconnects
      }
      c.send_head(200, stream_headers);
      c.send("data: second\n\n");
      c.wait_closed_by_peer(10s);
    };
  };
  SECTION("at the bound: the reconnect sends it") {
    test_server server(serve_id(4096));
    collected got;
    sse::client client(fast_options(server.url()));
    got.attach(client);
    client.start();
    REQUIRE(got.events.wait_for_size(2, 5s));
    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[1].header("Last-Event-ID") == std::string(4096, 'i'));
  }
  SECTION("past the bound (1 MiB): the event is delivered, then too_large, no retry") {
    test_server server(serve_id(std::size_t{1} << 20));
    collected got;
    sse::client client(fast_options(server.url()));
    got.attach(client);
    client.start();
    REQUIRE(got.closes.wait_for_size(1, 5s));
    REQUIRE(got.events.size() == 1);
    CHECK(got.events.snapshot()[0].data == "first");
    const auto errors = got.errors.snapshot();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].code == sse::errc::too_large);
    CHECK_FALSE(errors[0].will_retry);
    CHECK(got.closes.snapshot()[0] == sse::close_reason::failed);
    CHECK(server.requests().size() == 1);
  }
  SECTION("one byte past a smaller bound") {
    test_server server(serve_id(101));
    collected got;
    auto options = fast_options(server.url());
    options.max_id_size = 100;
    sse::client client(options);
    got.attach(client);
    client.start();
    REQUIRE(got.closes.wait_for_size(1, 5s));
    CHECK(got.errors.snapshot().at(0).code == sse::errc::too_large);
    CHECK(server.requests().size() == 1);
  }
  SECTION("a longer last_event_id option is a usage error") {
    auto options = fast_options("http://127.0.0.1:1/");
    options.last_event_id = std::string(4097, 'x');
    CHECK_THROWS_AS(sse::client(options), sse::usage_error);
  }
}

TEST_CASE("hostile server: retry: 0 and outages stay under 10 attempts/s by default",
          "[integration][issue-20]") {
  // The default reconnect options, as a user who sets nothing has them.
  const auto attempts_per_second = [](arrivals& seen, std::size_t n) {
    const auto times = seen.snapshot();
    const double seconds = std::chrono::duration<double>(times[n - 1] - times[0]).count();
    return static_cast<double>(n - 1) / seconds;
  };
  SECTION("a server that answers retry: 0 and closes") {
    arrivals seen;
    test_server server([&](connection& c) {
      seen.add();
      c.send_head(200, stream_headers);
      c.send("retry: 0\n\n");
    });
    sse::client_options options;
    options.url = server.url();
    sse::client client(options);
    client.start();
    REQUIRE(wait_until([&] { return seen.size() >= 6; }, 10s));
    CHECK(attempts_per_second(seen, 6) <= 10.0);
  }
  SECTION("a server that answers retry: 0 with one event each time") {
    arrivals seen;
    test_server server([&](connection& c) {
      seen.add();
      c.send_head(200, stream_headers);
      c.send("retry: 0\ndata: tick\n\n");
    });
    sse::client_options options;
    options.url = server.url();
    sse::client client(options);
    client.start();
    REQUIRE(wait_until([&] { return seen.size() >= 8; }, 10s));
    CHECK(attempts_per_second(seen, 8) <= 10.5);
  }
  SECTION("a dead port, even with an initial delay of 0") {
    recorder<clock_type::time_point> failures;
    sse::client_options options;
    options.url = "http://127.0.0.1:" + std::to_string(sse_test::unused_port()) + "/";
    options.reconnect.initial_delay = 0ms;
    sse::client client(options);
    client.on_error([&](const sse::error&) { failures.push(clock_type::now()); });
    client.start();
    REQUIRE(failures.wait_for_size(6, 10s));
    const auto times = failures.snapshot();
    // 0, then 100, 200, 400, 800 ms less at most half the growth above the floor.
    CHECK(gap(times[0], times[5]) >= 700ms);
  }
}

TEST_CASE("hostile server: headers dripped a byte at a time are activity, not silence",
          "[integration][issue-20]") {
  test_server server([](connection& c) {
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Pad: " + std::string(120, 'p') +
        "\r\n\r\n";
    for (const char one : head) { // 1.5 s of headers, one byte per 10 ms
      if (!c.send(std::string(1, one)) || !c.sleep_for(10ms)) {
        return;
      }
    }
    c.send("data: after the drip\n\n");
    c.wait_closed_by_peer(10s);
  });
  collected got;
  auto options = fast_options(server.url());
  options.idle_timeout = 500ms;
  sse::client client(options);
  got.attach(client);
  client.start();
  REQUIRE(got.events.wait_for_size(1, 10s));
  CHECK(got.events.snapshot()[0].data == "after the drip");
  CHECK(got.errors.size() == 0);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("hostile server: a Content-Type after 1,500 other headers is found",
          "[integration][issue-20]") {
  std::string head = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 1500; ++i) { // about 14 KB, far within libcurl's limits
    head += "X-H" + std::to_string(i) + ": v\r\n";
  }
  head += "Content-Type: text/event-stream\r\n\r\ndata: found\n\n";
  test_server server(hold_open(head));
  collected got;
  sse::client client(fast_options(server.url()));
  got.attach(client);
  client.start();
  REQUIRE(got.events.wait_for_size(1, 5s));
  CHECK(got.events.snapshot()[0].data == "found");
  CHECK(got.errors.size() == 0);
}

TEST_CASE("hostile server: an unasked 101 Switching Protocols fails at once",
          "[integration][issue-20]") {
  test_server server(hold_open("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\n\r\n"));
  collected got;
  auto options = fast_options(server.url());
  options.idle_timeout = 30s;
  sse::client client(options);
  got.attach(client);
  const auto start = clock_type::now();
  client.start();
  REQUIRE(got.closes.wait_for_size(1, 5s));
  CHECK(clock_type::now() - start < 2s);
  const auto errors = got.errors.snapshot();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == sse::errc::http_status);
  CHECK(errors[0].http_status == 101);
  CHECK_FALSE(errors[0].will_retry);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("hostile server: a stream that delivered events reconnects after the server's retry",
          "[integration][issue-20]") {
  // A poll-style server: one event with retry: 300, then the end of the response.
  arrivals seen;
  test_server server([&](connection& c) {
    seen.add();
    c.send_head(200, stream_headers);
    c.send("retry: 300\ndata: poll\n\n");
  });
  sse::client_options options; // default jitter: it may lengthen the server's delay, never cut it
  options.url = server.url();
  sse::client client(options);
  client.start();
  REQUIRE(wait_until([&] { return seen.size() >= 6; }, 10s));
  const auto times = seen.snapshot();
  for (std::size_t i = 1; i < 6; ++i) {
    INFO("gap " << i);
    CHECK(gap(times[i - 1], times[i]) >= 295ms); // never below what the server asked for
    CHECK(gap(times[i - 1], times[i]) < 800ms);  // and flat: no backoff growth
  }
}
