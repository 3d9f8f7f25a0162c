// SPDX-License-Identifier: MIT
// A large request body is held once for every attempt: the loop thread copies it for none of
// them (large allocations are counted on the thread that runs the loop).
#include <sse/sse.hpp>

#include "support/client_support.hpp"
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

using namespace std::chrono_literals;
using sse_test::connection;
using sse_test::stream_headers;
using sse_test::test_server;

namespace {
constexpr std::size_t large = std::size_t{1} << 20;
// Set on the thread that runs the loop, while it runs: allocations elsewhere (the test server's
// threads, which read the bodies) are not counted.
thread_local bool counting = false;
std::atomic<std::size_t> large_allocations{0};

void count(std::size_t size) noexcept {
  if (counting && size >= large) {
    large_allocations.fetch_add(1, std::memory_order_relaxed);
  }
}
} // namespace

// GCC 12 inlines these replacements into their callers and then takes free() of a pointer from
// operator new for a mismatch; here the pair is malloc/free on purpose.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  count(size);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  count(size);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

// The first request is answered 503, the second with one event and the end of the body.
test_server::handler busy_then_one_event() {
  auto count = std::make_shared<std::atomic<int>>(0);
  return [count](connection& c) {
    if (count->fetch_add(1) == 0) {
      c.send_head(503, {{"Content-Length", "0"}});
      return;
    }
    c.send_head(200, stream_headers);
    c.send("data: done\n\n");
  };
}

// Runs a POST of an 8 MiB body over two attempts on a loop driven by this thread; returns the
// allocations of 1 MiB or more the loop thread made meanwhile.
std::size_t large_allocations_of_two_attempts(bool with_hook) {
  test_server server(busy_then_one_event());
  sse::event_loop loop(sse::event_loop::mode::caller_thread);
  auto options = sse_test::fast_options(server.url());
  options.method = "POST";
  options.body = std::string(8 * large, 'b');
  options.reconnect_on_end = false;
  if (with_hook) {
    options.before_attempt = [](sse::attempt_request& request) {
      request.headers.emplace_back("X-Attempt", std::to_string(request.attempt));
    };
  }
  sse::client client(std::move(options), loop);
  std::string received;
  client.on_message([&](const sse::event& e) { received = e.data; });
  client.start();
  large_allocations.store(0);
  counting = true;
  loop.run(); // returns when the stream has ended
  counting = false;
  REQUIRE(received == "done");
  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1].body.size() == 8 * large);
  CHECK(requests[1].body == requests[0].body);
  return large_allocations.load();
}

} // namespace

TEST_CASE("request body: held once for every attempt, not copied per attempt",
          "[integration][issue-20]") {
  SECTION("without a hook: no copy at all on the loop thread") {
    CHECK(large_allocations_of_two_attempts(false) == 0);
  }
  SECTION("with before_attempt, which may change it: one copy per attempt") {
    CHECK(large_allocations_of_two_attempts(true) == 2);
  }
}
