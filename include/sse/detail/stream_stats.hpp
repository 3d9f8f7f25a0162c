// SPDX-License-Identifier: MIT
// A stream's figures for client::stats(): counted on the loop thread, read from any thread.
#ifndef SSE_CLIENT_DETAIL_STREAM_STATS_HPP
#define SSE_CLIENT_DETAIL_STREAM_STATS_HPP

#include <sse/error.hpp>
#include <sse/stats.hpp>
#include <sse/version.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// The counters behind `client_stats`. The loop thread writes; `snapshot()` reads from any.
class stream_stats {
public:
  using clock = std::chrono::steady_clock;

  // The hot counters are relaxed atomics that only the loop thread writes: a plain store, no
  // locked increment.
  void count_event() noexcept { bump(events_, 1); }
  void count_bytes(std::size_t n) noexcept { bump(bytes_, n); }
  void count_attempt() noexcept { attempts_.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t events() const noexcept { return events_.load(std::memory_order_relaxed); }
  std::uint64_t attempts() const noexcept { return attempts_.load(std::memory_order_relaxed); }

  void started(clock::time_point now) {
    std::lock_guard<std::mutex> lock(mutex_);
    started_at_ = now;
  }

  void opened(clock::time_point now) {
    opens_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mutex_);
    open_since_ = now;
  }

  /// The connection that was open, if any, is gone.
  void disconnected(clock::time_point now) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (open_since_) {
      connected_total_ += now - *open_since_;
      open_since_.reset();
    }
  }

  void ended(clock::time_point now) {
    disconnected(now);
    std::lock_guard<std::mutex> lock(mutex_);
    ended_at_ = now;
  }

  void reconnect_scheduled() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.reconnects;
  }

  void failed(const error& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.failures;
    if (e.code.category() == error_category()) {
      const auto index = static_cast<std::size_t>(e.code.value());
      if (index < stats_.failures_by_code.size()) {
        ++stats_.failures_by_code[index];
      }
    }
    stats_.last_error = e;
    stats_.last_error_time = std::chrono::system_clock::now();
  }

  client_stats snapshot() const {
    client_stats s;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      s = stats_;
      const auto now = ended_at_.value_or(clock::now());
      auto connected = connected_total_;
      if (open_since_) {
        connected += now - *open_since_;
      }
      s.connected = std::chrono::duration_cast<std::chrono::milliseconds>(connected);
      if (started_at_) {
        s.disconnected =
            std::chrono::duration_cast<std::chrono::milliseconds>(now - *started_at_) - s.connected;
      }
    }
    s.events = events_.load(std::memory_order_relaxed);
    s.bytes = bytes_.load(std::memory_order_relaxed);
    s.attempts = attempts_.load(std::memory_order_relaxed);
    s.opens = opens_.load(std::memory_order_relaxed);
    return s;
  }

private:
  static void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  std::atomic<std::uint64_t> events_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> attempts_{0};
  std::atomic<std::uint64_t> opens_{0};
  mutable std::mutex mutex_; // guards the members below
  client_stats stats_;       // reconnects, failures, the last error
  clock::duration connected_total_{0};
  std::optional<clock::time_point> open_since_;
  std::optional<clock::time_point> started_at_;
  std::optional<clock::time_point> ended_at_;
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_STREAM_STATS_HPP
