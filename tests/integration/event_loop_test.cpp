// SPDX-License-Identifier: MIT
// The event loop on the backend this build chose: wake-ups, posted tasks, timers, many sockets.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include "support/test_server.hpp"
#include "support/wait.hpp"
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sse_test::connection;
using sse_test::recorder;
using sse_test::test_server;
using sse_test::wait_until;

TEST_CASE("event_loop: the backend is epoll on Linux unless SSE_CLIENT_PORTABLE_LOOP is defined",
          "[event_loop][integration]") {
#if defined(__linux__) && !defined(SSE_CLIENT_PORTABLE_LOOP)
  const std::string expected = "epoll";
#else
  const std::string expected = "poll";
#endif
  CHECK(std::string(sse::detail::poller::backend) == expected);
}

TEST_CASE("event_loop: a post from another thread wakes a loop that has nothing to do",
          "[event_loop][integration]") {
  // With nothing to do the loop sleeps for up to a minute: each of these posts must wake it.
  sse::event_loop loop;
  for (int i = 0; i < 200; ++i) {
    std::atomic<bool> ran{false};
    loop.core()->post([&ran] { ran = true; });
    REQUIRE(wait_until([&] { return ran.load(); }, 2s));
  }
}

TEST_CASE("event_loop: 20,000 posts made while the loop is busy all run, in order",
          "[event_loop][integration]") {
  // Far more wake-ups than a socket pair's buffer holds: the writes that would block are
  // dropped, and the one wake-up pending is enough.
  constexpr int posts = 20000;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> busy{false};
  std::vector<int> order;
  std::atomic<int> done{0};
  sse::event_loop loop; // after what its tasks use, so it ends first
  loop.core()->post([released, &busy] {
    busy = true;
    released.wait();
  });
  REQUIRE(wait_until([&] { return busy.load(); }, 2s));
  for (int i = 0; i < posts; ++i) {
    loop.core()->post([i, &order, &done] {
      order.push_back(i);
      done.fetch_add(1);
    });
  }
  release.set_value();
  REQUIRE(wait_until([&] { return done.load() == posts; }, 10s));
  bool in_order = true;
  for (int i = 0; i < posts; ++i) {
    in_order = in_order && order[static_cast<std::size_t>(i)] == i;
  }
  CHECK(in_order);
}

TEST_CASE("event_loop: timers run in the order of their times; a cancelled one never runs",
          "[event_loop][integration]") {
  recorder<int> fired;
  sse::event_loop loop;
  const auto core = loop.core();
  loop.core()->post([core, &fired] {
    const auto now = sse::detail::loop_core::clock::now();
    core->add_timer(now + 60ms, [&fired] { fired.push(60); });
    core->add_timer(now + 20ms, [&fired] { fired.push(20); });
    const auto cancelled = core->add_timer(now + 30ms, [&fired] { fired.push(30); });
    core->add_timer(now + 40ms, [&fired] { fired.push(40); });
    core->cancel_timer(cancelled);
  });
  REQUIRE(fired.wait_for_size(3, 5s));
  CHECK(fired.snapshot() == std::vector<int>{20, 40, 60});
}

TEST_CASE("event_loop: stop() from another thread ends run() on the caller's thread while a "
          "stream is open",
          "[event_loop][integration]") {
  test_server server([](connection& c) {
    c.send_head(200);
    c.send("data: one\n\n");
    c.wait_closed_by_peer(30s);
  });
  std::atomic<int> events{0};
  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  sse::client client(sse_test::fast_options(server.url()), loop);
  client.on_message([&events](const sse::event&) { events.fetch_add(1); });
  client.start();
  std::thread stopper([&] {
    if (wait_until([&] { return events.load() == 1; }, 5s)) {
      loop.stop();
    }
  });
  loop.run();
  stopper.join();
  CHECK(events.load() == 1);
}

TEST_CASE("event_loop: 150 streams on one loop all get their events, through a drop each",
          "[event_loop][integration]") {
  // Many sockets in the loop's set at once, each removed and another added when its server
  // drops it: the set stays right through that churn.
  constexpr std::size_t streams = 150;
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
  std::atomic<std::size_t> firsts{0};
  std::atomic<std::size_t> seconds{0};
  sse::event_loop loop;
  std::vector<std::unique_ptr<sse::client>> clients;
  for (std::size_t i = 0; i < streams; ++i) {
    clients.push_back(std::make_unique<sse::client>(sse_test::fast_options(server.url()), loop));
    clients.back()->on_message(
        [&](const sse::event& e) { (e.data == "first" ? firsts : seconds).fetch_add(1); });
  }
  for (auto& client : clients) {
    client->start();
  }
  REQUIRE(wait_until([&] { return seconds.load() == streams; }, 20s));
  CHECK(firsts.load() == streams);
  CHECK(server.connection_count() == 2 * streams);
}
