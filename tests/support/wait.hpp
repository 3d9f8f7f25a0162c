// SPDX-License-Identifier: MIT
// Waiting on conditions with deadlines, and collecting values from other threads, for tests.
#ifndef SSE_CLIENT_TESTS_SUPPORT_WAIT_HPP
#define SSE_CLIENT_TESTS_SUPPORT_WAIT_HPP

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace sse_test {

/// Returns true as soon as `pred()` is true, or `pred()`'s value at the deadline. Polls about
/// every millisecond on the calling thread; `pred` must be safe to call concurrently with
/// whatever it observes (atomics, or a `recorder`). Use as
/// `REQUIRE(wait_until([&] { return n >= 3; }, 2s));`.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Ends at the deadline: each pass sleeps ~1 ms and the clock is monotonic.
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return pred();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// Thread-safe list that callbacks on other threads push into and the test reads. Every
/// member may be called from any thread.
template <class T>
class recorder {
public:
  /// Appends `value` and wakes `wait_for_size` callers.
  void push(T value) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      values_.push_back(std::move(value));
    }
    changed_.notify_all();
  }

  /// Number of values pushed so far.
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return values_.size();
  }

  /// A copy of every value pushed so far, in push order.
  std::vector<T> snapshot() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return values_;
  }

  /// True once at least `n` values have been pushed; false if `timeout` passes first.
  bool wait_for_size(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return values_.size() >= n; });
  }

  /// Forgets every value (e.g. between the phases of one test).
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    values_.clear();
  }

private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<T> values_;
};

} // namespace sse_test
#endif // SSE_CLIENT_TESTS_SUPPORT_WAIT_HPP
