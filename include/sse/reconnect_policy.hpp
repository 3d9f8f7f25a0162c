// SPDX-License-Identifier: MIT
// When to reconnect: exponential backoff with jitter, server retry:, Retry-After, limits.
#ifndef SSE_CLIENT_RECONNECT_POLICY_HPP
#define SSE_CLIENT_RECONNECT_POLICY_HPP

#include <sse/error.hpp>
#include <sse/version.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <locale>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE

/// How a client waits between attempts: every default is here. Checked by
/// `basic_reconnect_policy::validate` (and so when a client is built).
struct reconnect_options {
  /// Delay before a reconnect (>= 0) while nothing has failed in a row: after a stream that
  /// delivered events ended, and before the first retry of a failed attempt. A server's `retry:`
  /// field replaces it. Zero: such reconnects are immediate.
  std::chrono::milliseconds initial_delay{3000};
  /// Each further failure in a row (an attempt that delivered no event) multiplies the delay by
  /// this (finite, >= 1; 1: constant delay).
  double multiplier = 2.0;
  /// Cap on the growth of the backoff (>= 0), and on a server's `Retry-After`. A base delay above
  /// it (a larger `initial_delay` or server `retry:`) is used as it is, without growth.
  std::chrono::milliseconds max_delay{30000};
  /// Share of each delay that is randomised, in [0, 1], so that clients cut off together do not
  /// come back together: the delay becomes `delay - (delay - kept) * jitter * u` with u uniform in
  /// [0, 1), after the cap, where `kept` is the server's `retry:` (a server asked for at least
  /// that: jitter never cuts it) and, once failures grow the delay, at least `min_backoff`.
  /// 0: exact delays.
  double jitter = 0.5;
  /// Floor for a server's `retry:` value (>= 0), so a server cannot make clients hammer it: with
  /// the default, `retry: 0` means 100 ms.
  std::chrono::milliseconds min_retry{100};
  /// Cap for a server's `retry:` value (>= min_retry). The server knows its own load, so its
  /// value may exceed `max_delay`; this only bounds absurd values.
  std::chrono::milliseconds max_retry{std::chrono::hours(24)};
  /// Where failures in a row grow from when the base delay is smaller (>= 0): with a base of 0
  /// the delays are 0, then `min_backoff`, `min_backoff * multiplier`... capped by `max_delay`,
  /// so an outage never makes a client retry in a tight loop.
  std::chrono::milliseconds min_backoff{100};
  /// A connection that stayed open this long (>= 0) resets the backoff to the base delay, as an
  /// event delivered does; one that drops sooner with no event keeps it growing (a server that
  /// accepts and drops at once).
  std::chrono::milliseconds reset_after{60000};
  /// Reconnects scheduled in a row without an event delivered, before giving up (>= 1): with 3,
  /// three reconnects follow a failure and the fourth failure gives up. Empty: never give up.
  std::optional<unsigned> max_attempts;
  /// Time without an open stream (> 0) after which to give up: a reconnect that would start
  /// later than this after the stream was lost (or after the first failure, if it never
  /// opened) is not scheduled. Empty: never give up.
  std::optional<std::chrono::milliseconds> max_downtime;
};

/// The reconnect schedule: exponential backoff with jitter, a server's `retry:` and
/// `Retry-After`, a stability window and give-up limits. Pure: time comes in as arguments and
/// randomness from an injected source, so it is exactly testable; nothing here reads a clock.
/// `Clock` provides the time point type only. Not thread-safe; a client uses it on its loop
/// thread.
template <typename Clock>
class basic_reconnect_policy {
public:
  /// The time points `connection_opened`, `connection_lost` and `next_delay` take.
  using time_point = typename Clock::time_point;
  /// Returns numbers uniform in [0, 1); values outside are clamped, NaN counts as 0.
  using random_source = std::function<double()>;

