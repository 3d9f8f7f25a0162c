// SPDX-License-Identifier: MIT
// The path of a stream's bytes: from libcurl's write callback through the parser to the
// listeners, with the ready state and the last event ID that other threads read.
#ifndef SSE_CLIENT_DETAIL_DELIVERY_HPP
#define SSE_CLIENT_DETAIL_DELIVERY_HPP

#include <sse/detail/callbacks.hpp>
#include <sse/detail/inline.hpp>
#include <sse/detail/listeners.hpp>
#include <sse/detail/short_string.hpp>
#include <sse/detail/stream_stats.hpp>
#include <sse/error.hpp>
#include <sse/event.hpp>
#include <sse/event_loop.hpp>
#include <sse/options.hpp>
#include <sse/parser.hpp>
#include <sse/state.hpp>
#include <sse/version.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

SSE_CLIENT_BEGIN_NAMESPACE
namespace detail {

/// The base of `stream` that turns bytes into calls of its listeners. Loop thread, except where
/// marked.
class stream_delivery : public stream_callbacks {
public:
  /// Any thread.
  sse::ready_state state() const noexcept { return state_.load(); }

  /// Any thread: the ID of the last event whose listeners have returned.
  std::string last_event_id() const {
    if (home_loop_.in_loop_thread()) {
      return parser_.last_event_id();
    }
    std::lock_guard<std::mutex> lock(shared_mutex_);
    return shared_last_event_id_;
  }

  /// The options the stream was built with.
  const client_options& options() const noexcept { return options_; }

protected:
  stream_delivery(client_options options, const loop_core& loop, const std::atomic<bool>& loop_gone)
      : stream_callbacks(loop, loop_gone), options_(std::move(options)),
        parser_(parser_options{options_.max_event_size}) {
    parser_.set_last_event_id(options_.last_event_id);
    shared_last_event_id_ = options_.last_event_id;
    published_last_event_id_ = options_.last_event_id;
    parser_.on_comment([this](std::string_view text) { deliver_comment(text); });
    parser_.on_unknown_field([this](std::string_view name, std::string_view value) {
      if (!closed_.load() && !restart_requested_) {
        notify(fields_, name, value);
      }
    });
  }

  stream_delivery(const stream_delivery&) = delete;
  stream_delivery& operator=(const stream_delivery&) = delete;
  ~stream_delivery() = default;

  // A chunk of the body of an open stream: parsed, its events delivered. Returns the parser's
  // error, if it stopped.
  std::error_code deliver(std::string_view bytes) {
    counters_.count_bytes(bytes.size());
    // The only event listener, if there is one, is marked running for the whole chunk, so its
    // events need no store each (off() of it waits for the chunk: microseconds).
    chunk_listener_ = events_.sole_ref();
    running_scope scope(*this, chunk_listener_);
    const std::error_code failure = parser_.feed_to(bytes, event_delivery{this});
    chunk_listener_ = nullptr;
    return failure;
  }

  void deliver_error(const error& e) {
    counters_.failed(e);
    in_error_callback_ = true;
    notify(errors_, e);
    in_error_callback_ = false;
  }

  // The parser's event sink: deliver_event, which the compiler builds into the parser's loop.
  struct event_delivery {
    stream_delivery* self;
    SSE_CLIENT_ALWAYS_INLINE void operator()(parser&, const event& e) const {
      self->deliver_event(e);
    }
  };

  // Runs inside the running_scope that on_body holds for the whole chunk, marking the only event
  // listener as running: an event costs no atomic read-modify-write and no locked store.
  SSE_CLIENT_ALWAYS_INLINE void deliver_event(const event& e) {
    // Only this thread writes the counter: a plain store, no locked increment.
    counters_.count_event();
    // Either ends the delivery: one branch for both (ordering comes from deliver_to's checks).
    const bool closed = closed_.load(std::memory_order_relaxed);
    const bool loop_gone = loop_gone_.load(std::memory_order_relaxed);
    if (closed | loop_gone) {
      parser_.halt();
      return;
    }
    // No other call of current() on this list can come while the loop iterates (a listener
    // cannot feed the parser), so the list need not be pinned per event.
    auto* const only = events_.sole_ref();
    if (only != nullptr && only == chunk_listener_ && !options_.is_terminal) {
      // The usual client: one listener, marked running for the chunk, and nothing to do after
      // it, by the shortest path.
      deliver_to<true>(*only, e);
      return;
    }
    deliver_to_all(events_.current_ref(), e);
  }

