// SPDX-License-Identifier: MIT
// reconnect_policy: exact schedules with a fake clock and a scripted random source.
#include <sse/sse.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <vector>

using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

// Only the time point type matters: the policy never reads a clock.
struct fake_clock {
  using duration = std::chrono::milliseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<fake_clock>;
  static constexpr bool is_steady = true;
};
using policy = sse::basic_reconnect_policy<fake_clock>;
const fake_clock::time_point t0{};

sse::reconnect_options no_jitter() {
  sse::reconnect_options o;
  o.jitter = 0;
  return o;
}

// The delays of `count` consecutive failures, each right after the previous delay.
std::vector<milliseconds> schedule(policy& p, int count, fake_clock::time_point start = t0) {
  std::vector<milliseconds> delays;
  auto now = start;
  for (int i = 0; i < count; ++i) {
    const auto delay = p.next_delay(now);
    REQUIRE(delay);
    delays.push_back(*delay);
    now += *delay;
  }
  return delays;
}

} // namespace

TEST_CASE("policy: defaults are 3 s doubling up to 30 s with half jitter", "[policy]") {
  const sse::reconnect_options o;
  CHECK(o.initial_delay == 3000ms);
  CHECK(o.multiplier == 2.0);
  CHECK(o.max_delay == 30000ms);
  CHECK(o.jitter == 0.5);
  CHECK(o.reset_after == 60000ms);
  CHECK_FALSE(o.max_attempts);
  CHECK_FALSE(o.max_downtime);
}

TEST_CASE("policy: delays grow by the multiplier and stop at the cap", "[policy]") {
  policy p(no_jitter());
  CHECK(p.peek_delay() == 3000ms);
  CHECK(schedule(p, 6) ==
        std::vector<milliseconds>{3000ms, 6000ms, 12000ms, 24000ms, 30000ms, 30000ms});
  CHECK(p.attempt() == 6);
}

TEST_CASE("policy: many failures never overflow", "[policy]") {
  policy p(no_jitter());
  auto delays = schedule(p, 2000);
  CHECK(delays.back() == 30000ms);
}

TEST_CASE("policy: jitter subtracts up to its share, after the cap", "[policy]") {
  auto o = no_jitter();
  o.jitter = 0.5;
  SECTION("u = 0 keeps the delay") {
    policy p(o, [] { return 0.0; });
    CHECK(schedule(p, 6).back() == 30000ms);
  }
  SECTION("u near 1 halves it, also when capped") {
    policy p(o, [] { return 0.999999; });
    const auto delays = schedule(p, 6);
    CHECK(delays[0] == 1500ms);
    CHECK(delays[5] == 15000ms); // half of the cap, not of 48 s
  }
  SECTION("a scripted sequence") {
    std::vector<double> u{0.5, 0.25};
    std::size_t i = 0;
    policy p(o, [&] { return u[i++ % u.size()]; });
    CHECK(schedule(p, 2) == std::vector<milliseconds>{2250ms, 5250ms});
  }
}

TEST_CASE("policy: a zero base stays zero (immediate reconnects)", "[policy]") {
  auto o = sse::reconnect_options{};
  o.initial_delay = 0ms;
  policy p(o);
  CHECK(schedule(p, 5) == std::vector<milliseconds>(5, 0ms));
}

TEST_CASE("policy: a server's retry replaces the base, clamped to [min_retry, max_retry]",
          "[policy]") {
  auto o = no_jitter();
  o.min_retry = 500ms;
  o.max_retry = 10000ms;
  policy p(o);
  p.set_server_retry(1000ms);
  CHECK(p.base_delay() == 1000ms);
  CHECK(schedule(p, 3) == std::vector<milliseconds>{1000ms, 2000ms, 4000ms});
  p.set_server_retry(10ms);
  CHECK(p.base_delay() == 500ms);
  p.set_server_retry(1h);
  CHECK(p.base_delay() == 10000ms);
}

TEST_CASE("policy: a server retry above max_delay is honoured as it is", "[policy]") {
  auto o = no_jitter();
  o.max_delay = 1000ms;
  policy p(o);
  p.set_server_retry(5000ms);
  CHECK(schedule(p, 2) == std::vector<milliseconds>{5000ms, 5000ms});
}

TEST_CASE("policy: a connection that stayed open for reset_after resets the backoff", "[policy]") {
  policy p(no_jitter());
  (void)schedule(p, 3); // 3 s, 6 s, 12 s
  const auto opened = t0 + 100s;
  SECTION("just below the window keeps growing") {
    p.connection_opened(opened);
    p.connection_lost(opened + 59999ms);
    CHECK(p.next_delay(opened + 60s) == std::optional<milliseconds>(24000ms));
  }
  SECTION("at the window resets") {
    p.connection_opened(opened);
    p.connection_lost(opened + 60s);
    CHECK(p.next_delay(opened + 60s) == std::optional<milliseconds>(3000ms));
  }
}

