// SPDX-License-Identifier: MIT
// When to reconnect: exponential backoff with jitter, server retry:, Retry-After, limits.
#ifndef SSE_CLIENT_RECONNECT_POLICY_HPP
#define SSE_CLIENT_RECONNECT_POLICY_HPP

#include <sse/error.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>

namespace sse {

/// How a client waits between attempts. Every default is here.
struct reconnect_options {
  /// Delay before the first reconnect; a server's `retry:` field replaces it.
  std::chrono::milliseconds initial_delay{3000};
  /// Each consecutive failure multiplies the delay by this (>= 1).
  double multiplier = 2.0;
  /// Cap on the backoff, and on a server's `Retry-After`.
  std::chrono::milliseconds max_delay{30000};
  /// Share of each delay that is randomised, in [0, 1]: the delay becomes
  /// `delay - delay * jitter * u` with u uniform in [0, 1). Applied after the cap.
  double jitter = 0.5;
  /// Floor for a server's `retry:` value (a server cannot make clients hammer it).
  std::chrono::milliseconds min_retry{0};
  /// Cap for a server's `retry:` value.
  std::chrono::milliseconds max_retry{std::chrono::hours(24)};
  /// A connection that stayed open this long resets the backoff to the base delay.
  std::chrono::milliseconds reset_after{60000};
  /// Consecutive failed attempts after which the client gives up; empty: never.
  std::optional<unsigned> max_attempts;
  /// Time without an open stream after which the client gives up; empty: never.
  std::optional<std::chrono::milliseconds> max_downtime;
};

/// The reconnect schedule. Pure: time comes in as arguments and randomness from an injected
/// source, so it is exactly testable. `Clock` provides the time point type only.
/// Not thread-safe; a client uses it on its loop thread.
template <typename Clock>
class basic_reconnect_policy {
public:
  using time_point = typename Clock::time_point;
  /// Returns numbers uniform in [0, 1).
  using random_source = std::function<double()>;

  /// Throws `usage_error` naming the first bad field.
  static void validate(const reconnect_options& o) {
    const auto fail = [](const std::string& field, const std::string& why) {
      throw usage_error("options.reconnect." + field + ": " + why);
    };
    if (o.initial_delay.count() < 0) {
      fail("initial_delay", "must not be negative, got " + std::to_string(o.initial_delay.count()));
    }
    if (!(o.multiplier >= 1.0) || !std::isfinite(o.multiplier)) {
      fail("multiplier", "must be >= 1, got " + std::to_string(o.multiplier));
    }
    if (o.max_delay.count() < 0) {
      fail("max_delay", "must not be negative, got " + std::to_string(o.max_delay.count()));
    }
    if (!(o.jitter >= 0.0 && o.jitter <= 1.0)) {
      fail("jitter", "must be in [0, 1], got " + std::to_string(o.jitter));
    }
    if (o.min_retry.count() < 0) {
      fail("min_retry", "must not be negative, got " + std::to_string(o.min_retry.count()));
    }
    if (o.max_retry < o.min_retry) {
      fail("max_retry", "must not be below min_retry");
    }
    if (o.reset_after.count() < 0) {
      fail("reset_after", "must not be negative");
    }
    if (o.max_attempts && *o.max_attempts == 0) {
      fail("max_attempts", "must be positive, or empty for no limit");
    }
    if (o.max_downtime && o.max_downtime->count() <= 0) {
      fail("max_downtime", "must be positive, or empty for no limit");
    }
  }

  explicit basic_reconnect_policy(reconnect_options options = {}, random_source random = {})
      : options_(std::move(options)), random_(std::move(random)) {
    validate(options_);
    if (!random_) {
      random_ = [state = next_seed()]() mutable {
        // splitmix64: 8 bytes of state per policy, plenty for jitter.
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        return static_cast<double>(z >> 11) * 0x1.0p-53;
      };
    }
  }

