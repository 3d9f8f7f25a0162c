// SPDX-License-Identifier: MIT
// The parser's two events that take turns: one being built, one dispatched last.
#ifndef SSE_CLIENT_DETAIL_EVENT_SLOTS_HPP
#define SSE_CLIENT_DETAIL_EVENT_SLOTS_HPP

#include <sse/event.hpp>
#include <sse/version.hpp>

#include <cstddef>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// Two events and which is which. Held as two pointers rather than an index: the parser reaches
/// the event it builds several times per line, and a pointer costs one load where an index
/// costs a load, a multiply and an add, redone after every byte the parser writes (a char
/// store may alias the index). A copy or move points into its own events.
class event_slots {
public:
  event_slots() = default;
  event_slots(const event_slots& other) : slots_{other.slots_[0], other.slots_[1]} {
    point_as(other);
  }
  event_slots(event_slots&& other) noexcept
      : slots_{std::move(other.slots_[0]), std::move(other.slots_[1])} {
    point_as(other);
  }
  event_slots& operator=(const event_slots& other) {
    if (this != &other) {
      slots_[0] = other.slots_[0];
      slots_[1] = other.slots_[1];
      point_as(other);
    }
    return *this;
  }
  event_slots& operator=(event_slots&& other) noexcept {
    if (this != &other) {
      slots_[0] = std::move(other.slots_[0]);
      slots_[1] = std::move(other.slots_[1]);
      point_as(other);
    }
    return *this;
  }
  ~event_slots() = default;

  /// The event dispatched last: its id is the WHATWG last event ID string.
  event& committed() noexcept { return *committed_; }
  const event& committed() const noexcept { return *committed_; }
  /// The event being built: its data, type and id are the WHATWG buffers.
  event& pending() noexcept { return *pending_; }
  const event& pending() const noexcept { return *pending_; }

  /// The built event becomes the committed one, and the old committed one is built next.
  void swap_roles() noexcept { std::swap(committed_, pending_); }

private:
  void point_as(const event_slots& other) noexcept {
    const std::size_t committed = other.committed_ == &other.slots_[0] ? 0 : 1;
    committed_ = &slots_[committed];
    pending_ = &slots_[committed ^ 1U];
  }

  event slots_[2];
  event* committed_ = &slots_[0];
  event* pending_ = &slots_[1];
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_EVENT_SLOTS_HPP
