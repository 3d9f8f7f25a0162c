// SPDX-License-Identifier: MIT
// C++20: co_await event_stream::next_async() in an sse::task, against real servers on 127.0.0.1.
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef SSE_CLIENT_HAS_COROUTINES
#error "this test is built with C++20 coroutines"
#endif

using namespace std::chrono_literals;
using sse_test::connection;
using sse_test::fast_options;
using sse_test::stream_headers;
using sse_test::test_server;
using sse_test::wait_until;

namespace {

constexpr std::size_t event_count = 5000;

std::string numbered_events(std::size_t n) {
  std::string body;
  for (std::size_t i = 0; i < n; ++i) {
    body += "id: " + std::to_string(i) + "\ndata: " + std::string(100, 'x') + "\n\n";
  }
  return body;
}

// Takes every event until the end; records ids, the threads it went on on, and the end.
struct consumer {
  std::vector<std::string> ids;
  std::vector<std::thread::id> threads;
  sse::pull_result end;
};

sse::task consume(sse::event_stream& stream, consumer& out) {
  for (;;) {
    sse::pull_result r = co_await stream.next_async();
    out.threads.push_back(std::this_thread::get_id());
    if (!r) {
      out.end = std::move(r);
      co_return;
    }
    out.ids.push_back(r.event.id);
  }
}

std::thread::id loop_thread(sse::event_loop& loop) {
  std::atomic<bool> done{false};
  std::thread::id id;
  loop.post([&] {
    id = std::this_thread::get_id();
    done.store(true);
  });
  REQUIRE(wait_until([&] { return done.load(); }, 10s));
  return id;
}

} // namespace

TEST_CASE("event_stream: co_await next_async() takes every event once, in order, on the loop",
          "[event_stream][coroutine][integration][issue-23]") {
  test_server server(sse_test::sse_once(numbered_events(event_count)));
  auto options = fast_options(server.url());
  options.reconnect_on_end = false;
  sse::event_loop loop;
  sse::pull_options bounds;
  bounds.max_queued_events = 16; // a coroutine that falls behind pauses the transfer too
  sse::event_stream stream(options, loop, bounds);
  consumer seen;
  const sse::task t = consume(stream, seen); // runs until its first co_await, here
  REQUIRE(t.wait_for(30s));
  t.get(); // no exception escaped
  REQUIRE(seen.ids.size() == event_count);
  bool in_order = true;
  for (std::size_t i = 0; i < seen.ids.size(); ++i) {
    in_order = in_order && seen.ids[i] == std::to_string(i);
  }
  CHECK(in_order);
  CHECK(seen.end.ended());
  CHECK(seen.end.reason == sse::close_reason::server_ended);
  // The coroutine goes on on the thread that awaited while results are there already (at the
  // start, this thread, when the first events came before the first suspension: a loaded
  // machine), and once resumed by the loop it stays on the loop's thread.
  const auto on_loop = loop_thread(loop);
  std::size_t prefix = 0;
  while (prefix < seen.threads.size() && seen.threads[prefix] == std::this_thread::get_id()) {
    ++prefix;
  }
  std::size_t on_loop_after = 0;
  for (std::size_t i = prefix; i < seen.threads.size(); ++i) {
    on_loop_after += seen.threads[i] == on_loop ? 1U : 0U;
  }
  CAPTURE(prefix);
  CHECK(on_loop_after == seen.threads.size() - prefix);
  CHECK(on_loop_after > 0);
  CHECK(stream.last_event_id() == std::to_string(event_count - 1));
}

TEST_CASE("event_stream: close() from another thread resumes a waiting coroutine with ended",
          "[event_stream][coroutine][integration][issue-23]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.send("id: 1\ndata: only\n\n");
    c.wait_closed_by_peer(10s);
  });
  sse::event_stream stream(fast_options(server.url()));
  consumer seen;
  const sse::task t = consume(stream, seen);
  REQUIRE(wait_until([&] { return stream.last_event_id() == "1"; }, 10s));
  CHECK_FALSE(t.done());
  std::thread closer([&] { stream.close(); });
  closer.join();
  REQUIRE(t.wait_for(5s));
  CHECK(seen.ids == std::vector<std::string>{"1"});
  CHECK(seen.end.reason == sse::close_reason::closed);
}

TEST_CASE("event_stream: destroying the stream resumes a waiting coroutine with ended",
          "[event_stream][coroutine][integration][issue-23]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.wait_closed_by_peer(10s);
  });
  consumer seen;
  std::optional<sse::task> t;
  {
    sse::event_stream stream(fast_options(server.url()));
    t.emplace(consume(stream, seen));
    REQUIRE(
        wait_until([&] { return stream.client().ready_state() == sse::ready_state::open; }, 10s));
    CHECK_FALSE(t->done());
  } // resumed here, on this thread, and the coroutine ends without touching the stream again
  CHECK(t->done());
  CHECK(seen.end.ended());
  CHECK(seen.end.reason == sse::close_reason::closed);
  CHECK(seen.threads.back() == std::this_thread::get_id());
}

namespace {

sse::task fail_after_first(sse::event_stream& stream) {
  const sse::pull_result r = co_await stream.next_async();
  throw std::runtime_error("after " + r.event.data);
}

sse::task await_once(sse::event_stream& stream, std::atomic<int>& resumed) {
  co_await stream.next_async();
  resumed.fetch_add(1);
}

} // namespace

TEST_CASE("event_stream: task::get() rethrows what escaped the coroutine",
          "[event_stream][coroutine][integration][issue-23]") {
  test_server server(sse_test::sse_once("data: one\n\n"));
  sse::event_stream stream(fast_options(server.url()));
  const sse::task t = fail_after_first(stream);
  REQUIRE(t.wait_for(10s));
  CHECK_THROWS_WITH(t.get(), "after one");
}

TEST_CASE("event_stream: a second coroutine awaiting the same stream gets a logic_error",
          "[event_stream][coroutine][integration][issue-23]") {
  test_server server([](connection& c) {
    c.send_head(200, stream_headers);
    c.wait_closed_by_peer(10s);
  });
  sse::event_stream stream(fast_options(server.url()));
  std::atomic<int> resumed{0};
  const sse::task first = await_once(stream, resumed);
  const sse::task second = await_once(stream, resumed);
  REQUIRE(second.done());
  CHECK_THROWS_AS(second.get(), std::logic_error);
  CHECK_FALSE(first.done());
  stream.close();
  REQUIRE(first.wait_for(5s));
  CHECK(resumed.load() == 1);
}
