// SPDX-License-Identifier: MIT
// reconnect_policy: exact schedules with a fake clock and a scripted random source.
#include <sse/sse.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
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
};
using policy = sse::basic_reconnect_policy<fake_clock>;
const fake_clock::time_point t0{};
using delays = std::vector<milliseconds>;

sse::reconnect_options no_jitter() {
  sse::reconnect_options o;
  o.jitter = 0;
  return o;
}

// A random source that replays `values` in a loop.
policy::random_source scripted(std::vector<double> values) {
  return [values = std::move(values), i = std::size_t{0}]() mutable {
    return values[i++ % values.size()];
  };
}

// The delays of `count` consecutive failures, each right after the previous delay.
delays schedule(policy& p, int count, fake_clock::time_point start = t0) {
  delays result;
  auto now = start;
  for (int i = 0; i < count; ++i) {
    const auto delay = p.next_delay(now);
    REQUIRE(delay);
    result.push_back(*delay);
    now += *delay;
  }
  return result;
}

// What next_delay would give now, from a copy: `p` is left as it was.
std::optional<milliseconds> next_of(policy p) {
  return p.next_delay(t0);
}

// The usage_error message for options changed by `change`, or "no error".
template <typename Change>
std::string validation_message(Change change) {
  sse::reconnect_options o;
  change(o);
  try {
    policy p(o);
  } catch (const sse::usage_error& e) {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("policy: defaults are 3 s doubling up to 30 s with half jitter", "[policy]") {
  const sse::reconnect_options o;
  CHECK(o.initial_delay == 3000ms);
  CHECK(o.multiplier == 2.0);
  CHECK(o.max_delay == 30000ms);
  CHECK(o.jitter == 0.5);
  CHECK(o.min_retry == 100ms);
  CHECK(o.max_retry == 24h);
  CHECK(o.min_backoff == 100ms);
  CHECK(o.reset_after == 60000ms);
  CHECK_FALSE(o.max_attempts);
  CHECK_FALSE(o.max_downtime);

  const policy p(sse::reconnect_options{}, scripted({0.0})); // the jitter's draw takes nothing
  CHECK(p.base_delay() == 3000ms);
  CHECK(next_of(p) == 3000ms);
  CHECK(p.attempt() == 0);
}

TEST_CASE("policy: the default random source keeps the jitter in range", "[policy]") {
  policy p; // 3 s base, jitter 0.5: every first delay is in [1.5 s, 3 s] once rounded
  for (int i = 0; i < 1000; ++i) {
    const auto delay = p.next_delay(t0);
    REQUIRE(delay);
    CHECK(*delay >= 1500ms);
    CHECK(*delay <= 3000ms);
    p.reset();
  }
}

TEST_CASE("policy: delays grow by the multiplier and stop at the cap", "[policy]") {
  policy p(no_jitter());
  CHECK(next_of(p) == 3000ms);
  CHECK(schedule(p, 6) == delays{3000ms, 6000ms, 12000ms, 24000ms, 30000ms, 30000ms});
  CHECK(p.attempt() == 6);
  CHECK(next_of(p) == 30000ms);
}

TEST_CASE("policy: a fractional multiplier grows gently", "[policy]") {
  auto o = no_jitter();
  o.initial_delay = 1000ms;
  o.multiplier = 1.5;
  policy p(o);
  CHECK(schedule(p, 4) == delays{1000ms, 1500ms, 2250ms, 3375ms});
}

TEST_CASE("policy: a multiplier of 1 keeps the delay constant", "[policy]") {
  auto o = no_jitter();
  o.multiplier = 1;
  policy p(o);
  CHECK(schedule(p, 4) == delays(4, 3000ms));
}

TEST_CASE("policy: many failures never overflow", "[policy]") {
  SECTION("default cap") {
    policy p(no_jitter());
    CHECK(schedule(p, 2000).back() == 30000ms);
  }
  SECTION("the largest cap a duration holds") {
    auto o = no_jitter();
    o.initial_delay = 1ms;
    o.max_delay = milliseconds::max();
    policy p(o);
    for (int i = 0; i < 2000; ++i) {
      REQUIRE(p.next_delay(t0));
    }
    CHECK(next_of(p) == milliseconds::max());
    CHECK(p.next_delay(t0) == milliseconds::max());
  }
  SECTION("the largest cap, jittered") {
    auto o = no_jitter();
    o.initial_delay = 1ms;
    o.max_delay = milliseconds::max();
    o.jitter = 1;
    policy p(o, scripted({0.0}));
    for (int i = 0; i < 100; ++i) {
      REQUIRE(p.next_delay(t0));
    }
    CHECK(p.next_delay(t0) == milliseconds::max());
  }
  SECTION("a huge multiplier") {
    auto o = no_jitter();
    o.multiplier = 1e300;
    policy p(o);
    CHECK(schedule(p, 3) == delays{3000ms, 30000ms, 30000ms});
  }
}

TEST_CASE("policy: jitter subtracts up to its share, after the cap", "[policy]") {
  auto o = no_jitter();
  o.jitter = 0.5;
  SECTION("u = 0 keeps the delay") {
    policy p(o, scripted({0.0}));
    CHECK(schedule(p, 6) == delays{3000ms, 6000ms, 12000ms, 24000ms, 30000ms, 30000ms});
  }
  SECTION("u near 1 halves it, also when capped") {
    policy p(o, scripted({0.999999}));
    const auto d = schedule(p, 6);
    CHECK(d[0] == 1500ms);
    CHECK(d[4] == 15050ms); // half of the cap above the 100 ms floor, not of 48 s
    CHECK(d[5] == 15050ms);
  }
  SECTION("a scripted sequence") {
    policy p(o, scripted({0.5, 0.25}));
    CHECK(schedule(p, 2) == delays{2250ms, 5263ms}); // 6000 - 5900 * 0.5 * 0.25, rounded
  }
  SECTION("jitter 1 can reach almost zero") {
    o.jitter = 1;
    policy p(o, scripted({0.9999}));
    CHECK(p.next_delay(t0) == 0ms); // 3000 * (1 - 0.9999) = 0.3 ms
  }
  SECTION("jitter does not change the growth") {
    policy p(o, scripted({0.999999}));
    (void)schedule(p, 3);
    CHECK(next_of(p) == 12050ms); // 24 s, the fourth step, less half its part above 100 ms
  }
  SECTION("a random source out of range is clamped to [0, 1]") {
    policy p(o, scripted({-5.0, 7.0, std::numeric_limits<double>::quiet_NaN()}));
    CHECK(schedule(p, 3) == delays{3000ms, 3050ms, 12000ms});
  }
}

TEST_CASE("policy: a zero base reconnects at once, then failures grow from min_backoff",
          "[policy][issue-20]") {
  SECTION("a small base grows from the floor once the floor is above it") {
    auto s = no_jitter();
    s.initial_delay = 20ms;
    policy q(s);
    CHECK(schedule(q, 4) == delays{20ms, 100ms, 200ms, 400ms});
  }
  auto o = no_jitter();
  o.initial_delay = 0ms;
  policy p(o);
  CHECK(schedule(p, 6) == delays{0ms, 100ms, 200ms, 400ms, 800ms, 1600ms});
  for (int i = 0; i < 1100; ++i) {
    REQUIRE(p.next_delay(t0) <= 30000ms);
  }
  CHECK(p.next_delay(t0) == 30000ms);
  SECTION("a zero floor and a zero base stay zero, without 0 * infinity turning into NaN") {
    o.min_backoff = 0ms;
    policy q(o);
    for (int i = 0; i < 1100; ++i) {
      REQUIRE(q.next_delay(t0) == 0ms);
    }
    CHECK(next_of(q) == 0ms);
  }
  SECTION("a multiplier of 1 keeps the floor") {
    o.multiplier = 1;
    policy q(o);
    CHECK(schedule(q, 4) == delays{0ms, 100ms, 100ms, 100ms});
  }
  SECTION("jitter never takes the delay under the floor") {
    o.jitter = 1;
    policy q(o, scripted({0.999999}));
    CHECK(schedule(q, 4) == delays{0ms, 100ms, 100ms, 100ms});
  }
}

TEST_CASE("policy: a server's retry replaces the base, clamped to [min_retry, max_retry]",
          "[policy]") {
  auto o = no_jitter();
  o.min_retry = 500ms;
  o.max_retry = 10000ms;
  policy p(o);
  p.set_server_retry(1000ms);
  CHECK(p.base_delay() == 1000ms);
  CHECK(schedule(p, 3) == delays{1000ms, 2000ms, 4000ms});
  p.set_server_retry(10ms);
  CHECK(p.base_delay() == 500ms);
  p.set_server_retry(500ms);
  CHECK(p.base_delay() == 500ms);
  p.set_server_retry(1h);
  CHECK(p.base_delay() == 10000ms);
  p.set_server_retry(10000ms);
  CHECK(p.base_delay() == 10000ms);
}

TEST_CASE("policy: a server's retry arriving mid-backoff keeps the exponent", "[policy]") {
  policy p(no_jitter());
  (void)schedule(p, 2); // 3 s, 6 s
  p.set_server_retry(100ms);
  CHECK(p.next_delay(t0) == 400ms); // 100 ms * 2^2
}

TEST_CASE("policy: a server's retry of zero is raised to min_retry", "[policy][issue-20]") {
  policy p(no_jitter());
  p.set_server_retry(0ms);
  CHECK(p.base_delay() == 100ms);
  CHECK(schedule(p, 3) == delays{100ms, 200ms, 400ms});
  SECTION("min_retry 0 allows it, and failures still grow from min_backoff") {
    auto o = no_jitter();
    o.min_retry = 0ms;
    policy q(o);
    q.set_server_retry(0ms);
    CHECK(schedule(q, 3) == delays{0ms, 100ms, 200ms});
  }
}

// Attempts a client makes in `window` when every attempt fails at once (`delivered` false) or
// delivers one event and ends (`delivered` true), the server having sent `retry: 0`.
int attempts_in(policy& p, milliseconds window, bool delivered) {
  auto now = t0;
  int attempts = 1; // the first one, at t0
  for (int i = 0; i < 100000; ++i) {
    if (delivered) {
      p.event_delivered();
    }
    const auto delay = p.next_delay(now);
    REQUIRE(delay);
    now += *delay;
    if (now - t0 >= window) {
      break;
    }
    ++attempts;
  }
  return attempts;
}

TEST_CASE("policy: by default no server value and no outage exceed 10 attempts/s",
          "[policy][issue-20]") {
  sse::reconnect_options o; // defaults, jitter included
  SECTION("a server that sends retry: 0 and one event per response") {
    policy p(o, scripted({0.999999}));
    p.set_server_retry(0ms);
    CHECK(attempts_in(p, 10s, true) <= 100);
  }
  SECTION("a server that sends retry: 0 and closes, or a dead port") {
    policy p(o, scripted({0.999999}));
    p.set_server_retry(0ms);
    CHECK(attempts_in(p, 1s, false) <= 10);
    policy q(o, scripted({0.999999}));
    CHECK(attempts_in(q, 10s, false) <= 10);
  }
}

TEST_CASE("policy: an event delivered brings the delay back to the base", "[policy][issue-20]") {
  SECTION("a server's retry: 10000 with an end after each batch of events waits a flat 10 s") {
    policy p(no_jitter());
    p.set_server_retry(10000ms);
    delays d;
    for (int i = 0; i < 4; ++i) {
      p.connection_opened(t0);
      p.event_delivered();
      p.connection_lost(t0 + 1s);
      d.push_back(p.next_delay(t0 + 1s).value());
    }
    CHECK(d == delays(4, 10000ms));
  }
  SECTION("a poll-style server (one event with retry: 500, then the end) waits 500 ms each time") {
    policy p; // default jitter: it never cuts the server's retry
    p.set_server_retry(500ms);
    for (int i = 0; i < 20; ++i) {
      p.event_delivered();
      CHECK(p.next_delay(t0) == 500ms);
    }
  }
  SECTION("failures in a row after it grow again, and count from 1") {
    policy p(no_jitter());
    (void)schedule(p, 3);
    p.event_delivered();
    CHECK(p.attempt() == 0);
    CHECK(schedule(p, 3) == delays{3000ms, 6000ms, 12000ms});
    CHECK(p.attempt() == 3);
  }
}

TEST_CASE("policy: jitter never cuts a server's retry", "[policy][issue-20]") {
  auto o = no_jitter();
  o.jitter = 0.5;
  policy p(o, scripted({0.999999}));
  p.set_server_retry(10000ms);
  // The base itself is exact; only the growth above it is spread.
  CHECK(schedule(p, 3) == delays{10000ms, 15000ms, 20000ms});
  SECTION("with full jitter too") {
    o.jitter = 1;
    policy q(o, scripted({0.999999, 0.5}));
    q.set_server_retry(10000ms);
    for (int i = 0; i < 10; ++i) {
      CHECK(q.next_delay(t0) >= 10000ms);
    }
  }
}

TEST_CASE("policy: a server retry above max_delay is honoured as it is", "[policy]") {
  auto o = no_jitter();
  o.max_delay = 1000ms;
  policy p(o);
  p.set_server_retry(5000ms);
  CHECK(schedule(p, 2) == delays{5000ms, 5000ms});
  SECTION("but not above max_retry") {
    p.set_server_retry(48h);
    CHECK(p.next_delay(t0) == milliseconds(24h));
  }
}

TEST_CASE("policy: a connection that stayed open for reset_after resets the backoff", "[policy]") {
  policy p(no_jitter());
  (void)schedule(p, 3); // 3 s, 6 s, 12 s
  const auto opened = t0 + 100s;
  SECTION("just below the window keeps growing") {
    p.connection_opened(opened);
    p.connection_lost(opened + 59999ms);
    CHECK(p.next_delay(opened + 60s) == 24000ms);
  }
  SECTION("at the window resets") {
    p.connection_opened(opened);
    p.connection_lost(opened + 60s);
    CHECK(p.next_delay(opened + 60s) == 3000ms);
  }
  SECTION("the reset goes back to the server's retry") {
    p.set_server_retry(200ms);
    p.connection_opened(opened);
    p.connection_lost(opened + 1h);
    CHECK(schedule(p, 2, opened + 1h) == delays{200ms, 400ms});
  }
}

TEST_CASE("policy: a flapping server keeps the backoff growing", "[policy]") {
  policy p(no_jitter());
  auto now = t0;
  delays d;
  for (int i = 0; i < 4; ++i) {
    p.connection_opened(now);
    now += 10ms;
    p.connection_lost(now);
    const auto delay = p.next_delay(now);
    REQUIRE(delay);
    d.push_back(*delay);
    now += *delay;
    CHECK(p.attempt() == static_cast<unsigned>(i + 1)); // an open with no event is a failure
  }
  CHECK(d == delays{3000ms, 6000ms, 12000ms, 24000ms});
}

TEST_CASE("policy: attempt counts reconnects scheduled since an event was last delivered",
          "[policy]") {
  policy p(no_jitter());
  CHECK(p.attempt() == 0);
  (void)p.next_delay(t0);
  (void)p.next_delay(t0);
  CHECK(p.attempt() == 2);
  p.connection_opened(t0 + 10s);
  CHECK(p.attempt() == 2); // opening alone proves nothing
  p.event_delivered();
  CHECK(p.attempt() == 0);
  p.connection_lost(t0 + 20s); // losing the stream is not an attempt
  CHECK(p.attempt() == 0);
  (void)p.next_delay(t0 + 20s);
  CHECK(p.attempt() == 1);
}

TEST_CASE("policy: max attempts gives up on the call after the last allowed", "[policy]") {
  auto o = no_jitter();
  o.max_attempts = 3;
  policy p(o);
  CHECK(schedule(p, 3) == delays{3000ms, 6000ms, 12000ms});
  CHECK(p.attempt() == 3);
  CHECK_FALSE(next_of(p));
  CHECK_FALSE(p.next_delay(t0 + 1h));
  CHECK_FALSE(p.next_delay(t0 + 2h)); // stays given up
  CHECK(p.attempt() == 3);            // a refusal is not an attempt
  SECTION("an open that delivers no event does not start the count again") {
    p.connection_opened(t0 + 3h);
    p.connection_lost(t0 + 3h);
    CHECK_FALSE(p.next_delay(t0 + 3h));
  }
  SECTION("an event delivered starts the count again, from the base delay") {
    p.connection_opened(t0 + 3h);
    p.event_delivered();
    p.connection_lost(t0 + 3h);
    CHECK(next_of(p) == 3000ms);
    CHECK(p.next_delay(t0 + 3h) == 3000ms);
  }
  SECTION("reset starts the count again") {
    p.reset();
    CHECK(p.next_delay(t0 + 3h) == 3000ms);
  }
}

TEST_CASE("policy: max attempts of 1 allows exactly one reconnect", "[policy]") {
  auto o = no_jitter();
  o.max_attempts = 1;
  policy p(o);
  CHECK(p.next_delay(t0) == 3000ms);
  CHECK_FALSE(p.next_delay(t0 + 3s));
}

TEST_CASE("policy: max downtime gives up when the next attempt would start too late", "[policy]") {
  auto o = no_jitter();
  o.max_downtime = 10s;
  policy p(o);
  p.connection_opened(t0);
  p.connection_lost(t0 + 1s);
  CHECK(p.next_delay(t0 + 1s) == 3000ms); // down until 4 s
  CHECK(p.next_delay(t0 + 4s) == 6000ms); // down 9 s by then
  CHECK_FALSE(p.next_delay(t0 + 10s));    // would start 21 s after the loss
  CHECK(p.attempt() == 2);
}

TEST_CASE("policy: max downtime boundary: starting exactly at the limit is allowed", "[policy]") {
  auto o = no_jitter();
  o.multiplier = 1;
  o.max_downtime = 10s;
  policy p(o);
  p.connection_opened(t0);
  p.connection_lost(t0 + 1s);
  SECTION("ends at the limit") {
    CHECK(p.next_delay(t0 + 8s) == 3000ms); // next attempt 10 s after the loss
  }
  SECTION("ends 1 ms past the limit") {
    CHECK_FALSE(p.next_delay(t0 + 8001ms));
  }
  SECTION("the check uses the jittered delay") {
    o.jitter = 0.5;
    policy q(o, scripted({0.5}));
    q.connection_lost(t0);
    CHECK(q.next_delay(t0 + 7750ms) == 2250ms); // 3 s unjittered would end past the limit
  }
  SECTION("the check includes Retry-After") {
    CHECK_FALSE(p.next_delay(t0 + 2s, 10s));
  }
}

TEST_CASE("policy: max downtime counts from the first failure when never open", "[policy]") {
  auto o = no_jitter();
  o.initial_delay = 1000ms;
  o.multiplier = 1;
  o.max_downtime = 3500ms;
  policy p(o);
  CHECK(schedule(p, 2, t0 + 5s) == delays{1000ms, 1000ms});
  CHECK(p.next_delay(t0 + 7s));       // ends at 3 s down
  CHECK_FALSE(p.next_delay(t0 + 8s)); // would end at 4 s down
}

TEST_CASE("policy: max downtime restarts when the stream opens again", "[policy]") {
  auto o = no_jitter();
  o.multiplier = 1;
  o.max_downtime = 5s;
  policy p(o);
  p.connection_lost(t0);
  CHECK(p.next_delay(t0));
  p.connection_opened(t0 + 3s);
  p.connection_lost(t0 + 100s);
  CHECK(p.next_delay(t0 + 101s)); // 1 s down + 3 s
  CHECK_FALSE(p.next_delay(t0 + 103s));
}

TEST_CASE("policy: Retry-After is honoured up to max_delay", "[policy]") {
  auto o = no_jitter();
  o.max_delay = 20s;
  policy p(o);
  CHECK(p.next_delay(t0, 10s) == 10000ms); // above the backoff
  CHECK(p.next_delay(t0, 1s) == 6000ms);   // below: the backoff wins
  CHECK(p.next_delay(t0, 1h) == 20000ms);  // capped
  CHECK(p.next_delay(t0, 0ms) == 20000ms); // the backoff still grew underneath
  SECTION("it is not jittered, the backoff it competes with is") {
    o.jitter = 0.5;
    policy q(o, scripted({0.999999}));
    CHECK(q.next_delay(t0, 2s) == 2000ms); // backoff 3 s jittered to 1.5 s
    CHECK(q.next_delay(t0, 1s) == 3050ms); // backoff 6 s jittered to 3.05 s (floor kept)
  }
}

TEST_CASE("policy: reset forgets failures but keeps the server retry", "[policy]") {
  policy p(no_jitter());
  p.set_server_retry(100ms);
  (void)schedule(p, 4);
  p.reset();
  CHECK(p.attempt() == 0);
  CHECK(p.base_delay() == 100ms);
  CHECK(next_of(p) == 100ms);
  CHECK(schedule(p, 2) == delays{100ms, 200ms});
}

TEST_CASE("policy: reset restarts the downtime clock", "[policy]") {
  auto o = no_jitter();
  o.multiplier = 1;
  o.max_downtime = 5s;
  policy p(o);
  CHECK(p.next_delay(t0));
  CHECK_FALSE(p.next_delay(t0 + 3s)); // 6 s down
  p.reset();
  CHECK(p.next_delay(t0 + 3s));
}

TEST_CASE("policy: works with the steady clock's time points", "[policy]") {
  auto o = no_jitter();
  o.max_downtime = 4s;
  sse::reconnect_policy p(o);
  const auto start = std::chrono::steady_clock::time_point{} + 1h;
  p.connection_opened(start);
  p.connection_lost(start + 1s);
  SECTION("ends at the limit") {
    CHECK(p.next_delay(start + 2s) == 3000ms);
  }
  SECTION("ends 1 ns past it") {
    CHECK_FALSE(p.next_delay(start + 2s + std::chrono::nanoseconds(1)));
  }
}

TEST_CASE("policy: bad options name the field and the value", "[policy]") {
  using o_t = sse::reconnect_options;
  CHECK(validation_message([](o_t&) {}) == "no error");
  CHECK(validation_message([](o_t& o) { o.initial_delay = -1ms; }) ==
        "options.reconnect.initial_delay: must not be negative, got -1 ms");
  CHECK(validation_message([](o_t& o) { o.multiplier = 0.5; }) ==
        "options.reconnect.multiplier: must be >= 1, got 0.5");
  CHECK(validation_message([](o_t& o) {
          o.multiplier = std::numeric_limits<double>::quiet_NaN();
        }) == "options.reconnect.multiplier: must be >= 1, got nan");
  CHECK(validation_message([](o_t& o) {
          o.multiplier = std::numeric_limits<double>::infinity();
        }) == "options.reconnect.multiplier: must be finite, got inf");
  CHECK(validation_message([](o_t& o) { o.max_delay = -1ms; }) ==
        "options.reconnect.max_delay: must not be negative, got -1 ms");
  CHECK(validation_message([](o_t& o) { o.jitter = -0.1; }) ==
        "options.reconnect.jitter: must be in [0, 1], got -0.1");
  CHECK(validation_message([](o_t& o) { o.jitter = 1.5; }) ==
        "options.reconnect.jitter: must be in [0, 1], got 1.5");
  CHECK(validation_message([](o_t& o) { o.min_retry = -1ms; }) ==
        "options.reconnect.min_retry: must not be negative, got -1 ms");
  CHECK(validation_message([](o_t& o) {
          o.min_retry = 2s;
          o.max_retry = 1s;
        }) == "options.reconnect.max_retry: must be >= min_retry (2000 ms), got 1000 ms");
  CHECK(validation_message([](o_t& o) { o.min_backoff = -1ms; }) ==
        "options.reconnect.min_backoff: must not be negative, got -1 ms");
  CHECK(validation_message([](o_t& o) { o.reset_after = -1ms; }) ==
        "options.reconnect.reset_after: must not be negative, got -1 ms");
  CHECK(validation_message([](o_t& o) { o.max_attempts = 0; }) ==
        "options.reconnect.max_attempts: must be at least 1 (empty: no limit), got 0");
  CHECK(validation_message([](o_t& o) { o.max_downtime = 0ms; }) ==
        "options.reconnect.max_downtime: must be positive (empty: no limit), got 0 ms");
  // The boundaries themselves are valid.
  CHECK(validation_message([](o_t& o) {
          o.initial_delay = 0ms;
          o.multiplier = 1;
          o.max_delay = 0ms;
          o.jitter = 1;
          o.min_retry = 5s;
          o.max_retry = 5s;
          o.min_backoff = 0ms;
          o.reset_after = 0ms;
          o.max_attempts = 1;
          o.max_downtime = 1ms;
        }) == "no error");
  CHECK_NOTHROW(policy::validate(sse::reconnect_options{}));
}