  /// Returns when `o` is usable; otherwise throws `usage_error` naming the first bad field and
  /// its value, e.g. `options.reconnect.multiplier: must be >= 1, got 0.5`.
  static void validate(const reconnect_options& o) {
    const auto fail = [](const char* field, const std::string& why) {
      throw usage_error(std::string("options.reconnect.") + field + ": " + why);
    };
    const auto not_negative = [&](const char* field, std::chrono::milliseconds value) {
      if (value.count() < 0) {
        fail(field, "must not be negative, got " + ms_text(value));
      }
    };
    not_negative("initial_delay", o.initial_delay);
    if (!(o.multiplier >= 1.0)) { // also NaN
      fail("multiplier", "must be >= 1, got " + number_text(o.multiplier));
    }
    if (!std::isfinite(o.multiplier)) {
      fail("multiplier", "must be finite, got " + number_text(o.multiplier));
    }
    not_negative("max_delay", o.max_delay);
    if (!(o.jitter >= 0.0 && o.jitter <= 1.0)) {
      fail("jitter", "must be in [0, 1], got " + number_text(o.jitter));
    }
    not_negative("min_retry", o.min_retry);
    if (o.max_retry < o.min_retry) {
      fail("max_retry",
           "must be >= min_retry (" + ms_text(o.min_retry) + "), got " + ms_text(o.max_retry));
    }
    not_negative("min_backoff", o.min_backoff);
    not_negative("reset_after", o.reset_after);
    if (o.max_attempts && *o.max_attempts == 0) {
      fail("max_attempts", "must be at least 1 (empty: no limit), got 0");
    }
    if (o.max_downtime && o.max_downtime->count() <= 0) {
      fail("max_downtime", "must be positive (empty: no limit), got " + ms_text(*o.max_downtime));
    }
  }

  /// A policy with nothing failed yet. Throws `usage_error` for bad options (see `validate`).
  /// Without `random`, jitter comes from a generator seeded once per process from
  /// `std::random_device`, each policy at a different point.
  explicit basic_reconnect_policy(reconnect_options options = {}, random_source random = {})
      : options_(std::move(options)), random_(std::move(random)) {
    validate(options_);
    if (!random_) {
      random_ = [state = next_seed()]() mutable {
        // splitmix64: 8 bytes of state per stream (an mt19937_64 is 2.5 KB), plenty for jitter.
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        return static_cast<double>(z >> 11) * 0x1.0p-53;
      };
    }
  }

  /// Takes a server's `retry:` field: clamped to [min_retry, max_retry], it becomes the base
  /// delay from the next reconnect on (the backoff exponent is kept). Survives `reset()`.
  void set_server_retry(std::chrono::milliseconds retry) {
    server_retry_ = std::clamp(retry, options_.min_retry, options_.max_retry);
  }

  /// The delay a first reconnect waits before jitter: the server's clamped retry, if one came,
  /// else `initial_delay`.
  std::chrono::milliseconds base_delay() const noexcept {
    return server_retry_.value_or(options_.initial_delay);
  }

  /// Records that the stream opened (200 + text/event-stream): the downtime clock restarts.
  /// Failures in a row and the backoff are kept until an event arrives or the connection proves
  /// stable (`reset_after`): a server that accepts and drops at once keeps the backoff growing.
  void connection_opened(time_point now) noexcept {
    opened_at_ = now;
    down_since_.reset();
  }

  /// Records that an open stream ended, for whatever reason; the downtime clock starts here.
  /// A connection that lasted at least `reset_after` forgets failures in a row and the backoff.
  void connection_lost(time_point now) noexcept {
    if (opened_at_ && now - *opened_at_ >= options_.reset_after) {
      forget_failures();
    }
    opened_at_.reset();
    down_since_ = now;
  }

  /// Records that the stream delivered an event: failures in a row and the backoff are
  /// forgotten, so the next reconnect waits the base delay (a browser's flat `retry:` wait).
  void event_delivered() noexcept { forget_failures(); }

  /// Schedules a reconnect (an attempt failed, or an open stream ended) and returns the delay
  /// before it, or empty to give up. With n the reconnects scheduled since failures were last
  /// forgotten, the delay is the base for n = 0, else the larger of `base * multiplier^n` and
  /// `min_backoff * multiplier^(n-1)`, capped by `max_delay` (a base above `max_delay` stays as it
  /// is); then the jitter, which never cuts a server's `retry:`; a `retry_after` (a server's
  /// Retry-After) raises it to `min(retry_after, max_delay)`. Gives up, changing nothing, when
  /// `attempt()` has reached `max_attempts`, or when the reconnect would start more than
  /// `max_downtime` after the stream was lost (or, never open, after the first call).
  std::optional<std::chrono::milliseconds>
  next_delay(time_point now, std::optional<std::chrono::milliseconds> retry_after = {}) {
    if (!down_since_) {
      down_since_ = now;
    }
    if (attempts_exhausted()) {
      return std::nullopt;
    }
    std::chrono::milliseconds delay = jittered(unjittered_delay());
    if (retry_after) {
      delay = std::max(delay, std::min(*retry_after, options_.max_delay));
    }
    if (options_.max_downtime) {
      // (now - down_since) + delay > max_downtime, arranged so the sum cannot overflow.
      const auto limit = *options_.max_downtime;
      if (delay > limit || now - *down_since_ > limit - delay) {
        return std::nullopt;
      }
    }
    ++attempt_;
    if (backoff_exponent_ < max_exponent) {
      ++backoff_exponent_;
    }
    return delay;
  }

