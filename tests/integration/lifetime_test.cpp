// SPDX-License-Identifier: MIT
// Races and lifetime: close() and restart() inside a dispatch, throwing hooks, listener captures
// that call back into the client, off() while other callbacks run, moved-from clients, and the
// state a browser user expects to read.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include <catch2/catch.hpp>
#include <time.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sse_test::collected;
using sse_test::connection;
using sse_test::fast_options;
using sse_test::recorder;
using sse_test::stream_headers;
using sse_test::test_server;
using sse_test::wait_until;

namespace {

// Sends `body`, then holds the stream open; every later request gets "data: again".
test_server::handler first_then_hold(std::string body) {
  auto count = std::make_shared<std::atomic<int>>(0);
  return [count, body = std::move(body)](connection& c) {
    c.send_head(200, stream_headers);
    c.send(count->fetch_add(1) == 0 ? body : "data: again\n\n");
    c.wait_closed_by_peer(10s);
  };
}

// CPU time of the calling thread.
std::chrono::nanoseconds thread_cpu_time() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

} // namespace

TEST_CASE("lifetime: restart() from one listener still gives the event to the others",
          "[integration][issue-20]") {
  test_server server(first_then_hold("id: 1\ndata: one\n\n"));
  recorder<std::string> b_saw;
  sse::client client(fast_options(server.url()));
  client.on_message([&](const sse::event& e) {
    if (e.id == "1") {
      client.restart();
    }
  });
  client.on_message([&](const sse::event& e) { b_saw.push(e.data); });
  client.start();
  REQUIRE(b_saw.wait_for_size(2, 5s));
  CHECK(b_saw.snapshot()[0] == "one"); // not lost, although the reconnect resumes after id 1
  CHECK(b_saw.snapshot()[1] == "again");
  const auto requests = server.requests();
  REQUIRE(requests.size() >= 2);
  CHECK(requests[1].header("Last-Event-ID") == std::string("1"));
}

TEST_CASE("lifetime: close() from one listener still gives the event to the others",
          "[integration][issue-20]") {
  test_server server(first_then_hold("id: 1\ndata: one\n\nid: 2\ndata: two\n\n"));
  recorder<std::string> b_saw;
  collected got;
  sse::client client(fast_options(server.url()));
  client.on_message([&](const sse::event&) { client.close(); });
  client.on_message([&](const sse::event& e) { b_saw.push(e.data); });
  got.attach(client);
  client.start();
  REQUIRE(got.closes.wait_for_size(1, 5s));
  CHECK(b_saw.snapshot() == std::vector<std::string>{"one"}); // that event, and none after
  CHECK(got.events.size() == 1);
}

TEST_CASE("lifetime: hooks that throw something not a std::exception are reported",
          "[integration][issue-20]") {
  test_server server(sse_test::status_only(503));
  collected got;
  auto options = fast_options(server.url());
  options.reconnect.max_attempts = 2;
  std::atomic<int> before_calls{0};
  options.before_attempt = [&](sse::attempt_request&) {
    before_calls.fetch_add(1);
    throw 42;
  };
  options.on_failure = [](const sse::error&, sse::retry_decision proposed) -> sse::retry_decision {
    if (proposed.retry) {
      throw std::string("not an exception class");
    }
    return proposed;
  };
  sse::client client(options);
  got.attach(client);
  client.start();
  REQUIRE(got.closes.wait_for_size(1, 10s)); // the process is still here: no std::terminate
  CHECK(before_calls.load() == 3);
  int listener_errors = 0;
  for (const auto& e : got.errors.snapshot()) {
    listener_errors += e.code == sse::errc::listener ? 1 : 0;
  }
  CHECK(listener_errors >= 5); // three before_attempt and two on_failure throws
}

namespace {

// A capture whose destructor calls back into the client, as a user's RAII guard may.
struct calls_back_when_destroyed {
  sse::client* client = nullptr;
  sse::listener_id other{};
  std::atomic<bool>* destroyed = nullptr;
  calls_back_when_destroyed(sse::client* c, sse::listener_id o, std::atomic<bool>* d)
      : client(c), other(o), destroyed(d) {}
  calls_back_when_destroyed(const calls_back_when_destroyed&) = delete;
  calls_back_when_destroyed& operator=(const calls_back_when_destroyed&) = delete;
  ~calls_back_when_destroyed() {
    client->off(other);
    client->on("late", [](const sse::event&) {});
    destroyed->store(true);
  }
};

} // namespace

