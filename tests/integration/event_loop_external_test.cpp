// SPDX-License-Identifier: MIT
// An event loop driven by the host program's loop: here, poll() on its descriptor in the test's
// own thread, as asio, libuv or a GUI loop would watch it.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include "support/test_server.hpp"
#include "support/wait.hpp"
#include <catch2/catch.hpp>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sse_test::connection;
using sse_test::test_server;
using sse_test::wait_until;

namespace {

using steady = std::chrono::steady_clock;

// The host loop: waits on the descriptor up to next_timeout(), then process(), until `done()`
// or the deadline. Records the longest process() call, which must never wait.
struct host_loop {
  sse::event_loop& loop;
  std::chrono::nanoseconds longest_process{0};
  int rounds = 0;

  template <typename Done>
  bool run_until(Done done, std::chrono::milliseconds timeout) {
    const auto deadline = steady::now() + timeout;
    while (!done()) { // bounded by the deadline: each pass waits at most until it
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - steady::now());
      if (left <= 0ms) {
        return done();
      }
      const std::optional<std::chrono::milliseconds> next = loop.next_timeout();
      const auto wait = next ? std::min(*next, left) : left;
      pollfd watched{};
      watched.fd = loop.descriptor();
      watched.events = POLLIN;
      ::poll(&watched, 1, static_cast<int>(wait.count()));
      const auto start = steady::now();
      loop.process();
      longest_process = std::max(longest_process, steady::now() - start);
      ++rounds;
    }
    return true;
  }
};

bool readable_within(sse::event_loop& loop, std::chrono::milliseconds timeout) {
  pollfd watched{};
  watched.fd = loop.descriptor();
  watched.events = POLLIN;
  return ::poll(&watched, 1, static_cast<int>(timeout.count())) == 1;
}

} // namespace

TEST_CASE("event_loop: an external loop delivers a stream's events on the thread that drives it",
          "[event_loop][external][integration]") {
  // The second event comes only after the first was seen: the descriptor must wake the host,
  // not a timeout, and the host waits in poll(), never in process().
  std::atomic<bool> first_seen{false};
  test_server server([&](connection& c) {
    c.send_head(200);
    c.send("id: 1\ndata: one\n\n");
    if (wait_until([&] { return first_seen.load(); }, 10s)) {
      c.send("id: 2\ndata: two\n\n");
    }
    c.wait_closed_by_peer(30s);
  });
  sse::event_loop loop(sse::event_loop::mode::external);
  std::vector<std::string> data;        // the driving thread only
  std::vector<std::thread::id> threads; // idem
  sse::client client(sse_test::fast_options(server.url()), loop);
  client.on_message([&](const sse::event& e) {
    data.push_back(e.data);
    threads.push_back(std::this_thread::get_id());
    first_seen = true;
  });
  client.on_open([&](const sse::response_info&) { threads.push_back(std::this_thread::get_id()); });
  client.start();
  host_loop host{loop};
  REQUIRE(host.run_until([&] { return data.size() == 2; }, 10s));
  CHECK(data == std::vector<std::string>{"one", "two"});
  CHECK(std::all_of(threads.begin(), threads.end(),
                    [](std::thread::id id) { return id == std::this_thread::get_id(); }));
  CHECK(client.last_event_id() == "2");
  const double longest_ms = std::chrono::duration<double, std::milli>(host.longest_process).count();
  INFO("longest process(): " << longest_ms << " ms over " << host.rounds << " rounds");
  CHECK(host.longest_process < 1s);
  // Idle now: process() returns at once though the stream is open and nothing arrives.
  const auto start = steady::now();
  loop.process();
  CHECK(steady::now() - start < 1s);
  client.close();
  REQUIRE(host.run_until(
      [&] {
        return client.close_reason() == sse::close_reason::closed &&
               loop.next_timeout() != std::chrono::milliseconds(0);
      },
      5s));
}