  /// Reconnects scheduled in a row since an event was last delivered (or the connection proved
  /// stable): 0 when fresh.
  unsigned attempt() const noexcept { return attempt_; }

  /// Forgets failures, backoff and downtime (e.g. a restart that resets the backoff); keeps the
  /// server's retry.
  void reset() noexcept {
    forget_failures();
    down_since_.reset();
  }

  /// The options this policy was built with.
  const reconnect_options& options() const noexcept { return options_; }

private:
  // Saturates instead of wrapping around to 0 (which would drop the delay back to the base).
  static constexpr unsigned max_exponent = std::numeric_limits<unsigned>::max();

  static std::string ms_text(std::chrono::milliseconds value) {
    return std::to_string(value.count()) + " ms";
  }

  // Shortest readable form ("0.5", not "0.500000"), whatever the global locale says.
  static std::string number_text(double value) {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out << value;
    return out.str();
  }

  // Distinct seeds for every policy in the process, from one random_device read.
  static std::uint64_t next_seed() {
    static std::atomic<std::uint64_t> seed{
        (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()};
    return seed.fetch_add(0x632BE59BD9B4E019ULL);
  }

  bool attempts_exhausted() const noexcept {
    return options_.max_attempts && attempt_ >= *options_.max_attempts;
  }

  void forget_failures() noexcept {
    attempt_ = 0;
    backoff_exponent_ = 0;
  }

  std::chrono::milliseconds unjittered_delay() const noexcept {
    const std::chrono::milliseconds base = base_delay();
    if (backoff_exponent_ == 0) {
      return base;
    }
    // A base above the cap is used as it is (a server asked for it); only growth is capped.
    const std::chrono::milliseconds limit = std::max(options_.max_delay, base);
    // In doubles: base * multiplier^n may be infinite, never wraps around. Failures in a row
    // also grow from the floor (min_backoff, then min_backoff * multiplier...), so that a base
    // of 0 still backs off.
    const double n = static_cast<double>(backoff_exponent_);
    const double grown = static_cast<double>(base.count()) * std::pow(options_.multiplier, n);
    const double floor =
        static_cast<double>(options_.min_backoff.count()) * std::pow(options_.multiplier, n - 1);
    // 0 * infinity is NaN: a zero base or floor contributes nothing.
    const double delay =
        std::max(base.count() == 0 ? 0.0 : grown, options_.min_backoff.count() == 0 ? 0.0 : floor);
    if (!(delay < static_cast<double>(limit.count()))) {
      return limit; // exact, also when the limit does not survive a round trip through double
    }
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(delay));
  }

  // The part of `delay` jitter may not take: a server's retry (it asked for at least that) and,
  // once failures grow the delay, the backoff floor.
  std::chrono::milliseconds kept_from_jitter(std::chrono::milliseconds delay) const noexcept {
    std::chrono::milliseconds kept = server_retry_.value_or(std::chrono::milliseconds(0));
    if (backoff_exponent_ != 0) {
      kept = std::max(kept, options_.min_backoff);
    }
    return std::min(kept, delay);
  }

  std::chrono::milliseconds jittered(std::chrono::milliseconds delay) {
    const std::chrono::milliseconds kept = kept_from_jitter(delay);
    if (options_.jitter <= 0.0 || delay <= kept) {
      return delay;
    }
    double u = random_();
    u = u > 0.0 ? std::min(u, 1.0) : 0.0; // also NaN
    const double spread = static_cast<double>((delay - kept).count());
    const double value = static_cast<double>(delay.count()) - spread * options_.jitter * u;
    if (!(value < static_cast<double>(delay.count()))) {
      return delay;
    }
    const auto rounded = std::chrono::milliseconds(
        static_cast<std::chrono::milliseconds::rep>(std::llround(std::max(value, 0.0))));
    return std::max(rounded, kept);
  }

  reconnect_options options_;
  random_source random_;
  std::optional<std::chrono::milliseconds> server_retry_;
  unsigned attempt_ = 0;
  unsigned backoff_exponent_ = 0;
  std::optional<time_point> opened_at_;
  std::optional<time_point> down_since_;
};

/// The policy clients use, on the steady clock.
using reconnect_policy = basic_reconnect_policy<std::chrono::steady_clock>;

SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_RECONNECT_POLICY_HPP
