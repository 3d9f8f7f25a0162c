// SPDX-License-Identifier: MIT
// The event loop on the backend this build chose: wake-ups, posted tasks, timers, many sockets.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include "support/test_server.hpp"
#include "support/wait.hpp"
#include <catch2/catch.hpp>
#ifndef _WIN32
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
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

namespace {

// Sets a flag when destroyed: a function's captures were let go.
struct destroyed_flag {
  explicit destroyed_flag(std::atomic<bool>& flag) : flag_(flag) {}
  ~destroyed_flag() { flag_ = true; }
  destroyed_flag(const destroyed_flag&) = delete;
  destroyed_flag& operator=(const destroyed_flag&) = delete;
  std::atomic<bool>& flag_;
};

} // namespace

TEST_CASE("event_loop: post runs functions on the loop's thread, in order, never inline",
          "[event_loop][post][integration]") {
  recorder<int> order;
  recorder<std::thread::id> threads;
  std::atomic<bool> inner_ran_inline{false};
  std::atomic<bool> inner_ran{false};
  sse::event_loop loop;
  for (int i = 0; i < 100; ++i) {
    REQUIRE(loop.post([i, &order, &threads] {
      threads.push(std::this_thread::get_id());
      order.push(i);
    }));
  }
  std::atomic<bool> outer_returned{false};
  REQUIRE(loop.post([&] {
    loop.post([&] {
      inner_ran_inline = !outer_returned.load();
      inner_ran = true;
    });
    outer_returned = true;
  }));
  REQUIRE(order.wait_for_size(100, 5s));
  REQUIRE(wait_until([&] { return inner_ran.load(); }, 5s));
  CHECK_FALSE(inner_ran_inline.load());
  std::vector<int> expected(100);
  for (int i = 0; i < 100; ++i) {
    expected[static_cast<std::size_t>(i)] = i;
  }
  CHECK(order.snapshot() == expected);
  const auto ids = threads.snapshot();
  CHECK(ids.front() != std::this_thread::get_id());
  CHECK(std::count(ids.begin(), ids.end(), ids.front()) == 100);
}

TEST_CASE("event_loop: post and add_timer reject an empty function", "[event_loop][post][timer]") {
  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  CHECK_THROWS_AS(loop.post(nullptr), std::invalid_argument);
  CHECK_THROWS_AS(loop.add_timer(1ms, nullptr), std::invalid_argument);
}

TEST_CASE("event_loop: a timer runs once on the loop's thread, no sooner than its delay",
          "[event_loop][timer][integration]") {
  recorder<std::thread::id> runs;
  sse::event_loop loop;
  const auto start = std::chrono::steady_clock::now();
  std::atomic<long long> elapsed_ms{0};
  loop.add_timer(50ms, [&] {
    elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
    runs.push(std::this_thread::get_id());
  });
  REQUIRE(runs.wait_for_size(1, 5s));
  CHECK(elapsed_ms.load() >= 50);
  CHECK(runs.snapshot().front() != std::this_thread::get_id());
  // Once only: a later post runs after anything due, and the timer has not run again.
  std::atomic<bool> later{false};
  loop.add_timer(0ms, [&] { later = true; });
  REQUIRE(wait_until([&] { return later.load(); }, 5s));
  CHECK(runs.size() == 1);
}

TEST_CASE("event_loop: public timers run in the order of their times; cancelled ones never run",
          "[event_loop][timer][integration]") {
  recorder<int> fired;
  sse::event_loop loop;
  const auto now = std::chrono::steady_clock::now();
  loop.add_timer(now + 60ms, [&] { fired.push(60); });
  loop.add_timer(now + 20ms, [&] { fired.push(20); });
  const sse::timer_id cancelled = loop.add_timer(now + 30ms, [&] { fired.push(30); });
  loop.add_timer(now + 40ms, [&] { fired.push(40); });
  CHECK(loop.cancel_timer(cancelled));
  CHECK_FALSE(loop.cancel_timer(cancelled)); // already cancelled
  REQUIRE(fired.wait_for_size(3, 5s));
  CHECK(fired.snapshot() == std::vector<int>{20, 40, 60});
}

TEST_CASE("event_loop: a timer cancelled from another thread as it falls due either never runs "
          "or has finished when cancel_timer returns false",
          "[event_loop][timer][integration]") {
  // Each cancel races the loop's firing of the same timer; whoever wins, exactly one of "the
  // function ran" and "cancel_timer said true" holds, and a false comes only after the run.
  constexpr int rounds = 2000;
  sse::event_loop loop;
  int cancelled = 0;
  int ran = 0;
  bool consistent = true;
  for (int i = 0; i < rounds; ++i) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    const auto delay = std::chrono::microseconds(i % 3 == 0 ? 0 : (i % 7) * 100);
    const sse::timer_id id = loop.add_timer(delay, [done] { *done = true; });
    if (i % 2 == 0) {
      const auto due = std::chrono::steady_clock::now() + delay;
      while (std::chrono::steady_clock::now() < due) { // ends at `due`, at most 0.6 ms on
      }
    }
    const bool was_cancelled = loop.cancel_timer(id);
    const bool finished = done->load();
    if (was_cancelled) {
      ++cancelled;
      consistent = consistent && !finished;
    } else {
      ++ran;
      consistent = consistent && finished;
    }
    if (was_cancelled) {
      // It must stay unrun: a post queued now runs after anything already due.
      std::atomic<bool> flushed{false};
      loop.post([&flushed] { flushed = true; });
      REQUIRE(wait_until([&] { return flushed.load(); }, 5s));
      consistent = consistent && !done->load();
    }
  }
  CHECK(consistent);
  CHECK(cancelled + ran == rounds);
  CHECK(cancelled > 0);
  INFO("cancelled " << cancelled << ", ran " << ran);
  CHECK(ran > 0);
}

