// SPDX-License-Identifier: MIT
// The loop thread's own timers: by time, then by the order they were added, each cancellable
// by id in O(log n). Not thread-safe: only the loop's thread touches it.
#ifndef SSE_CLIENT_DETAIL_TIMER_QUEUE_HPP
#define SSE_CLIENT_DETAIL_TIMER_QUEUE_HPP

#include <sse/version.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE

namespace detail {

class timer_queue {
public:
  using clock = std::chrono::steady_clock;
  using task = std::function<void()>;
  using timer_id = std::uint64_t;

  /// Runs `t` at `when` (from `run_due`) unless cancelled first. Ids are never reused.
  timer_id add(clock::time_point when, task t) {
    const timer_id id = ++last_id_;
    timers_.emplace(std::make_pair(when, id), std::move(t));
    times_.emplace(id, when);
    return id;
  }

  /// Forgets a timer; one that already ran or was cancelled is ignored.
  void cancel(timer_id id) noexcept {
    const auto found = times_.find(id);
    if (found != times_.end()) {
      timers_.erase(std::make_pair(found->second, id));
      times_.erase(found);
    }
  }

  /// When the first timer is due, if there is one.
  std::optional<clock::time_point> next() const {
    if (timers_.empty()) {
      return std::nullopt;
    }
    return timers_.begin()->first.first;
  }

  bool has_due(clock::time_point now) const { return !timers_.empty() && *next() <= now; }

  /// Runs the timers due at `now`, in order. Bounded: a timer one of them adds for "now" runs
  /// at the next call, so a timer that re-arms itself cannot hold the loop.
  void run_due(clock::time_point now) {
    std::size_t budget = timers_.size();
    while (budget-- > 0 && has_due(now)) {
      auto node = timers_.extract(timers_.begin());
      times_.erase(node.key().second);
      node.mapped()();
    }
  }

  /// Drops every timer. The functions are returned so that the caller destroys them when it
  /// chooses (they may hold the last reference to something that reaches back to the loop).
  std::map<std::pair<clock::time_point, timer_id>, task> take_all() {
    times_.clear();
    return std::exchange(timers_, {});
  }

private:
  timer_id last_id_ = 0;
  std::map<std::pair<clock::time_point, timer_id>, task> timers_;
  std::unordered_map<timer_id, clock::time_point> times_;
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_TIMER_QUEUE_HPP