TEST_CASE("event_loop: an external loop's timers fire from process(), when next_timeout() says",
          "[event_loop][external][timer][integration]") {
  sse::event_loop loop(sse::event_loop::mode::external);
  CHECK_FALSE(loop.next_timeout()); // nothing at all to do
  std::vector<std::thread::id> fired;
  const auto start = steady::now();
  std::optional<steady::duration> fired_after;
  std::thread adder([&] {
    loop.add_timer(80ms, [&] {
      fired_after = steady::now() - start;
      fired.push_back(std::this_thread::get_id());
    });
  });
  adder.join();
  // Added from another thread: a posted task, announced by the descriptor.
  CHECK(readable_within(loop, 5000ms));
  CHECK(loop.next_timeout() == 0ms);
  loop.process();
  const auto next = loop.next_timeout();
  REQUIRE(next);
  CHECK(*next > 0ms);
  CHECK(*next <= 80ms);
  CHECK(fired.empty());
  host_loop host{loop};
  REQUIRE(host.run_until([&] { return !fired.empty(); }, 5s));
  CHECK(fired.front() == std::this_thread::get_id());
  CHECK(*fired_after >= 80ms);
  CHECK_FALSE(loop.next_timeout());
  // Waiting on poll() until next_timeout(), not spinning: a handful of rounds.
  CHECK(host.rounds < 20);
}

TEST_CASE("event_loop: a post from another thread makes an external loop's descriptor readable",
          "[event_loop][external][post][integration]") {
  sse::event_loop loop(sse::event_loop::mode::external);
  loop.process();
  CHECK_FALSE(readable_within(loop, 0ms));
  for (int i = 0; i < 50; ++i) {
    std::thread::id ran_on{};
    std::thread poster([&] { loop.post([&] { ran_on = std::this_thread::get_id(); }); });
    poster.join();
    REQUIRE(readable_within(loop, 5000ms));
    loop.process();
    CHECK(ran_on == std::this_thread::get_id());
  }
  // A post made inside process() keeps the descriptor readable, or it would wait for good.
  int runs = 0;
  loop.post([&] { loop.post([&] { ++runs; }); });
  loop.process();
  CHECK(runs == 0);
  CHECK(readable_within(loop, 5000ms));
  CHECK(loop.next_timeout() == 0ms);
  loop.process();
  CHECK(runs == 1);
}

TEST_CASE("event_loop: process() rejects re-entry and other modes; run() rejects an external loop",
          "[event_loop][external]") {
  sse::event_loop loop(sse::event_loop::mode::external);
  CHECK_THROWS_AS(loop.run(), std::logic_error);
  bool threw = false;
  loop.post([&] {
    try {
      loop.process();
    } catch (const std::logic_error&) {
      threw = true;
    }
  });
  loop.process();
  CHECK(threw);
  sse::event_loop caller(sse::event_loop::mode::caller_thread);
  CHECK_THROWS_AS(caller.process(), std::logic_error);
  CHECK_THROWS_AS(caller.descriptor(), std::logic_error);
  CHECK_THROWS_AS(caller.next_timeout(), std::logic_error);
}

TEST_CASE("event_loop: many streams on an external loop, through a drop each",
          "[event_loop][external][integration]") {
  constexpr std::size_t streams = 40;
  test_server server([](connection& c) {
    const bool resumed = c.req().header("Last-Event-ID").has_value();
    c.send_head(200);
    if (!resumed) {
      c.send("id: 1\ndata: first\n\n");
      c.close();
      return;
    }
    c.send("id: 2\ndata: second\n\n");
    c.wait_closed_by_peer(30s);
  });
  std::size_t seconds = 0;
  sse::event_loop loop(sse::event_loop::mode::external);
  std::vector<std::unique_ptr<sse::client>> clients;
  for (std::size_t i = 0; i < streams; ++i) {
    clients.push_back(std::make_unique<sse::client>(sse_test::fast_options(server.url()), loop));
    clients.back()->on_message([&](const sse::event& e) { seconds += e.data == "second"; });
    clients.back()->start();
  }
  host_loop host{loop};
  REQUIRE(host.run_until([&] { return seconds == streams; }, 20s));
  CHECK(server.connection_count() == 2 * streams);
  CHECK(host.longest_process < 2s);
}