TEST_CASE("lifetime: a capture whose destructor calls off() or on() does not deadlock",
          "[integration][issue-20]") {
  std::atomic<bool> send_second{false};
  test_server server([&](connection& c) {
    c.send_head(200, stream_headers);
    c.send("data: one\n\n");
    if (wait_until([&] { return send_second.load() || c.stopping(); }, 10s)) {
      c.send("data: two\n\n");
    }
    c.wait_closed_by_peer(10s);
  });
  recorder<std::string> got;
  std::atomic<bool> destroyed{false};
  sse::client client(fast_options(server.url()));
  const auto other = client.on("other", [](const sse::event&) {});
  client.on_message([&](const sse::event& e) { got.push(e.data); });
  auto guard = std::make_shared<calls_back_when_destroyed>(&client, other, &destroyed);
  const auto id = client.on_message([guard](const sse::event&) {});
  guard.reset(); // the listener holds the only reference now
  client.start();
  REQUIRE(got.wait_for_size(1, 5s));
  std::atomic<bool> done{false};
  std::thread remover([&] {
    client.off(id); // may destroy the capture here, or leave that to the loop thread
    done.store(true);
  });
  const bool returned = wait_until([&] { return done.load(); }, 5s);
  if (!returned) {
    remover.detach(); // deadlocked: fail rather than hang the suite
    FAIL("off() deadlocked on the capture's destructor");
  }
  remover.join();
  // The next event makes the loop thread let go of the list that still held it.
  send_second.store(true);
  REQUIRE(got.wait_for_size(2, 5s));
  CHECK(wait_until([&] { return destroyed.load(); }, 5s));
}

TEST_CASE("lifetime: off(x) waits only for x, and blocks instead of spinning",
          "[integration][issue-20]") {
  SECTION("another listener waiting for a mutex the caller holds: no deadlock") {
    test_server server(first_then_hold("data: one\n\n"));
    std::mutex m;
    std::atomic<bool> y_waiting{false};
    sse::client client(fast_options(server.url()));
    const auto x = client.on("other", [](const sse::event&) {});
    client.on_message([&](const sse::event&) {
      y_waiting.store(true);
      std::lock_guard<std::mutex> lock(m); // blocks while the test holds m
    });
    std::unique_lock<std::mutex> hold(m);
    client.start();
    REQUIRE(wait_until([&] { return y_waiting.load(); }, 5s));
    std::atomic<bool> done{false};
    std::thread remover([&] {
      client.off(x); // x is not running: must not wait for y
      done.store(true);
    });
    const bool returned = wait_until([&] { return done.load(); }, 5s);
    hold.unlock(); // lets y finish either way
    remover.join();
    CHECK(returned);
  }
  SECTION("x itself running for a second: off waits, using almost no CPU") {
    test_server server(first_then_hold("data: one\n\n"));
    std::atomic<bool> running{false};
    sse::client client(fast_options(server.url()));
    const auto x = client.on_message([&](const sse::event&) {
      running.store(true);
      std::this_thread::sleep_for(1s); // the slow listener under test, not a synchronisation
    });
    client.start();
    REQUIRE(wait_until([&] { return running.load(); }, 5s));
    const auto cpu_before = thread_cpu_time();
    const auto start = std::chrono::steady_clock::now();
    client.off(x);
    const auto waited = std::chrono::steady_clock::now() - start;
    const auto cpu = thread_cpu_time() - cpu_before;
    CHECK(waited >= 500ms); // it did wait for x
    CHECK(cpu < 100ms);     // by blocking
  }
}