TEST_CASE("event_loop: cancel_timer from another thread waits while the timer's function runs",
          "[event_loop][timer][integration]") {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  std::atomic<bool> cancel_returned{false};
  std::atomic<bool> finished_before_return{false};
  sse::event_loop loop;
  const sse::timer_id id = loop.add_timer(0ms, [&, released] {
    started = true;
    released.wait();
    finished = true;
  });
  REQUIRE(wait_until([&] { return started.load(); }, 5s));
  std::thread canceller([&] {
    const bool result = loop.cancel_timer(id);
    finished_before_return = finished.load() && !result;
    cancel_returned = true;
  });
  // While the function runs, cancel_timer must not return (it would, at once, if it did not
  // wait): give it a fair chance to.
  CHECK_FALSE(wait_until([&] { return cancel_returned.load(); }, 100ms));
  release.set_value();
  canceller.join();
  CHECK(finished_before_return.load());
}

TEST_CASE("event_loop: a timer may cancel itself and others from the loop's thread",
          "[event_loop][timer][integration]") {
  std::atomic<int> self_result{-1};
  std::atomic<int> other_result{-1};
  std::atomic<bool> other_ran{false};
  std::atomic<bool> done{false};
  sse::event_loop loop;
  const sse::timer_id other = loop.add_timer(1h, [&] { other_ran = true; });
  // Added on the loop's thread, so its id is stored before it can run.
  loop.post([&] {
    auto self = std::make_shared<sse::timer_id>();
    *self = loop.add_timer(0ms, [&, self] {
      self_result = loop.cancel_timer(*self) ? 1 : 0; // running: too late, and no self-wait
      other_result = loop.cancel_timer(other) ? 1 : 0;
      done = true;
    });
  });
  REQUIRE(wait_until([&] { return done.load(); }, 5s));
  CHECK(self_result.load() == 0);
  CHECK(other_result.load() == 1);
  CHECK_FALSE(other_ran.load());
}

TEST_CASE("event_loop: run() on the caller's thread returns once posted functions and timers "
          "have run",
          "[event_loop][timer][post][integration]") {
  recorder<std::string> done;
  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  loop.post([&] { done.push("post"); });
  loop.add_timer(30ms, [&] {
    done.push("timer");
    loop.post([&] { done.push("post from timer"); });
  });
  const sse::timer_id cancelled = loop.add_timer(1h, [&] { done.push("cancelled"); });
  CHECK(loop.cancel_timer(cancelled)); // else run() would wait for it
  loop.run();
  CHECK(done.snapshot() == std::vector<std::string>{"post", "timer", "post from timer"});
}

TEST_CASE("event_loop: destruction discards pending posts and timers without running them",
          "[event_loop][timer][post][integration]") {
  std::atomic<bool> ran{false};
  std::atomic<bool> post_released{false};
  std::atomic<bool> timer_released{false};
  SECTION("a caller_thread loop never run") {
    auto loop = std::make_unique<sse::event_loop>(sse::event_loop::mode::caller_thread);
    auto post_capture = std::make_shared<destroyed_flag>(post_released);
    auto timer_capture = std::make_shared<destroyed_flag>(timer_released);
    loop->post([&ran, post_capture] { ran = true; });
    loop->add_timer(0ms, [&ran, timer_capture] { ran = true; });
    post_capture.reset();
    timer_capture.reset();
    CHECK_FALSE(post_released.load());
    CHECK_FALSE(timer_released.load());
    loop.reset();
    CHECK(post_released.load());
    CHECK(timer_released.load());
  }
  SECTION("a background loop with a timer not yet due") {
    auto loop = std::make_unique<sse::event_loop>();
    auto timer_capture = std::make_shared<destroyed_flag>(timer_released);
    loop->add_timer(1h, [&ran, timer_capture] { ran = true; });
    timer_capture.reset();
    loop.reset();
    CHECK(timer_released.load());
  }
  CHECK_FALSE(ran.load());
}

TEST_CASE("event_loop: post returns false once the loop's destruction has begun",
          "[event_loop][post][integration]") {
  std::atomic<int> result{-1};
  std::atomic<bool> released{false};
  std::atomic<bool> ran{false};
  std::atomic<bool> inside{false};
  auto loop = std::make_unique<sse::event_loop>();
  sse::event_loop* const raw = loop.get(); // the unique_ptr reads null while it destroys
  const auto core = loop->core();
  raw->post([&, raw, core] {
    inside = true;
    // The destructor waits for this function: post from here once it has begun.
    if (wait_until([&] { return core->shutting_down().load(); }, 5s)) {
      auto capture = std::make_shared<destroyed_flag>(released);
      result = raw->post([&ran, capture] { ran = true; }) ? 1 : 0;
    }
  });
  REQUIRE(wait_until([&] { return inside.load(); }, 5s));
  loop.reset();
  CHECK(result.load() == 0);
  CHECK(released.load());
  CHECK_FALSE(ran.load());
}

#ifndef _WIN32 // fork()
TEST_CASE("event_loop: an exception escaping a posted function ends the program",
          "[event_loop][post]") {
  // In a child process: a caller_thread loop starts no thread, so the fork is safe.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGABRT, SIG_DFL);          // not the test framework's handler
    std::freopen("/dev/null", "w", stderr); // std::terminate's message
    sse::event_loop loop(sse::event_loop::mode::caller_thread);
    loop.post([] { throw std::runtime_error("escapes"); });
    loop.run();
    _exit(0); // reached only if the exception was swallowed
  }
  int status = 0;
  pid_t waited = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((waited = waitpid(child, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  if (waited == 0) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
  }
  REQUIRE(waited == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
}
#endif