TEST_CASE("policy: a flapping server keeps the backoff growing", "[policy]") {
  policy p(no_jitter());
  auto now = t0;
  std::vector<milliseconds> delays;
  for (int i = 0; i < 4; ++i) {
    p.connection_opened(now);
    now += 10ms;
    p.connection_lost(now);
    const auto delay = p.next_delay(now);
    REQUIRE(delay);
    delays.push_back(*delay);
    now += *delay;
    CHECK(p.attempt() == 1); // each open resets the attempt count, not the backoff
  }
  CHECK(delays == std::vector<milliseconds>{3000ms, 6000ms, 12000ms, 24000ms});
}

TEST_CASE("policy: max attempts gives up on the call after the last allowed", "[policy]") {
  auto o = no_jitter();
  o.max_attempts = 3;
  policy p(o);
  (void)schedule(p, 3);
  CHECK(p.attempt() == 3);
  CHECK_FALSE(p.next_delay(t0 + 1h));
  p.connection_opened(t0 + 2h); // a successful open starts the count again
  p.connection_lost(t0 + 2h);
  CHECK(p.next_delay(t0 + 2h));
}

TEST_CASE("policy: max downtime gives up when the next attempt would start too late", "[policy]") {
  auto o = no_jitter();
  o.max_downtime = 10s;
  policy p(o);
  p.connection_opened(t0);
  p.connection_lost(t0 + 1s);
  CHECK(p.next_delay(t0 + 1s) == std::optional<milliseconds>(3000ms)); // down until 4 s
  CHECK(p.next_delay(t0 + 4s) == std::optional<milliseconds>(6000ms)); // down 9 s by then
  CHECK_FALSE(p.next_delay(t0 + 10s));
}

TEST_CASE("policy: max downtime counts from the first failure when never open", "[policy]") {
  auto o = no_jitter();
  o.initial_delay = 1000ms;
  o.multiplier = 1;
  o.max_downtime = 3500ms;
  policy p(o);
  CHECK(schedule(p, 2, t0 + 5s) == std::vector<milliseconds>{1000ms, 1000ms});
  CHECK(p.next_delay(t0 + 7s));       // ends at 3 s down
  CHECK_FALSE(p.next_delay(t0 + 8s)); // would end at 4 s down
}

TEST_CASE("policy: Retry-After is honoured up to max_delay", "[policy]") {
  auto o = no_jitter();
  o.max_delay = 20s;
  policy p(o);
  CHECK(p.next_delay(t0, 10s) == std::optional<milliseconds>(10000ms)); // above the backoff
  CHECK(p.next_delay(t0, 1s) == std::optional<milliseconds>(6000ms));   // below: the backoff wins
  CHECK(p.next_delay(t0, 1h) == std::optional<milliseconds>(20000ms));  // capped
}

TEST_CASE("policy: reset forgets failures but keeps the server retry", "[policy]") {
  policy p(no_jitter());
  p.set_server_retry(100ms);
  (void)schedule(p, 4);
  p.reset();
  CHECK(p.attempt() == 0);
  CHECK(p.peek_delay() == 100ms);
}

TEST_CASE("policy: bad options name the field", "[policy]") {
  const auto message = [](auto change) {
    sse::reconnect_options o;
    change(o);
    try {
      policy p(o);
    } catch (const sse::usage_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message([](auto& o) { o.multiplier = 0.5; }) ==
        "options.reconnect.multiplier: must be >= 1, got 0.500000");
  CHECK_THAT(message([](auto& o) { o.jitter = -0.1; }),
             Catch::StartsWith("options.reconnect.jitter"));
  CHECK_THAT(message([](auto& o) { o.jitter = 1.5; }),
             Catch::StartsWith("options.reconnect.jitter"));
  CHECK_THAT(message([](auto& o) { o.initial_delay = -1ms; }),
             Catch::StartsWith("options.reconnect.initial_delay"));
  CHECK_THAT(message([](auto& o) { o.max_delay = -1ms; }),
             Catch::StartsWith("options.reconnect.max_delay"));
  CHECK_THAT(message([](auto& o) {
               o.min_retry = 2s;
               o.max_retry = 1s;
             }),
             Catch::StartsWith("options.reconnect.max_retry"));
  CHECK_THAT(message([](auto& o) { o.max_attempts = 0; }),
             Catch::StartsWith("options.reconnect.max_attempts"));
  CHECK_THAT(message([](auto& o) { o.max_downtime = 0ms; }),
             Catch::StartsWith("options.reconnect.max_downtime"));
  CHECK(message([](auto&) {}) == "no error");
}