TEST_CASE("lifetime: the destructor waits for a running callback by blocking",
          "[integration][issue-20]") {
  test_server server(first_then_hold("data: one\n\n"));
  std::atomic<bool> running{false};
  std::atomic<bool> returned{false};
  auto client = std::make_unique<sse::client>(fast_options(server.url()));
  client->on_message([&](const sse::event&) {
    running.store(true);
    std::this_thread::sleep_for(1s); // the slow listener under test, not a synchronisation
    returned.store(true);
  });
  client->start();
  REQUIRE(wait_until([&] { return running.load(); }, 5s));
  const auto cpu_before = thread_cpu_time();
  client.reset();
  const auto cpu = thread_cpu_time() - cpu_before;
  CHECK(returned.load()); // no callback of the client runs once its destructor returned
  CHECK(cpu < 100ms);     // it blocked rather than spun for that second
}

TEST_CASE("lifetime: a moved-from client: destructor and close() do nothing, the rest throws",
          "[integration][issue-20]") {
  sse::client a(fast_options("http://127.0.0.1:1/"));
  sse::client b(std::move(a));
  CHECK_NOTHROW(a.close());
  CHECK_THROWS_AS(a.start(), std::logic_error);
  CHECK_THROWS_AS(a.on_message([](const sse::event&) {}), std::logic_error);
  CHECK_THROWS_AS(a.off(sse::listener_id{1}), std::logic_error);
  CHECK_THROWS_AS(a.ready_state(), std::logic_error);
  CHECK_THROWS_AS(a.last_event_id(), std::logic_error);
  CHECK_THROWS_AS(a.wait_for(1ms), std::logic_error);
  CHECK(b.ready_state() == sse::ready_state::connecting);
  SECTION("and after a move-assignment") {
    sse::client c(fast_options("http://127.0.0.1:1/"));
    c = std::move(b);
    CHECK_THROWS_AS(b.stats(), std::logic_error);
    CHECK(c.ready_state() == sse::ready_state::connecting);
  }
} // a's destructor runs here on a moved-from client

TEST_CASE("lifetime: ready_state() is closed as soon as close() returns",
          "[integration][issue-20]") {
  test_server server(first_then_hold("data: one\n\n"));
  SECTION("from another thread, every time") {
    for (int i = 0; i < 20; ++i) {
      collected got;
      sse::client client(fast_options(server.url()));
      got.attach(client);
      client.start();
      REQUIRE(got.opens.wait_for_size(1, 5s));
      client.close();
      CHECK(client.ready_state() == sse::ready_state::closed);
      REQUIRE(got.closes.wait_for_size(1, 5s));
      // Listeners heard closed once, last.
      const auto states = got.states.snapshot();
      REQUIRE_FALSE(states.empty());
      CHECK(states.back() == sse::ready_state::closed);
    }
  }
  SECTION("inside a listener") {
    recorder<sse::ready_state> seen;
    sse::client client(fast_options(server.url()));
    client.on_message([&](const sse::event&) {
      client.close();
      seen.push(client.ready_state());
    });
    client.start();
    REQUIRE(seen.wait_for_size(1, 5s));
    CHECK(seen.snapshot()[0] == sse::ready_state::closed);
  }
}

TEST_CASE("lifetime: the final on_error sees ready_state() closed, a retried one connecting",
          "[integration][issue-20]") {
  SECTION("a 404: final") {
    test_server server(sse_test::status_only(404));
    recorder<sse::ready_state> seen;
    recorder<sse::close_reason> reasons;
    sse::client client(fast_options(server.url()));
    client.on_error([&](const sse::error& e) {
      if (!e.will_retry) {
        reasons.push(client.close_reason()); // first: the test waits on `seen`
        seen.push(client.ready_state());
      }
    });
    client.start();
    REQUIRE(seen.wait_for_size(1, 5s));
    CHECK(seen.snapshot()[0] == sse::ready_state::closed);
    CHECK(reasons.snapshot()[0] == sse::close_reason::failed);
  }
  SECTION("a 503: retried") {
    test_server server(sse_test::status_only(503));
    recorder<sse::ready_state> seen;
    auto options = fast_options(server.url());
    options.reconnect.max_attempts = 1;
    sse::client client(options);
    client.on_error([&](const sse::error&) { seen.push(client.ready_state()); });
    client.start();
    REQUIRE(seen.wait_for_size(2, 5s));
    CHECK(seen.snapshot()[0] == sse::ready_state::connecting);
    CHECK(seen.snapshot()[1] == sse::ready_state::closed);
  }
}