  /// A server's `retry:` field: clamped to [min_retry, max_retry], it becomes the base delay.
  void set_server_retry(std::chrono::milliseconds retry) {
    server_retry_ = std::clamp(retry, options_.min_retry, options_.max_retry);
  }

  /// The delay a first reconnect waits before jitter: the server's retry or `initial_delay`.
  std::chrono::milliseconds base_delay() const noexcept {
    return server_retry_.value_or(options_.initial_delay);
  }

  /// The stream opened (a 200 text/event-stream response).
  void connection_opened(time_point now) noexcept {
    opened_at_ = now;
    attempt_ = 0;
    down_since_.reset();
  }

  /// An open stream ended, for whatever reason. A connection that lasted `reset_after` resets
  /// the backoff; a shorter one keeps it growing (a server that accepts and drops at once).
  void connection_lost(time_point now) noexcept {
    if (opened_at_ && now - *opened_at_ >= options_.reset_after) {
      backoff_exponent_ = 0;
    }
    opened_at_.reset();
    down_since_ = now;
  }

  /// A reconnect is wanted (an attempt failed, or an open stream ended). Returns the delay
  /// before it, or empty to give up: after `max_attempts` consecutive failed attempts (so with
  /// 3, three reconnects are scheduled and the fourth call gives up), or when the stream has
  /// been down for `max_downtime` by the time the delay would end. `retry_after` (a server's
  /// Retry-After) is honoured up to `max_delay`: the delay is the larger of it and the backoff.
  std::optional<std::chrono::milliseconds>
  next_delay(time_point now, std::optional<std::chrono::milliseconds> retry_after = {}) {
    if (!down_since_) {
      down_since_ = now;
    }
    if (options_.max_attempts && attempt_ >= *options_.max_attempts) {
      return std::nullopt;
    }
    std::chrono::milliseconds delay = jittered(unjittered_delay());
    if (retry_after) {
      delay = std::max(delay, std::min(*retry_after, options_.max_delay));
    }
    if (options_.max_downtime && (now - *down_since_) + delay >= *options_.max_downtime) {
      return std::nullopt;
    }
    ++attempt_;
    ++backoff_exponent_;
    return delay;
  }

  /// The delay the next `next_delay` would use, before jitter and Retry-After.
  std::chrono::milliseconds peek_delay() const noexcept { return unjittered_delay(); }

  /// Consecutive failed attempts (reconnects scheduled) since the stream was last open.
  unsigned attempt() const noexcept { return attempt_; }

  /// Forgets failures and backoff (a caller's restart); keeps the server's retry.
  void reset() noexcept {
    attempt_ = 0;
    backoff_exponent_ = 0;
    down_since_.reset();
  }

  const reconnect_options& options() const noexcept { return options_; }

private:
  // Distinct seeds for every policy in the process, from one random_device read.
  static std::uint64_t next_seed() {
    static std::atomic<std::uint64_t> seed{
        (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()};
    return seed.fetch_add(0x632BE59BD9B4E019ULL);
  }

  std::chrono::milliseconds unjittered_delay() const noexcept {
    const double base = static_cast<double>(base_delay().count());
    const double cap = static_cast<double>(options_.max_delay.count());
    // In doubles and clamped: no overflow however many failures came before. A server's retry
    // above max_delay is honoured as it is; only the growth is capped.
    double delay = base * std::pow(options_.multiplier, static_cast<double>(backoff_exponent_));
    if (!(delay <= std::max(cap, base))) {
      delay = std::max(cap, base);
    }
    return std::chrono::milliseconds(static_cast<long long>(delay));
  }

  std::chrono::milliseconds jittered(std::chrono::milliseconds delay) {
    if (options_.jitter <= 0.0 || delay.count() == 0) {
      return delay;
    }
    const double u = std::clamp(random_(), 0.0, 1.0);
    const double value = static_cast<double>(delay.count()) * (1.0 - options_.jitter * u);
    return std::chrono::milliseconds(static_cast<long long>(std::llround(value)));
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

} // namespace sse
#endif // SSE_CLIENT_RECONNECT_POLICY_HPP
