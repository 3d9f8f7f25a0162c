// SPDX-License-Identifier: MIT
// The callbacks registered on a client: added and removed from any thread, called on the loop's.
#ifndef SSE_CLIENT_DETAIL_LISTENERS_HPP
#define SSE_CLIENT_DETAIL_LISTENERS_HPP

#include <sse/detail/inline.hpp>
#include <sse/event.hpp>
#include <sse/listener.hpp>
#include <sse/version.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

SSE_CLIENT_BEGIN_NAMESPACE

namespace detail {

/// One registered callback. `active` turns false when it is removed, so a snapshot taken before
/// the removal no longer calls it.
template <typename Callback>
struct listener_entry {
  listener_id id{};
  bool any_type = false;     // event listeners only: called for every type
  bool message_type = false; // event listeners only: `type` is "message"
  std::string type;          // event listeners only
  Callback callback;
  std::atomic<bool> active{true};
};

/// A list of callbacks of one signature. Registration takes a mutex and publishes a new
/// immutable snapshot; the loop thread re-reads the snapshot only when its version changed, so
/// dispatching an event takes no lock.
template <typename Callback>
class listener_list {
public:
  using entry = listener_entry<Callback>;
  using snapshot = std::vector<std::shared_ptr<entry>>;

  void add(listener_id id, Callback callback, std::string type = {}, bool any_type = false) {
    auto item = std::make_shared<entry>();
    item->id = id;
    item->type = std::move(type);
    item->any_type = any_type;
    item->message_type = !any_type && item->type == "message";
    item->callback = std::move(callback);
    std::lock_guard<std::mutex> lock(mutex_);
    auto next = std::make_shared<snapshot>(*current_);
    next->push_back(std::move(item));
    current_ = std::move(next);
    version_.fetch_add(1, std::memory_order_release);
  }

  /// Takes `id` out of the list; returns its entry (null when it was not here), whose callback
  /// no snapshot calls any more. The caller releases it, and with it perhaps the callback's
  /// captures, with no lock held: their destructors may call on() or off().
  std::shared_ptr<const void> remove(listener_id id) noexcept {
    std::shared_ptr<const snapshot> old;
    std::shared_ptr<entry> removed;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& item : *current_) {
        if (item->id == id) {
          removed = item;
          break;
        }
      }
      if (!removed) {
        return nullptr;
      }
      removed->active.store(false);
      try {
        auto next = std::make_shared<snapshot>();
        for (const auto& other : *current_) {
          if (other != removed) {
            next->push_back(other);
          }
        }
        old = std::exchange(current_, std::move(next));
      } catch (...) {
        // Out of memory: the entry stays listed but inactive, which is just as correct.
      }
      version_.fetch_add(1, std::memory_order_release);
    }
    return removed;
  }

  /// Removes every callback; their captures are destroyed after the lock is released.
  void clear() noexcept {
    std::shared_ptr<const snapshot> old;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& item : *current_) {
        item->active.store(false);
      }
      try {
        old = std::exchange(current_, std::make_shared<snapshot>());
      } catch (...) {
        // Out of memory: the entries stay listed but inactive.
      }
      version_.fetch_add(1, std::memory_order_release);
    }
  }

  /// Loop thread: the current callbacks, re-read only when they changed. Hold the pointer while
  /// iterating: a callback may register another listener meanwhile.
  std::shared_ptr<const snapshot> current() {
    refresh();
    return cached_;
  }

  /// Loop thread: as current(), without pinning the list (no reference count per call). Valid
  /// until the next current() or current_ref() of this list, so only for a loop whose callbacks
  /// cannot lead to either.
  const snapshot& current_ref() {
    refresh();
    return *cached_;
  }

  /// Loop thread: the one callback while there is exactly one, else null; valid as long as
  /// current_ref()'s list.
  entry* sole_ref() {
    refresh();
    return sole_;
  }

private:
  void refresh() {
    const std::uint64_t version = version_.load(std::memory_order_acquire);
    if (version != cached_version_) {
      take_current(version);
    }
  }

  // Out of line: the per-event caller stays small when the list did not change.
  // The list replaced may hold the last reference to a removed callback: it is released after
  // the lock, so the callback's captures are destroyed with no lock held.
  SSE_CLIENT_NOINLINE void take_current(std::uint64_t version) {
    std::shared_ptr<const snapshot> old;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      old = std::exchange(cached_, current_);
      cached_version_ = version;
      sole_ = cached_->size() == 1 ? cached_->front().get() : nullptr;
    }
  }

  std::mutex mutex_;
  std::shared_ptr<const snapshot> current_ = std::make_shared<snapshot>();
  std::atomic<std::uint64_t> version_{0};
  // Loop thread only:
  std::shared_ptr<const snapshot> cached_ = current_;
  std::uint64_t cached_version_ = 0;
  entry* sole_ = nullptr; // the only entry of cached_, if it has one
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_LISTENERS_HPP