  // Every listener of the event in turn, then the terminal-event check. Out of line: the loop
  // and the check keep state across the calls, which the one-listener path should not pay for.
  // A close() or restart() from one listener takes effect after the others had the event, as a
  // browser finishes dispatching an event.
  SSE_CLIENT_NOINLINE void deliver_to_all(const listener_list<listener>::snapshot& items,
                                          const event& e) {
    for (const auto& item : items) {
      deliver_to<false>(*item, e);
    }
    if (options_.is_terminal && !closed_.load()) {
      bool terminal = false;
      run_hook([&] {
        try {
          terminal = options_.is_terminal(e);
        } catch (...) {
          report_listener_exception("is_terminal threw");
        }
      });
      if (terminal) {
        terminal_seen_ = true;
        parser_.halt();
        closed_.store(true); // nothing after the terminal event is delivered
      }
    }
  }

  // One event listener: called unless its type differs, or the client or the listener went away
  // (possibly in an earlier listener of the same event). The chunk's only listener is already
  // marked running (see on_body); any other is marked around its call.
  template <bool Only>
  SSE_CLIENT_ALWAYS_INLINE void deliver_to(listener_list<listener>::entry& item, const event& e) {
    // A "message" listener matches without a comparison while the stream had no event field:
    // every type is "message" until then.
    if (!item.any_type && !(item.message_type && !parser_.types_seen()) &&
        !equal_short(item.type, e.type)) {
      return;
    }
    if (Only) {
      if (!detached_.load() && item.active.load()) {
        invoke(item.callback, e);
      }
      return;
    }
    running_scope scope(*this, &item);
    if (!detached_.load() && item.active.load()) {
      invoke(item.callback, e);
    }
  }

  void deliver_comment(std::string_view text) {
    if (!closed_.load() && !restart_requested_) {
      notify(comments_, text);
    }
  }

  // Never leaves `closed`: close() on another thread stores it at once, and a response that
  // arrives meanwhile must not bring `open` back. Listeners hear each state once, in order.
  void set_state(sse::ready_state next) {
    sse::ready_state current = state_.load();
    while (current != next && current != ready_state::closed &&
           !state_.compare_exchange_weak(current, next)) {
    }
    if (state_.load() == next && notified_state_ != next) {
      notified_state_ = next;
      notify(state_changes_, next);
    }
  }

  // Copies the id for other threads once per chunk, after its listeners returned: another
  // thread never sees the id of an event still being handled (a checkpoint taken from it
  // resumes at worst a few events early, never late). The comparison needs no lock because
  // only this thread writes `published_last_event_id_`.
  // Returns whether the id changed.
  bool publish_last_event_id() {
    const std::string& id = parser_.last_event_id();
    if (published_last_event_id_ == id) {
      return false;
    }
    published_last_event_id_ = id;
    std::lock_guard<std::mutex> lock(shared_mutex_);
    shared_last_event_id_ = id;
    return true;
  }

  const client_options options_;
  parser parser_;
  stream_stats counters_;
  std::atomic<bool> closed_{false}; // no more events: close(), destructor, terminal event, end
  std::atomic<sse::ready_state> state_{ready_state::connecting};
  bool restart_requested_ = false; // this connection is being dropped for a new one
  bool terminal_seen_ = false;     // options_.is_terminal said so: the stream ends
  bool in_error_callback_ = false; // an error listener runs: what it throws is not reported

private:
  sse::ready_state notified_state_ = ready_state::connecting; // the last one notified
  listener_list<listener>::entry* chunk_listener_ = nullptr;  // marked running for this chunk
  std::string published_last_event_id_;
  mutable std::mutex shared_mutex_;
  std::string shared_last_event_id_; // guarded by shared_mutex_
};

} // namespace detail
SSE_CLIENT_END_NAMESPACE
#endif // SSE_CLIENT_DETAIL_DELIVERY_HPP
